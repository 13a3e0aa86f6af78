"""How many feeds name a usable WebSub hub, measured on the corpus (issue 19, for `make cost`).

Every feed document in `../shared/corpus/` (crypto-2026-10-03 and real-feeds, the corpora
`devtools.freshness` simulates polling on) goes through the fetcher's own `websub.discovery.
discover`, so a hub counts only when the fetcher would subscribe to it: CoinDesk's
`rel="hub" href="true"` is refused ("relative"), as are other junk hubs. Only the body is read
(the corpus has no response headers), and the hub's address is not resolved (no network here):
a hub on a private address would still count, though the fetcher would refuse it.

    python -m devtools.hub_share
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "shared") not in sys.path:
    sys.path.insert(0, str(ROOT / "shared"))

from newsroom.websub.discovery import discover  # noqa: E402

CORPORA = (ROOT.parent / "shared" / "corpus" / "crypto-2026-10-03", ROOT.parent / "shared" / "corpus" / "real-feeds")


@dataclass(frozen=True, slots=True)
class HubShare:
    feeds: int  # feed documents read
    pushed: tuple[str, ...]  # the documents naming a usable hub
    refused: tuple[tuple[str, str, str], ...]  # (document, href, reason) of every hub link refused

    @property
    def share(self) -> float:
        return len(self.pushed) / self.feeds if self.feeds else 0.0


def measure_hub_share(corpora: Sequence[Path] = CORPORA) -> HubShare:
    feeds = 0
    pushed: list[str] = []
    refused: list[tuple[str, str, str]] = []
    for folder in corpora:
        for path in sorted(folder.glob("*.xml")):
            feeds += 1
            name = f"{folder.name}/{path.name}"
            # The topic defaults to the URL the feed was fetched from; the corpus has none, so a
            # stand-in that discovery may resolve a relative href against (and must refuse it).
            found = discover(path.read_bytes(), {}, f"https://feed.example/{path.name}")
            if found.pushed:
                pushed.append(name)
            refused.extend((name, r.href[:80], r.reason) for r in found.refused)
    return HubShare(feeds, tuple(pushed), tuple(refused))


def main() -> int:
    hubs = measure_hub_share()
    print(f"{len(hubs.pushed)} of {hubs.feeds} corpus feeds name a usable WebSub hub ({hubs.share:.1%}):")
    for name in hubs.pushed:
        print(f"  {name}")
    for name, href, reason in hubs.refused:
        print(f"  refused in {name}: {href!r} ({reason})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
