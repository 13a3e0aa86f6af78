"""Run every benchmark module (`benchmarks/bench_*.py`, each with a `main() -> None` that prints a table).

`python -m benchmarks` runs them all; `python -m benchmarks fetch api` runs those whose name contains a word.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT / "shared", ROOT):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))


def main(argv: list[str]) -> int:
    names = sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    chosen = [n for n in names if not argv or any(word in n for word in argv)]
    if not chosen:
        print("no benchmarks match", argv)
        return 1
    for name in chosen:
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        importlib.import_module(f"benchmarks.{name}").main()
        print(f"({name} took {time.perf_counter() - started:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
