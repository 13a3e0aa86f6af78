"""A new story's write units are told apart by item family (`python -m devtools.story_writes`),
and the families add up to the total `make cost` prices."""

from __future__ import annotations

import io

from devtools.counting import Counts, item_family, write_units
from devtools.story_writes import breakdown


def _put(pk: str, sk: str, size: int = 10) -> dict[str, object]:
    return {"Put": {"TableName": "t", "Item": {"PK": {"S": pk}, "SK": {"S": sk}, "doc": {"S": "x" * size}}}}


def test_every_item_family_is_named_by_its_key() -> None:
    def family(pk: str, sk: str = "X") -> str:
        return item_family({"PK": {"S": pk}, "SK": {"S": sk}})

    assert family("ART#1", "ART") == "story"
    assert family("ART#1", "EVENT") == "story's event"
    assert family("LIST#all") == "story listing"
    assert family("EVLIST#top") == "event listing"
    assert family("EVKEY#w:x") == "event lookup"
    assert family("EVENT#1") == "event"
    assert family("COUNT#src") == "story count"
    assert family("GUID#src#ab") == "GUID claim"
    assert family("FP#m#ab") == "fingerprint claim"
    assert family("SOURCE#src") == "SOURCE"


def test_a_transaction_counts_each_family_twice_and_the_families_add_up_to_the_total() -> None:
    counts = Counts()
    story = _put("ART#1", "ART", 1500)  # 2 units, 4 in a transaction
    items = [
        story,
        _put("LIST#all", "2026#1"),
        _put("LIST#src#a", "2026#1"),
        {"Update": {"TableName": "t", "Key": {"PK": {"S": "COUNT#a"}, "SK": {"S": "STORIES"}}}},
        {"Delete": {"TableName": "t", "Key": {"PK": {"S": "LIST#cat#x"}, "SK": {"S": "2025#1"}}}},
    ]
    with counts.during("process-new"):
        counts.record("dynamodb", "TransactWriteItems", {"TransactItems": items}, {})
        counts.record("dynamodb", "PutItem", {"Item": _put("GUID#a#1", "GUID")["Put"]["Item"]}, {})
    assert counts.family_units[("process-new", "story", "txn put")] == 2 * write_units(story["Put"]["Item"]) == 4
    assert counts.family_units[("process-new", "story listing", "txn put")] == 4
    assert counts.family_units[("process-new", "story listing", "txn delete")] == 2
    assert counts.family_units[("process-new", "story count", "txn update")] == 2
    assert counts.family_units[("process-new", "GUID claim", "put")] == 1
    out = io.StringIO()
    per_story = breakdown(counts, 1, out)
    assert sum(per_story.values()) == counts.write_units["process-new"] == 13
    assert "story listing" in out.getvalue() and "1.00 txn delete, 2.00 txn put" in out.getvalue()


def test_the_corpus_run_counts_the_in_memory_client_as_make_cost_counts_boto3() -> None:
    from devtools.memory_dynamodb import memory_store
    from devtools.story_writes import _Counted
    from tests.store.test_stories import article

    counts = Counts()
    store = memory_store()
    store._db = _Counted(store._db, counts)
    with counts.during("corpus"):
        store.create_article(article(1), guid=("defiliban", "g1"))
        assert store.get_article(article(1).id) is not None
    assert counts.calls[("corpus", "dynamodb", "TransactWriteItems")] == 1
    assert counts.calls[("corpus", "dynamodb", "Query")] == 1 and counts.read_units["corpus"] == 1
    # The listing entries (all, cat#, src#, coin#btc) follow the transaction, one conditional
    # PutItem and one unit each rather than two (issue 18: `store.stories`); the claims and the
    # count stay in it.
    assert counts.family_actions[("corpus", "story listing", "put")] == 4
    assert counts.family_units[("corpus", "story listing", "put")] == 4
    assert counts.family_actions[("corpus", "story listing", "txn put")] == 0
    assert counts.family_actions[("corpus", "GUID claim", "txn put")] == 1
    assert counts.calls[("corpus", "dynamodb", "PutItem")] == 4
