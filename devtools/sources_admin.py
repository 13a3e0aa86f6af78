"""Manage the source registry (DynamoDB) from a terminal.

    python -m devtools.sources_admin list
    python -m devtools.sources_admin add --id coinjournal --name "CoinJournal" \\
        --feed-url https://coinjournal.net/feed/ --homepage https://coinjournal.net --rights excerpt
    python -m devtools.sources_admin disable coinjournal
    python -m devtools.sources_admin enable coinjournal
    python -m devtools.sources_admin remove coinjournal
    python -m devtools.sources_admin import-opml subscriptions.opml
    python -m devtools.sources_admin export-opml > sources.opml
    python -m devtools.sources_admin seed          # (re)seed from the layer's sources file

It talks to the table named by TABLE_NAME with the usual AWS credentials (AWS_ENDPOINT_URL
points it at moto). Writes are marked `origin = admin`, so seeding from the repo file never
overwrites them. Enabling a source also clears a 410 "gone" mark from its state.

`disable` and `remove` end the source's live WebSub subscription (`websub.subscriber.
end_subscription`: hub.mode=unsubscribe, WebSub 5.1), since a source that is no longer polled is
never unsubscribed by the fetcher. The hub must be sent the callback URL it subscribed, built on
`--callback-base` or WEBSUB_CALLBACK_BASE_URL (the API stage's URL); with neither, the command
says the hub was not told and the lease lapses on its own. Hub requests follow the fetcher's
address rules (ALLOW_PRIVATE_NETWORK as configured).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "shared") not in sys.path:
    sys.path.insert(0, str(ROOT / "shared"))

from newsroom.core.config import load_sources, settings  # noqa: E402
from newsroom.core.models import Category, Rights, Source, SourceRole, SourceState, iso  # noqa: E402
from newsroom.fetch.contract import FetchPolicy  # noqa: E402
from newsroom.sources.opml import from_opml, to_opml  # noqa: E402
from newsroom.sources.schedule import next_poll_at  # noqa: E402
from newsroom.store.roles import AdminStore  # noqa: E402
from newsroom.websub.subscriber import end_subscription  # noqa: E402
from newsroom.wiring import clients as runtime  # noqa: E402
from newsroom.wiring.handlers import fetch_policy  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sources_admin", description="Manage the newsroom's source registry.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="every source with its health")
    add = commands.add_parser("add", help="add or replace a source")
    add.add_argument("--id", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--feed-url", required=True)
    add.add_argument("--homepage", default="")
    add.add_argument("--role", choices=[r.value for r in SourceRole], default=SourceRole.ORIGINAL.value)
    add.add_argument("--rights", choices=[r.value for r in Rights], default=Rights.EXCERPT.value)
    add.add_argument("--interval", type=int, default=None, help="poll interval in minutes")
    add.add_argument("--category", choices=[c.value for c in Category], default=None)
    add.add_argument("--language", default=None)
    add.add_argument("--alias", action="append", default=[], help="another name or domain it is credited by")
    for name in ("disable", "enable", "remove"):
        command = commands.add_parser(name, help=f"{name} a source")
        command.add_argument("source_id")
        if name != "enable":
            command.add_argument(
                "--callback-base",
                default=None,
                help="where hubs reach the WebSub callback (the API stage's URL); default WEBSUB_CALLBACK_BASE_URL",
            )
    importer = commands.add_parser("import-opml", help="add every feed of an OPML file")
    importer.add_argument("file", type=Path)
    commands.add_parser("export-opml", help="write the registry as OPML to stdout")
    commands.add_parser("seed", help="seed the registry from the sources file")
    return parser


def main(
    argv: list[str] | None = None,
    *,
    store: AdminStore | None = None,
    out: TextIO = sys.stdout,
    policy: FetchPolicy | None = None,
    now: datetime | None = None,
) -> int:
    args = _parser().parse_args(argv)
    db = store or runtime.store()
    hubs = _Hubs(getattr(args, "callback_base", None), policy, now)
    if args.command == "list":
        _list(db, out, now or datetime.now(UTC))
    elif args.command == "add":
        source = Source(
            id=args.id,
            name=args.name,
            feed_url=args.feed_url,
            homepage=args.homepage,
            role=SourceRole(args.role),
            rights=Rights(args.rights),
            interval_minutes=args.interval,
            category_hint=Category(args.category) if args.category else None,
            language=args.language,
            aliases=tuple(args.alias),
        )
        db.put_source(source, origin="admin")
        print(f"added {source.id} ({source.rights.value}) {source.feed_url}", file=out)
    elif args.command in ("disable", "enable"):
        return _toggle(db, args.source_id, enabled=args.command == "enable", out=out, hubs=hubs)
    elif args.command == "remove":
        return _remove(db, args.source_id, out=out, hubs=hubs)
    elif args.command == "import-opml":
        imported = from_opml(args.file.read_bytes())
        for source in imported:
            db.put_source(source, origin="admin")
        print(f"imported {len(imported)} sources", file=out)
    elif args.command == "export-opml":
        out.write(to_opml(sorted(db.list_sources(), key=lambda s: s.id)))
    elif args.command == "seed":
        print(f"seeded {db.seed_sources(load_sources())} sources", file=out)
    return 0


class _Hubs:
    """How `disable` and `remove` reach a source's WebSub hub: the callback base and the fetch
    policy, from the options or the configuration, read only when a subscription is to end."""

    def __init__(self, callback_base: str | None, policy: FetchPolicy | None, now: datetime | None) -> None:
        self._callback_base, self._policy, self._now = callback_base, policy, now

    def end(self, db: AdminStore, source: Source | None, source_id: str, out: TextIO) -> None:
        cfg = settings()
        base = (self._callback_base or cfg.websub_callback_base_url or "").rstrip("/") or None
        ending = end_subscription(
            source,
            source_id,
            db,
            base,
            self._policy or fetch_policy(cfg),
            now=self._now or datetime.now(UTC),
        )
        # The secret only signs deliveries, and a disabled or removed source's are ignored; a
        # source enabled again subscribes anew with a new secret.
        db.delete_hub_secret(source_id)
        sub = ending.sub
        if sub is not None and ending.told_hub and sub.state == "unsubscribing":
            print(f"asked hub {sub.hub} to end the WebSub subscription; it ends when the hub verifies", file=out)
        elif sub is not None and ending.told_hub:
            print(
                f"hub {sub.hub} could not be asked or refused ({sub.last_error}); the subscription is marked "
                f"{sub.state} and its deliveries are ignored until the lease lapses",
                file=out,
            )
        elif sub is not None and sub.state in ("subscribing", "active"):
            lapse = iso(sub.lease_expires) if sub.lease_expires else "the end of its lease"
            print(
                f"hub {sub.hub} was NOT told (no callback base: pass --callback-base or set "
                f"WEBSUB_CALLBACK_BASE_URL); the lease will lapse at {lapse}, and its deliveries "
                "until then are ignored",
                file=out,
            )


def _toggle(db: AdminStore, source_id: str, *, enabled: bool, out: TextIO, hubs: _Hubs) -> int:
    source = db.get_source(source_id)
    if source is None:
        print(f"no source {source_id!r}", file=out)
        return 1
    db.put_source(replace(source, enabled=enabled), origin="admin")
    if enabled:
        state = db.get_source_states([source_id]).get(source_id)
        if state is not None and state.disabled:
            db.put_source_state(
                replace(state, disabled=False, disabled_reason=None, next_poll=None, consecutive_failures=0)
            )
    print(f"{'enabled' if enabled else 'disabled'} {source_id}", file=out)
    if not enabled:
        hubs.end(db, replace(source, enabled=False), source_id, out)
    return 0


def _remove(db: AdminStore, source_id: str, *, out: TextIO, hubs: _Hubs) -> int:
    if db.get_source(source_id) is None:
        print(f"no source {source_id!r}", file=out)
        return 1
    if any(s.id == source_id for s in load_sources()):
        # The file's sources are merged in by the processor and the callback, and re-seeded
        # when the file changes: removing the registry item alone would not remove the source.
        print(f"{source_id} is in the sources file: disable it, or delete it from that file", file=out)
        return 1
    db.delete_source(source_id)
    print(f"removed {source_id}", file=out)
    hubs.end(db, None, source_id, out)
    return 0


def _list(db: AdminStore, out: TextIO, now: datetime) -> None:
    sources = sorted(db.list_sources(), key=lambda s: s.id)
    states = db.get_source_states([s.id for s in sources])
    print(f"{'id':<20} {'rights':<8} {'on':<3} {'next poll':<21} {'fails':>5}  last error", file=out)
    for source in sources:
        stored = states.get(source.id)
        state = stored or SourceState(source.id)
        on = "no" if not source.enabled or state.disabled else "yes"
        # When the dispatcher polls it next, as `GET /sources` says: an unchanged poll does not
        # write `next_poll` (up to `HEALTH_REFRESH`, 6 h, stale), the grid predicts it.
        due = next_poll_at(source, stored, now)
        next_poll = iso(due) if due else "-"
        error = (state.last_error or "")[:60]
        fails = state.consecutive_failures
        print(f"{source.id:<20} {source.rights.value:<8} {on:<3} {next_poll:<21} {fails:>5}  {error}", file=out)


if __name__ == "__main__":
    raise SystemExit(main())
