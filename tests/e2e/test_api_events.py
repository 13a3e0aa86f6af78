"""Events in every output (issue 17, point 3), through the API handler over the stack's store:
`/events` (top and latest, paged, validated), `/events/{id}` (merges followed), an article's
event and "also reported by" (its ETag moves when the event grows, its cache time is short),
`collapse=event` on the feeds, and the pages' "Top stories" and "Also reported by".

Stories are stored and joined as the processor does it (`create_article`, then `join_event`).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest

from newsroom.core.events import TOP_HALF_DAY
from newsroom.core.models import Article
from newsroom.process import events
from newsroom.process.grouping import join_event
from newsroom.serve.pages import article_slug
from newsroom.wiring import clients as runtime
from tests.process.test_events import KORVO, ZENTRIX_A, ZENTRIX_B, report

from .conftest import Stack
from .test_api_contract import body_of, conforms

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
# A third outlet's report of the Zentrix hack, and a story of its own, newer than the rest.
ZENTRIX_C = report(
    "gamma",
    "zentrix-refunds",
    "Zentrix promises refunds after $12.5 million hot wallet exploit",
    "Zentrix said users will be refunded after attackers drained $12.5 million from hot wallets.",
    hours=5,
)
SOLVANE = report(
    "alpha",
    "solvane-grants",
    "Solvane Foundation Opens Validator Grant Round",
    "The Solvane Foundation will fund independent validators through a new grant round.",
    hours=6,
)
BRIDGE = report(
    "beta",
    "two-hacks",
    "Zentrix Exchange and Korvo Bridge Exploits: $12.5 Million and $40 Million Lost",
    "Zentrix lost $12.5 million from hot wallets; the Korvo bridge lost $40 million to forged messages.",
    hours=4,
)


def ingest(*articles: Article) -> None:
    store = runtime.store()
    # The listings lapse a week after `now`: the real clock, as the processor's.
    now = datetime.now(UTC)
    for article in articles:
        store.create_article(article, guid=None)
        join_event(store, article, now=now)


def doc(resp: dict[str, Any]) -> Any:
    return json.loads(body_of(resp))


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture
def grouped(stack: Stack) -> Stack:
    assert events.same_event(events.signature(SOLVANE), events.signature(ZENTRIX_A)) is None
    ingest(ZENTRIX_A, KORVO, ZENTRIX_B, SOLVANE)
    return stack


def test_top_ranks_by_outlets_then_recency_as_the_formula_says(grouped: Stack) -> None:
    body = conforms(grouped.get("/events?order=top"), "/events")
    ids = [e["id"] for e in body["items"]]
    # Zentrix (two outlets) beats the newer single reports: doubling the outlets is worth 12 hours.
    assert ids == [ZENTRIX_A.id, SOLVANE.id, KORVO.id]
    scores = [e["score"] for e in body["items"]]
    assert scores == sorted(scores, reverse=True)
    for item in body["items"]:
        created = datetime.fromisoformat(item["created"]).timestamp()
        assert item["score"] == pytest.approx(math.log2(item["coverage"]) + created / TOP_HALF_DAY)
    assert conforms(grouped.get("/events"), "/events")["items"] == body["items"]  # top is the default


def test_an_event_has_its_lead_coverage_members_and_ties(grouped: Stack) -> None:
    (zentrix, *_) = doc(grouped.get("/events?order=top&limit=1"))["items"]
    assert zentrix["lead"] == {
        "story_id": ZENTRIX_A.id,
        "outlet": "Alpha",
        "outlet_id": "alpha",
        "title": ZENTRIX_A.title,
        "link": ZENTRIX_A.canonical_url,
        "published": ZENTRIX_A.published.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    assert zentrix["coverage"] == 2 and zentrix["member_count"] == 2 and zentrix["outlets"] == ["alpha", "beta"]
    assert [(m["outlet"], m["title"], m["link"]) for m in zentrix["members"]] == [
        ("Alpha", ZENTRIX_A.title, ZENTRIX_A.canonical_url),
        ("Beta", ZENTRIX_B.title, ZENTRIX_B.canonical_url),
    ]
    assert "zentrix" in zentrix["ties"]
    assert zentrix["created"] < zentrix["updated"]
    assert zentrix["url"] == f"http://127.0.0.1:3000/events/{ZENTRIX_A.id}"
    assert conforms(grouped.get(f"/events/{ZENTRIX_A.id}"), "/events/{event_id}") == zentrix


def test_latest_orders_by_the_newest_report_and_pages_with_a_cursor(grouped: Stack) -> None:
    latest = [e["id"] for e in doc(grouped.get("/events?order=latest"))["items"]]
    assert latest == [SOLVANE.id, ZENTRIX_A.id, KORVO.id]
    seen: list[str] = []
    url = "/events?order=latest&limit=1"
    while url:
        resp = grouped.get(url)
        page = conforms(resp, "/events")
        seen.extend(e["id"] for e in page["items"])
        url = local(page["next_url"]) if page["next_url"] else ""
        if url:
            assert resp["headers"]["Link"] == f'<{page["next_url"]}>; rel="next"'
            assert "order=latest" in url and "limit=1" in url
    assert seen == latest


@pytest.mark.parametrize(
    "query",
    ["order=hot", "order=TOP", "order=", "limit=0", "limit=101", "limit=x", "cursor=not-a-cursor"],
)
def test_bad_parameters_are_a_400_problem(grouped: Stack, query: str) -> None:
    resp = grouped.get(f"/events?{query}")
    assert resp["statusCode"] == 400
    assert resp["headers"]["Content-Type"] == "application/problem+json"
    assert resp["headers"]["Cache-Control"] == "no-store"
    conforms(resp, "/events", "400")


def test_a_cursor_of_one_order_is_refused_by_the_other(grouped: Stack) -> None:
    cursor = doc(grouped.get("/events?order=latest&limit=1"))["next_cursor"]
    assert cursor
    assert grouped.get(f"/events?order=top&cursor={cursor}")["statusCode"] == 400


@pytest.mark.parametrize("event_id", ["ffffffffffffffffffff", "nope", "FFFFFFFFFFFFFFFFFFFF"])
def test_an_unknown_event_is_a_404_problem(grouped: Stack, event_id: str) -> None:
    resp = grouped.get(f"/events/{event_id}")
    assert resp["statusCode"] == 404
    conforms(resp, "/events/{event_id}", "404")


def test_a_merged_event_answers_with_the_event_it_joined_under_its_canonical_id(grouped: Stack) -> None:
    assert doc(grouped.get(f"/events/{KORVO.id}"))["id"] == KORVO.id
    ingest(BRIDGE)  # ties Zentrix's event and Korvo's: Korvo's folds into the older Zentrix one
    resp = grouped.get(f"/events/{KORVO.id}")
    assert resp["statusCode"] == 200
    merged = conforms(resp, "/events/{event_id}")
    assert merged["id"] == ZENTRIX_A.id and merged["url"].endswith(f"/events/{ZENTRIX_A.id}")
    assert merged == doc(grouped.get(f"/events/{ZENTRIX_A.id}"))
    assert merged["coverage"] == 3 and merged["member_count"] == 4
    assert KORVO.id not in [e["id"] for e in doc(grouped.get("/events"))["items"]]


def test_an_article_shows_its_event_and_the_other_reports(grouped: Stack) -> None:
    resp = grouped.get(f"/articles/{ZENTRIX_B.id}")
    body = conforms(resp, "/articles/{article_id}")
    assert body["event"] == {
        "id": ZENTRIX_A.id,
        "url": f"http://127.0.0.1:3000/events/{ZENTRIX_A.id}",
        "coverage": 2,
        "member_count": 2,
    }
    assert body["also_reported_by"] == [
        {
            "story_id": ZENTRIX_A.id,
            "outlet": "Alpha",
            "outlet_id": "alpha",
            "title": ZENTRIX_A.title,
            "link": ZENTRIX_A.canonical_url,
            "published": ZENTRIX_A.published.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    ]
    alone = doc(grouped.get(f"/articles/{SOLVANE.id}"))
    assert alone["event"]["coverage"] == 1 and alone["also_reported_by"] == []


def test_when_the_event_grows_the_article_etag_changes_and_it_was_cached_briefly(grouped: Stack) -> None:
    before = grouped.get(f"/articles/{ZENTRIX_A.id}")
    assert before["headers"]["Cache-Control"] == "public, max-age=300"
    etag = before["headers"]["ETag"]
    assert grouped.get(f"/articles/{ZENTRIX_A.id}", {"If-None-Match": etag})["statusCode"] == 304
    page_before = grouped.get(f"/news/{article_slug(ZENTRIX_A)}", HTML)
    assert page_before["headers"]["Cache-Control"] == "public, max-age=300"

    ingest(ZENTRIX_C)  # a third outlet joins the event

    after = grouped.get(f"/articles/{ZENTRIX_A.id}", {"If-None-Match": etag})
    assert after["statusCode"] == 200 and after["headers"]["ETag"] != etag
    body = doc(after)
    assert body["event"]["coverage"] == 3
    assert [m["outlet"] for m in body["also_reported_by"]] == ["Beta", "Gamma"]
    revalidate = {**HTML, "If-None-Match": page_before["headers"]["ETag"]}
    page_after = grouped.get(f"/news/{article_slug(ZENTRIX_A)}", revalidate)
    assert page_after["statusCode"] == 200 and "Gamma" in body_of(page_after)
    # The listings and the event's own route say it too, under their own short cache time.
    event = grouped.get(f"/events/{ZENTRIX_A.id}")
    assert doc(event)["coverage"] == 3 and event["headers"]["Cache-Control"] == "public, max-age=60"


def test_a_story_without_an_event_keeps_the_long_cache_time(stack: Stack) -> None:
    runtime.store().create_article(SOLVANE, guid=None)  # stored, never joined (as before events)
    resp = stack.get(f"/articles/{SOLVANE.id}")
    body = conforms(resp, "/articles/{article_id}")
    assert body["event"] is None and body["also_reported_by"] == []
    assert resp["headers"]["Cache-Control"] == "public, max-age=3600"


@pytest.mark.parametrize("path", ["/feed.json", "/feed.rss", "/feed.atom"])
def test_collapse_event_gives_one_feed_item_per_event(grouped: Stack, path: str) -> None:
    every = body_of(grouped.get(path))
    collapsed = body_of(grouped.get(f"{path}?collapse=event"))
    for article in (ZENTRIX_B, KORVO, SOLVANE):  # ZENTRIX_B: the newest report of its event
        assert article.title in every and article.title in collapsed
    assert ZENTRIX_A.title in every and ZENTRIX_A.title not in collapsed


def test_collapsed_feed_items_and_paging(grouped: Stack) -> None:
    feed = conforms(grouped.get("/feed.json?collapse=event"), "/feed.json")
    assert [i["title"] for i in feed["items"]] == [SOLVANE.title, ZENTRIX_B.title, KORVO.title]
    first = conforms(grouped.get("/feed.json?collapse=event&limit=2"), "/feed.json")
    assert "collapse=event" in first["next_url"]
    bad = grouped.get("/feed.rss?collapse=story")
    assert bad["statusCode"] == 400 and bad["headers"]["Content-Type"] == "application/problem+json"


def test_the_home_page_leads_with_top_events_and_their_extra_sources(grouped: Stack) -> None:
    ingest(ZENTRIX_C)
    page = body_of(grouped.get("/", HTML))
    top = page.split('class="top-events"', 1)[1].split("</section>", 1)[0]
    assert top.index(ZENTRIX_A.title) < top.index(SOLVANE.title) < top.index(KORVO.title)
    assert "+2 sources" in top  # three outlets: the lead's and two more
    assert f'href="/news/{article_slug(ZENTRIX_A)}"' in top


def test_the_article_page_lists_also_reported_by_with_the_members_links(grouped: Stack) -> None:
    page = body_of(grouped.get(f"/articles/{ZENTRIX_A.id}", HTML))
    section = page.split('class="also-reported"', 1)[1].split("</section>", 1)[0]
    assert "Also reported by" in section
    assert f'<a href="{ZENTRIX_B.canonical_url}">{ZENTRIX_B.title}</a>' in section
    assert ZENTRIX_A.canonical_url not in section  # not the story itself
    alone = body_of(grouped.get(f"/articles/{SOLVANE.id}", HTML))
    assert "Also reported by" not in alone
