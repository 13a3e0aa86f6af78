"""Pin the shared layer's whole dependency tree in shared/requirements.txt.

`sam build` resolves shared/requirements.txt on its own, with no constraints file: a transitive
dependency left unpinned there is whatever the index has on the day of the build, not what the
tests ran with (botocore, for one, arrives through aws-xray-sdk and would shadow the runtime's).
So the file holds the direct requirements, written by hand above the marker line, and below it
every package they pull in, at the version `requirements-lock.txt` pins, for the Lambda runtime
(CPython 3.13 on Linux). The tree is read from the installed distributions' metadata
(`devtools.dependencies`), so this runs in the project's virtualenv (`make lock` calls it after
re-pinning).

    python scripts/pin_layer.py           # rewrite the pinned section
    python scripts/pin_layer.py --check   # exit 1, naming the difference, when it is out of date
    python scripts/pin_layer.py --direct  # print only the hand-written part (what `make lock` resolves)
"""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# `packaging` and devtools.dependencies are imported where used: `--direct` runs in `make lock`
# before anything is installed, with the standard library only.
LAYER_REQUIREMENTS = ROOT / "shared" / "requirements.txt"
LOCK = ROOT / "requirements-lock.txt"
MARKER = "# -- Everything the packages above pull in, pinned by scripts/pin_layer.py (`make lock`); do not edit below."


def direct_part(text: str) -> str:
    """The hand-written part of the layer's requirements: everything above the marker line."""
    return text.split(MARKER, 1)[0].rstrip("\n") + "\n"


def direct_requirements(text: str) -> list[Requirement]:
    from packaging.requirements import Requirement

    lines = (line.split("#", 1)[0].strip() for line in direct_part(text).splitlines())
    return [Requirement(line) for line in lines if line]


def lock_versions(text: str) -> dict[str, str]:
    from devtools.dependencies import canonical

    pins: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, version = line.partition("==")
        if sep and not line.startswith("#"):
            pins[canonical(name)] = version.strip()
    return pins


def render(text: str, lock: dict[str, str]) -> str:
    from devtools.dependencies import canonical, closure

    direct = direct_requirements(text)
    direct_names = {canonical(r.name) for r in direct}
    try:
        needed = closure(direct)
    except metadata.PackageNotFoundError as exc:
        raise SystemExit(f"{exc} is not installed: run this in the project's virtualenv") from None
    missing = sorted(name for name in needed if name not in lock)
    if missing:
        raise SystemExit(f"not pinned in {LOCK.name}: {', '.join(missing)} (run `make lock`)")
    pinned = sorted((needed[key], lock[key]) for key in needed if key not in direct_names)
    body = "\n".join(f"{name}=={version}" for name, version in sorted(pinned, key=lambda p: canonical(p[0])))
    return f"{direct_part(text)}{MARKER}\n{body}\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say whether the file is up to date")
    parser.add_argument("--direct", action="store_true", help="print the hand-written requirements only")
    args = parser.parse_args(argv)
    current = LAYER_REQUIREMENTS.read_text()
    if args.direct:
        print(direct_part(current), end="")
        return 0
    wanted = render(current, lock_versions(LOCK.read_text()))
    if args.check:
        if current != wanted:
            print(f"{LAYER_REQUIREMENTS.relative_to(ROOT)} is out of date; run `python scripts/pin_layer.py`:")
            print(wanted)
            return 1
        return 0
    LAYER_REQUIREMENTS.write_text(wanted)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
