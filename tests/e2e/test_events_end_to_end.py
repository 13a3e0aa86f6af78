"""Events end to end (issue 17, point 5): the seven crypto feeds of
`../shared/corpus/crypto-2026-10-03` served over HTTP on 127.0.0.1, fetched by the fetch
function, queued, processed by the process function (which stores each story and joins it to its
event), then read back through the API handler only.

What users get is what the benchmark scores: the API's events are exactly the partition that
`newsroom.process.events.group` (what `benchmarks/bench_events.py` calls "ours") gives over the
same articles, as the benchmark builds them from the same feed items; `/events?order=top` ranks
by the formula of `newsroom.core.events`; and a member's `/articles/{id}` names its event and
the other reports.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from benchmarks import bench_events
from newsroom.core.events import MAX_LISTED_MEMBERS, TOP_HALF_DAY
from newsroom.process import events
from newsroom.wiring import clients as runtime
from tests.httpserver import LocalHTTPServer, Reply

from .conftest import Stack
from .test_api_contract import body_of, conforms

FOLDER = "crypto-2026-10-03"
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / FOLDER
build_event_set = bench_events.build_event_set


def paged(stack: Stack, path: str) -> list[dict[str, Any]]:
    """Every item of a paged route, following `next_url`."""
    items: list[dict[str, Any]] = []
    url = path
    while url:
        resp = stack.get(url)
        assert resp["statusCode"] == 200, (url, body_of(resp)[:300])
        page = json.loads(body_of(resp))
        items.extend(page["items"])
        nxt = page["next_url"]
        url = (urlsplit(nxt).path + "?" + urlsplit(nxt).query) if nxt else ""
    return items


def partition(groups: Any) -> list[list[str]]:
    return sorted(sorted(g) for g in groups)


@pytest.fixture
def corpus_run(stack: Stack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    files = sorted(p.stem for p in CORPUS.glob("*.xml"))
    assert len(files) == 7
    with LocalHTTPServer() as server:
        sources = []
        for stem in files:
            body = (CORPUS / f"{stem}.xml").read_bytes()
            server.route(f"/{stem}.xml", Reply(body=body, headers={"Content-Type": "application/rss+xml"}))
            first = build_event_set.parse(f"{FOLDER}/{stem}")[0]
            host = urlsplit(first.link)
            # The benchmark's sources (`bench_events.build_stories`): one outlet per feed file.
            sources.append(
                {
                    "id": build_event_set.source_id(f"{FOLDER}/{stem}"),
                    "name": stem,
                    "feed_url": server.url(f"/{stem}.xml"),
                    "homepage": f"{host.scheme}://{host.netloc}",
                    "role": "original",
                    "language": "en",
                    "rights": "full",
                }
            )
        sources_file = tmp_path / "corpus-sources.json"
        sources_file.write_text(json.dumps({"sources": sources}))
        monkeypatch.setenv("SOURCES_FILE", str(sources_file))
        runtime.reset()
        summary = stack.run_fetch()
        assert summary["entries"] == 228, summary
        report = stack.drain()
        assert report.failed == 0
    return stack


def test_the_apis_events_are_the_benchmarks_grouping_ranked_and_shown_as_documented(corpus_run: Stack) -> None:
    stack = corpus_run
    stories = paged(stack, "/articles?limit=100")
    story_ids = {s["id"] for s in stories}
    listed = []
    for item in paged(stack, "/events?order=latest&limit=100"):
        # A listing shows the first members; the event's own route shows them all (up to 40).
        assert len(item["members"]) == min(item["member_count"], MAX_LISTED_MEMBERS)
        if item["member_count"] > len(item["members"]):
            item = json.loads(body_of(stack.get(f"/events/{item['id']}")))
        assert item["member_count"] == len(item["members"])  # no event here passes the 40 shown
        assert item["coverage"] == len({m["outlet_id"] for m in item["members"]}) == len(item["outlets"])
        listed.append(item)
    api_partition = partition({m["story_id"] for m in e["members"]} for e in listed)
    assert sorted(i for g in api_partition for i in g) == sorted(story_ids)  # every story in one event

    # The grouping the benchmark scores, over the very stories the API serves...
    stored = runtime.store().get_articles(sorted(story_ids))
    assert partition(events.group(events.signature(a) for a in stored)) == api_partition
    # ... and over the articles as the benchmark itself builds them from the same feed items.
    items = [i for i in build_event_set.load() if i.file.startswith(f"{FOLDER}/")]
    built = {s.article.id: s.article for s in bench_events.build_stories(items)}
    assert set(built) == story_ids  # the same stories (copies folded alike)
    assert partition(events.group(events.signature(a) for a in built.values())) == api_partition

    # Events of several outlets exist, and the listing says what tied them.
    coverage = Counter(e["coverage"] for e in listed)
    assert sum(n for c, n in coverage.items() if c >= 2) >= 10 and max(coverage) >= 3, coverage
    assert all(e["ties"] for e in listed if e["member_count"] > 1)

    # "top" ranks by log2(outlets) + created / 12 h, highest first, and holds the same events.
    top = paged(stack, "/events?order=top&limit=25")
    assert sorted(e["id"] for e in top) == sorted(e["id"] for e in listed)
    for item in top:
        created = datetime.fromisoformat(item["created"]).timestamp()
        assert item["score"] == pytest.approx(math.log2(item["coverage"]) + created / TOP_HALF_DAY, abs=1e-6)
    assert [e["score"] for e in top] == sorted((e["score"] for e in top), reverse=True)
    latest = [e["updated"] for e in listed]
    assert latest == sorted(latest, reverse=True)

    # A member's article names its event and the other reports, never itself.
    widest = max(listed, key=lambda e: (e["coverage"], e["id"]))
    for member in widest["members"]:
        article = conforms(stack.get(f"/articles/{member['story_id']}"), "/articles/{article_id}")
        assert article["event"]["id"] == widest["id"]
        assert article["event"]["coverage"] == widest["coverage"]
        others = [m for m in widest["members"] if m["story_id"] != member["story_id"]]
        assert article["also_reported_by"] == others
    assert conforms(stack.get(f"/events/{widest['id']}"), "/events/{event_id}") == widest

    # One feed item per event with collapse=event.
    feed = json.loads(body_of(stack.get("/feed.json?collapse=event&limit=100")))
    event_of = {m["story_id"]: e["id"] for e in listed for m in e["members"]}
    shown = [event_of[item["id"]] for item in feed["items"]]
    assert len(shown) == len(set(shown))
    print(
        f"\n{len(story_ids)} stories, {len(listed)} events;"
        f" by coverage {dict(sorted(coverage.items()))}; widest: {widest['coverage']} outlets"
    )
