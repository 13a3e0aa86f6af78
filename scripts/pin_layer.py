"""Pin the shared layer's whole dependency tree in shared/requirements.txt.

`sam build` resolves shared/requirements.txt on its own, with no constraints file: a transitive
dependency left unpinned there is whatever the index has on the day of the build, not what the
tests ran with (botocore, for one, arrives through aws-xray-sdk and would shadow the runtime's).
So the file holds the direct requirements, written by hand above the marker line, and below it
every package they pull in, at the version `requirements-lock.txt` pins, for the Lambda runtime
(CPython 3.13 on Linux). The tree is read from the installed distributions' metadata, so this
runs in the project's virtualenv (`make lock` calls it after re-pinning).

    python scripts/pin_layer.py          # rewrite the pinned section
    python scripts/pin_layer.py --check  # exit 1, naming the difference, when it is out of date
"""

from __future__ import annotations

import argparse
import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
LAYER_REQUIREMENTS = ROOT / "shared" / "requirements.txt"
LOCK = ROOT / "requirements-lock.txt"
MARKER = "# -- Everything the packages above pull in, pinned by scripts/pin_layer.py (`make lock`); do not edit below."
# Environment markers are evaluated for the Lambda runtime, whatever interpreter runs this.
LAMBDA_ENVIRONMENT = {
    "python_version": "3.13",
    "python_full_version": "3.13.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def direct_requirements(text: str) -> list[Requirement]:
    head = text.split(MARKER, 1)[0]
    lines = (line.split("#", 1)[0].strip() for line in head.splitlines())
    return [Requirement(line) for line in lines if line]


def lock_versions(text: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, version = line.partition("==")
        if sep and not line.startswith("#"):
            pins[canonical(name)] = version.strip()
    return pins


def _applies(requirement: Requirement, extras: frozenset[str]) -> bool:
    """Whether `requirement` is needed when its parent was asked for with `extras`."""
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({**LAMBDA_ENVIRONMENT, "extra": extra}) for extra in (extras or {""}))


def closure(direct: list[Requirement]) -> dict[str, str]:
    """Every distribution `direct` needs, by canonical name -> its display name. A package asked
    for again with other extras (lxml, then lxml[html_clean]) is walked again for those."""
    found: dict[str, str] = {}
    walked: set[tuple[str, frozenset[str]]] = set()
    pending = [r for r in direct if _applies(r, frozenset())]
    while pending:
        requirement = pending.pop()
        key, extras = canonical(requirement.name), frozenset(requirement.extras)
        if (key, extras) in walked:
            continue
        walked.add((key, extras))
        try:
            dist = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            raise SystemExit(f"{requirement.name} is not installed: run this in the project's virtualenv") from None
        found[key] = dist.metadata["Name"]
        pending.extend(child for child in map(Requirement, dist.requires or ()) if _applies(child, extras))
    return found


def render(text: str, lock: dict[str, str]) -> str:
    head = text.split(MARKER, 1)[0].rstrip("\n")
    direct = direct_requirements(text)
    direct_names = {canonical(r.name) for r in direct}
    needed = closure(direct)
    missing = sorted(name for name in needed if name not in lock)
    if missing:
        raise SystemExit(f"not pinned in {LOCK.name}: {', '.join(missing)} (run `make lock`)")
    pinned = sorted((needed[key], lock[key]) for key in needed if key not in direct_names)
    body = "\n".join(f"{name}=={version}" for name, version in sorted(pinned, key=lambda p: canonical(p[0])))
    return f"{head}\n{MARKER}\n{body}\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say whether the file is up to date")
    args = parser.parse_args(argv)
    current = LAYER_REQUIREMENTS.read_text()
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
