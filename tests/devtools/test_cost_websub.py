"""`make cost` prices the share of sources a WebSub hub pushes (issue 19, point 6): the share is
measured on the corpus by the fetcher's own discovery, and the bill follows it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from devtools import cost
from devtools.counting import Counts
from devtools.hub_share import CORPORA, HubShare, measure_hub_share

HUB = '<link rel="hub" href="https://hub.example/"/>'


def atom(head: str) -> bytes:
    return f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>{head}</feed>'.encode()


def test_the_share_is_what_discovery_finds_in_the_documents(tmp_path: Path) -> None:
    (tmp_path / "pushed.xml").write_bytes(atom(HUB))
    (tmp_path / "true.xml").write_bytes(atom('<link rel="hub" href="true"/>'))  # CoinDesk's
    (tmp_path / "plain.xml").write_bytes(atom(""))
    (tmp_path / "README.md").write_text("not a feed")

    hubs = measure_hub_share([tmp_path])
    assert (hubs.feeds, hubs.pushed) == (3, (f"{tmp_path.name}/pushed.xml",))
    assert hubs.refused == ((f"{tmp_path.name}/true.xml", "true", "relative"),)
    assert hubs.share == pytest.approx(1 / 3)

    (tmp_path / "another.xml").write_bytes(atom(HUB))
    assert measure_hub_share([tmp_path]).share == pytest.approx(2 / 4)


def test_the_corpus_share_counts_theblock_and_refuses_coindesks_true_hub() -> None:
    hubs = measure_hub_share()
    assert hubs.feeds == sum(len(list(folder.glob("*.xml"))) for folder in CORPORA)
    assert "crypto-2026-10-03/theblock.xml" in hubs.pushed
    assert "crypto-2026-10-03/coindesk.xml" not in hubs.pushed
    assert ("crypto-2026-10-03/coindesk.xml", "true", "relative") in hubs.refused
    assert 0 < hubs.share < 1 and hubs.share == len(hubs.pushed) / hubs.feeds


def _counts() -> Counts:
    counts = Counts()
    for phase, reads in (("fetch-304", 1.5), ("fetch-200-same", 1.5), ("fetch-200-changed", 1.5)):
        counts.invocations[phase] = 1
        counts.durations_ms[phase].append(20.0)
        counts.read_units[phase] = reads
    counts.invocations["api-feeds"] = 1
    counts.invocations["websub-delivery"] = 1
    counts.read_units["websub-delivery"] = 2.5
    counts.write_units["websub-delivery"] = 2
    counts.sqs_requests["websub-delivery"] = 1
    return counts


FACTS = {
    "process-new": 1,
    "fetch-304": {"not_modified": 1},
    "fetch-200-same": {"not_modified": 1, "ok": 0},
    "fetch-200-changed": {"ok": 1},
    "state_doc_bytes": [400],
    "process-same": 0,
    "articles": 1,
    "table_bytes": 8000,
    "websub-delivery": 1,
}
MIX = cost.PollMix(65.0, 20.0, 97.0, "a test mix", (50, 100))


def bill(share: float) -> tuple[dict[str, dict[str, float]], str]:
    out = io.StringIO()
    hubs = HubShare(feeds=100, pushed=tuple(f"f{i}.xml" for i in range(round(share * 100))), refused=())
    results = cost.model(_counts(), FACTS, cost.Assumptions(), out, mix=MIX, hubs=hubs)
    return results, out.getvalue()


def test_the_bill_follows_the_hub_share() -> None:
    none, _ = bill(0.0)
    some, printed = bill(0.2)
    more, _ = bill(0.4)

    assert "20 of 100 corpus feeds name a usable hub (20.0%" in printed
    websub = some["1000:websub"]
    # The pushed fifth is polled at the safety net (2 a day) instead of 65 a day.
    assert websub["polls"] == pytest.approx(1000 * 30 * (0.8 * 65 + 0.2 * 2))
    assert websub["polls_without_push"] == pytest.approx(1000 * 30 * 65)
    assert websub["deliveries"] == pytest.approx(0.2 * 1000 * 30 * 5)
    assert websub["saving"] > 0
    assert none["1000:websub"]["saving"] == pytest.approx(0)
    line = "1000:as built + CloudFront"
    assert none[line]["total"] > some[line]["total"] > more[line]["total"]
