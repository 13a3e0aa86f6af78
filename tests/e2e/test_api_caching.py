"""Conditional requests never answer 304 for a changed representation.

A page is assembled per request from several stories, so no stored timestamp covers every
change to it: a story published with an old date lands inside the page, a syndicated copy is
attached to a story whose own `updated` stays put, a story past retention drops off. The API
therefore validates with a strong content hash (`ETag`) only and sends no `Last-Modified`, so
`If-Modified-Since` has nothing to compare and a client holding an old copy always gets the
new one (RFC 9110 §13.1.3: a server ignores If-Modified-Since when the resource has no
modification date). These tests change a page in exactly those two ways and ask again with
every validator the client held.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from newsroom.core.codec import entry_from_message, entry_to_message

from .conftest import Stack
from .reliability import FETCHED_AT, deliver, sample_messages, send_all
from .test_api_contract import body_of

FEEDS = ("/feed.json", "/feed.rss", "/feed.atom", "/articles")


def _store(stack: Stack, messages: list[str]) -> None:
    send_all(stack.sqs, stack.resources.queue_url, messages)
    report = deliver(stack.sqs, stack.resources.queue_url, stack.resources.queue_arn, stack.process)
    assert not report.failed


def _split(messages: list[str]) -> tuple[list[str], list[str]]:
    """The sample entries as (originals, the aggregator's syndicated copies)."""
    copies = [m for m in messages if json.loads(m)["source_id"] == "cryptowire"]
    return [m for m in messages if m not in copies], copies


def _validators(resp: dict[str, Any]) -> list[dict[str, str]]:
    """Every conditional request a client (or CloudFront) holding this response could send."""
    assert resp["statusCode"] == 200
    held = [{"If-None-Match": resp["headers"]["ETag"]}]
    # A client that only keeps dates asks "changed since I fetched it?" with a time no older than
    # any stated Last-Modified, and newer than every story's own `updated`.
    since = resp["headers"].get("Last-Modified") or format_datetime(FETCHED_AT + timedelta(days=30), usegmt=True)
    held.append({"If-Modified-Since": since})
    return held


def _asked_again(stack: Stack, path: str, before: dict[str, Any]) -> None:
    for headers in _validators(before):
        again = stack.get(path, headers)
        assert again["statusCode"] == 200, (path, headers, "304 for a changed page")
        assert body_of(again) != body_of(before), path


def _backdated(messages: list[str]) -> str:
    """A new story, published a day before the newest stored one (so it lands inside the page)."""
    entry = max((entry_from_message(m) for m in messages), key=lambda e: e.published or FETCHED_AT)
    published = (entry.published or FETCHED_AT) - timedelta(days=1)
    late = replace(
        entry,
        guid="backdated-story",
        link=entry.link.rstrip("/") + "-backdated",
        title="A late report of an old event, filed today: Ethereum validators exit",
        summary_html="<p>An old event reported late; Ethereum validators queued to exit for a week.</p>",
        content_html="<p>An old event reported late; Ethereum validators queued to exit for a week.</p>",
        published=published,
        updated=published,
    )
    return entry_to_message(late)


@pytest.mark.parametrize("path", FEEDS)
def test_a_backdated_story_changes_the_answer(stack: Stack, path: str) -> None:
    originals, _ = _split(sample_messages())
    _store(stack, originals)
    before = stack.get(f"{path}?limit=100")
    _store(stack, [_backdated(originals)])
    _asked_again(stack, f"{path}?limit=100", before)
    assert "Ethereum validators exit" in body_of(stack.get(f"{path}?limit=100"))


@pytest.mark.parametrize("path", FEEDS)
def test_an_attached_copy_changes_the_answer(stack: Stack, path: str) -> None:
    originals, copies = _split(sample_messages())
    _store(stack, originals)
    before = stack.get(f"{path}?limit=100")
    _store(stack, copies)
    _asked_again(stack, f"{path}?limit=100", before)


def test_an_attached_copy_changes_the_article_page(stack: Stack) -> None:
    originals, copies = _split(sample_messages())
    _store(stack, originals)
    ids = [a["id"] for a in json.loads(stack.get("/articles?limit=100")["body"])["items"]]
    representations = ({"Accept": "application/json"}, {"Accept": "text/html"})
    before = {(i, r["Accept"]): stack.get(f"/articles/{i}", r) for i in ids for r in representations}
    _store(stack, copies)
    copied = [
        i
        for i in ids
        if any(c["source_id"] == "cryptowire" for c in json.loads(stack.get(f"/articles/{i}")["body"])["copies"])
    ]
    assert copied, "the samples' copies join stories"
    for article_id in copied:
        for accept in representations:
            path = f"/articles/{article_id}"
            for headers in _validators(before[(article_id, accept["Accept"])]):
                again = stack.get(path, {**accept, **headers})
                assert again["statusCode"] == 200, (path, accept, headers, "304 for a changed page")
                assert "Crypto Wire Daily" in body_of(again)


def test_validators_still_answer_304_when_nothing_changed(stack: Stack) -> None:
    originals, copies = _split(sample_messages())
    _store(stack, originals + copies)
    for path in (*FEEDS, "/articles?limit=1"):
        first = stack.get(path)
        again = stack.get(path, {"If-None-Match": first["headers"]["ETag"]})
        assert again["statusCode"] == 304 and not again["body"], path
        assert "Last-Modified" not in first["headers"], path
        # No date can stand in for the hash: If-Modified-Since alone always gets the page.
        dated = stack.get(path, {"If-Modified-Since": format_datetime(FETCHED_AT + timedelta(days=365), usegmt=True)})
        assert dated["statusCode"] == 200 and body_of(dated) == body_of(first), path
