"""The installed dependency tree of a set of requirements, as the Lambda runtime would need it.

Read from the distributions' metadata in this interpreter's environment, with environment
markers evaluated for the Lambda runtime (CPython 3.13 on Linux), whatever interpreter runs it.
Used by scripts/pin_layer.py (pin the layer's whole tree) and devtools.artifact (the folder of
what the runtime itself provides).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib import metadata

from packaging.requirements import Requirement

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
    """A distribution name as PEP 503 normalizes it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _applies(requirement: Requirement, extras: frozenset[str]) -> bool:
    """Whether `requirement` is needed when its parent was asked for with `extras`."""
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({**LAMBDA_ENVIRONMENT, "extra": extra}) for extra in (extras or {""}))


def closure(direct: Iterable[Requirement | str]) -> dict[str, str]:
    """Every installed distribution `direct` needs, itself included: canonical name -> display
    name. A package asked for again with other extras (lxml, then lxml[html_clean]) is walked
    again for those. Raises PackageNotFoundError for a requirement that is not installed."""
    found: dict[str, str] = {}
    walked: set[tuple[str, frozenset[str]]] = set()
    pending = [r for r in map(Requirement, map(str, direct)) if _applies(r, frozenset())]
    while pending:
        requirement = pending.pop()
        key, extras = canonical(requirement.name), frozenset(requirement.extras)
        if (key, extras) in walked:
            continue
        walked.add((key, extras))
        dist = metadata.distribution(requirement.name)
        found[key] = dist.metadata["Name"]
        pending.extend(child for child in map(Requirement, dist.requires or ()) if _applies(child, extras))
    return found
