"""The golden stories: today's build of every corpus document and sample feed, field by field.

A failure lists the documents and fields that changed and a per-field count to paste into the
README's "Differences from the golden record" with the reason for each; then re-record with
`.venv/bin/python scripts/record_golden.py`. See `devtools.golden`.
"""

from __future__ import annotations

import copy
import re
import time

from devtools import golden

HASH = re.compile(rf"^[0-9a-f]{{{golden.HASH_HEX}}}$")


def test_every_document_builds_what_the_golden_record_holds() -> None:
    assert golden.CORPUS.is_dir(), f"the corpus is missing at {golden.CORPUS}"
    head, recorded = golden.read()
    assert head["clock"] == golden.CLOCK.isoformat() and head["format"] == golden.FORMAT
    started = time.monotonic()
    rebuilt = golden.build_all()
    elapsed = time.monotonic() - started
    differences = golden.compare(recorded, rebuilt)
    assert not differences, "\n" + differences.summary()
    # Every corpus file and sample feed is in the record, the failing ones with their reason.
    assert len(recorded) > 2140
    assert sum(len(line.get("articles", ())) for line in recorded) > 1000
    assert {line["reason"] for line in recorded if line["status"] == "failed"} >= {"not-a-feed"}
    assert {line["doc"] for line in recorded} >= {"samples/defiliban.xml", "samples/cryptowire.xml"}
    print(f"\ngolden: {len(rebuilt)} documents rebuilt in {elapsed:.1f}s")


def test_the_record_holds_hashes_not_publisher_text() -> None:
    head, recorded = golden.read()
    assert {"title", "content_html", "content_text", "attribution", "fingerprint", "image.url"} <= set(head["fields"])
    for line in recorded:
        for article in line.get("articles", ()):
            values = [v for k, v in article.items() if k != "rejected"]
            assert all(HASH.match(v) for v in values), line["doc"]
        if line["status"] == "failed":
            assert HASH.match(line["message"]) and re.fullmatch(r"[a-z0-9-]+", line["reason"]), line


def test_a_changed_field_is_named_with_its_document_and_counted() -> None:
    _, recorded = golden.read()
    changed = copy.deepcopy(recorded)
    sample = next(line for line in changed if line["doc"] == "samples/defiliban.xml")
    sample["articles"][0]["title"] = "0" * golden.HASH_HEX
    failed = next(line for line in changed if line["status"] == "failed")
    failed["reason"] = "hostile-xml"
    differences = golden.compare(recorded, changed)
    assert differences.documents == {
        failed["doc"]: [f"reason {next(r for r in recorded if r['doc'] == failed['doc'])['reason']!r} → 'hostile-xml'"],
        "samples/defiliban.xml": ["article 0: title"],
    }
    summary = differences.summary()
    assert "  - `title`: 1" in summary and "  - `(reason)`: 1" in summary
    assert "scripts/record_golden.py" in summary
