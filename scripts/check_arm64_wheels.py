"""Check that every native dependency of the layer has a Linux aarch64 wheel for CPython 3.13.

CI builds and tests the x86_64 artifact; the default `Architecture` is arm64. A package that
ships compiled code (nh3, wrapt, ...) must then also exist as a manylinux2014 aarch64 wheel, or
`sam build` for arm64 fails (or worse, falls back to an sdist that cannot build for Lambda).

    python scripts/check_arm64_wheels.py --layer .aws-sam/build/SharedLayer/python
    python scripts/check_arm64_wheels.py            # resolves shared/requirements.txt instead

With `--layer`, the native distributions are read from the built layer (a wheel whose WHEEL
file says `Root-Is-Purelib: false`); each one, at the exact version built, is asked of the package
index with `pip download --platform manylinux2014_aarch64 --only-binary=:all:
--python-version 3.13 --no-deps`. Pure-Python distributions run on any architecture. Without
`--layer`, the whole of shared/requirements.txt is resolved for aarch64 in one `pip download`.
Exit status 0 when every wheel exists; 1 with the missing ones named.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLATFORM = "manylinux2014_aarch64"
PYTHON_VERSION = "3.13"


@dataclass(frozen=True)
class Dist:
    name: str
    version: str
    native: bool


def layer_distributions(layer: Path) -> list[Dist]:
    """Every distribution installed in a built layer folder, with whether it holds native code."""
    dists: list[Dist] = []
    for info in sorted(layer.glob("*.dist-info")):
        metadata = Parser().parsestr((info / "METADATA").read_text(encoding="utf-8"), headersonly=True)
        wheel_file = info / "WHEEL"
        purelib = True
        if wheel_file.exists():
            wheel = Parser().parsestr(wheel_file.read_text(encoding="utf-8"), headersonly=True)
            purelib = (wheel.get("Root-Is-Purelib") or "true").strip().lower() == "true"
        dists.append(Dist(name=str(metadata["Name"]), version=str(metadata["Version"]), native=not purelib))
    return dists


def pip_download(args: list[str], dest: Path) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--disable-pip-version-check",
        "--quiet",
        "--platform",
        PLATFORM,
        "--only-binary=:all:",
        "--python-version",
        PYTHON_VERSION,
        "--implementation",
        "cp",
        "--dest",
        str(dest),
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def check_layer(layer: Path) -> int:
    dists = layer_distributions(layer)
    if not dists:
        print(f"no distributions found in {layer}: is it a built layer's python/ folder?")
        return 1
    native = [d for d in dists if d.native]
    missing: list[str] = []
    with tempfile.TemporaryDirectory(prefix="arm64-wheels-") as tmp:
        for dist in native:
            dest = Path(tmp) / dist.name  # one folder per distribution: what lands there is its wheel
            result = pip_download(["--no-deps", f"{dist.name}=={dist.version}"], dest)
            wheels = sorted(p.name for p in dest.glob("*.whl")) if dest.exists() else []
            if result.returncode != 0 or not wheels:
                missing.append(f"{dist.name}=={dist.version}: {result.stderr.strip().splitlines()[-1:]}")
                print(f"MISSING  {dist.name}=={dist.version}")
            else:
                print(f"ok       {dist.name}=={dist.version}  {wheels[0]}")
    pure = ", ".join(f"{d.name}=={d.version}" for d in dists if not d.native)
    print(f"pure Python (any architecture): {pure}")
    if missing:
        print("no manylinux2014 aarch64 wheel for CPython 3.13:\n  " + "\n  ".join(missing))
        return 1
    print(f"{len(native)} native distributions, every one has an aarch64 wheel")
    return 0


def check_requirements(requirements: Path) -> int:
    with tempfile.TemporaryDirectory(prefix="arm64-wheels-") as tmp:
        result = pip_download(["-r", str(requirements)], Path(tmp))
        wheels = sorted(p.name for p in Path(tmp).glob("*.whl"))
    for wheel in wheels:
        print(("native   " if not wheel.endswith("-none-any.whl") else "pure     ") + wheel)
    if result.returncode != 0:
        print(f"pip could not resolve {requirements} for {PLATFORM}:\n{result.stderr.strip()}")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layer", type=Path, help="a built layer's python/ folder")
    parser.add_argument("--requirements", type=Path, default=ROOT / "shared" / "requirements.txt")
    args = parser.parse_args(argv)
    if args.layer is not None:
        return check_layer(args.layer)
    return check_requirements(args.requirements)


if __name__ == "__main__":
    raise SystemExit(main())
