"""Record the golden stories: what today's code builds from every corpus document and sample feed.

    .venv/bin/python scripts/record_golden.py          # rewrite tests/golden/stories.jsonl.gz
    .venv/bin/python scripts/record_golden.py --check  # exit 1 and list the differences instead

Re-record only once every difference the check lists is explained in the README's
"Differences from the golden record" (see `devtools.golden`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT / "shared", ROOT):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from devtools import golden  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the record instead of writing it")
    args = parser.parse_args(argv)
    if not golden.CORPUS.is_dir():
        print(f"no corpus at {golden.CORPUS}", file=sys.stderr)
        return 2
    started = time.monotonic()
    lines = golden.build_all()
    elapsed = time.monotonic() - started
    articles = sum(len(line.get("articles", ())) for line in lines)
    failed = sum(line["status"] == "failed" for line in lines)
    print(f"{len(lines)} documents, {articles} articles, {failed} failed documents, built in {elapsed:.1f}s")
    if args.check:
        _, recorded = golden.read()
        differences = golden.compare(recorded, lines)
        if differences:
            print(differences.summary())
            return 1
        print("no differences from the golden record")
        return 0
    golden.write(lines)
    print(f"wrote {golden.RECORD.relative_to(ROOT)} ({golden.RECORD.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
