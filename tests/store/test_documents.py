"""Stored documents are compressed (issue 18: fewer write units per story), and the plain JSON
documents stored before are still read: get, batch get, listing pages and a correction of one."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

from devtools.counting import write_units
from newsroom.core.codec import article_to_doc
from newsroom.core.models import Article, Copy
from newsroom.store.documents import doc_attr, load_doc
from newsroom.store.dynamo import DynamoStore
from newsroom.store.keys import listing_keys
from tests.store.test_stories import article


def _items(store: DynamoStore) -> list[dict[str, Any]]:
    return list(store._db.scan(TableName="t")["Items"])


def _plain(doc: dict[str, Any]) -> dict[str, str]:
    return {"S": json.dumps(doc, ensure_ascii=False, separators=(",", ":"))}


def _store_as_before(store: DynamoStore, a: Article) -> None:
    """`a` as the store wrote it before documents were compressed: plain JSON strings."""
    store.create_article(a, guid=None)
    for item in _items(store):
        if item["PK"]["S"] == f"ART#{a.id}":
            item["doc"] = _plain(article_to_doc(a))
        elif item["PK"]["S"].startswith("LIST#") and item["id"]["S"] == a.id:
            item["doc"] = _plain(article_to_doc(a, with_body=False))
        else:
            continue
        store._db.put_item(TableName="t", Item=item)


def test_a_document_round_trips_and_plain_json_is_read_too() -> None:
    doc = {"title": "Ünïcode — “quotes”", "n": 3, "nested": {"list": [1, None, True]}}
    assert load_doc(doc_attr(doc)) == doc
    assert load_doc(_plain(doc)) == doc


def test_story_and_listing_documents_are_stored_compressed(store: DynamoStore) -> None:
    body = "<p>" + " ".join(f"Paragraph {n} of a long report on bitcoin markets." for n in range(200)) + "</p>"
    a = article(1, content_html=body, content_text=body, standfirst="A standfirst " * 20)
    store.create_article(a, guid=None)
    items = _items(store)
    [story] = [i for i in items if i["PK"]["S"] == f"ART#{a.id}"]
    listings = [i for i in items if i["PK"]["S"].startswith("LIST#")]
    assert len(listings) == len(listing_keys(a))
    plain_story = {**story, "doc": _plain(article_to_doc(a))}
    assert "B" in story["doc"] and write_units(story) < write_units(plain_story)
    for entry in listings:
        assert "B" in entry["doc"] and load_doc(entry["doc"]) == article_to_doc(a, with_body=False)


def test_stories_stored_as_plain_json_are_read_listed_and_corrected(store: DynamoStore) -> None:
    old, new = article(1), article(2)
    _store_as_before(store, old)
    store.create_article(new, guid=None)
    assert sum("S" in i["doc"] for i in _items(store) if "doc" in i) == 1 + len(listing_keys(old))

    stored = store.get_article(old.id)
    assert stored is not None and stored.article == old
    assert store.get_articles([old.id, new.id]) == [old, new]
    page = store.list_articles("all", limit=10, cursor=None)
    assert [a.id for a in page.items] == [new.id, old.id]
    assert page.items[1] == replace(old, content_html="", content_text="", copies=())

    corrected = replace(old, title="Story 1, corrected", updated=old.updated + timedelta(hours=1))
    store.replace_article(stored, corrected, guid=None)
    again = store.get_article(old.id)
    assert again is not None and again.article == corrected and again.version == 2
    [entry] = [i for i in _items(store) if i["PK"]["S"] == "LIST#all" and i["id"]["S"] == old.id]
    assert "B" in entry["doc"] and load_doc(entry["doc"])["title"] == "Story 1, corrected"


def test_a_copy_attached_rewrites_the_story_but_none_of_its_unchanged_listing_entries(store: DynamoStore) -> None:
    """Issue 18: a replace that changes nothing a listing entry holds (a copy attached: `copies`
    is not in the summary) writes no listing entry; one that changes the summary writes them all.
    Either way the listings read back as the story."""
    a = article(1)
    store.create_article(a, guid=None)
    written: list[list[dict[str, Any]]] = []
    transact = store._db.transact_write_items

    def spy(**params: Any) -> Any:
        written.append(params["TransactItems"])
        return transact(**params)

    store._db.transact_write_items = spy
    stored = store.get_article(a.id)
    assert stored is not None
    copy = Copy("cryptowire", "Crypto Wire", "https://cw.example/1", "Story 1", a.first_seen + timedelta(minutes=5))
    with_copy = replace(a, copies=(copy,))
    store.replace_article(stored, with_copy, guid=("cryptowire", "cw1"))
    [actions] = written
    assert [next(iter(x.values()))["Item"]["PK"]["S"][:5] for x in actions] == ["ART#0", "GUID#"]
    again = store.get_article(a.id)
    assert again is not None and again.article == with_copy and again.version == 2
    for listing in listing_keys(a):
        [entry] = store.list_articles(listing, limit=5, cursor=None).items
        assert entry == replace(a, content_html="", content_text="")

    retitled = replace(with_copy, title="Story 1, corrected", updated=a.updated + timedelta(hours=1))
    store.replace_article(again, retitled, guid=None)
    listed = [x for x in written[1] if next(iter(x.values()))["Item"]["PK"]["S"].startswith("LIST#")]
    assert len(listed) == len(listing_keys(a))
    for listing in listing_keys(a):
        assert [x.title for x in store.list_articles(listing, limit=5, cursor=None).items] == ["Story 1, corrected"]
