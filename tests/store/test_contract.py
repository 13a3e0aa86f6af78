"""One contract for the store, run against both backends (`tests/store/backends.py`):
`DynamoStore` on moto, on the table from template.yaml, and `DynamoStore` on the in-memory client
(`devtools.memory_dynamodb`). Both are the one store implementation; what differs is the table
under it, so each test here holds the memory fake to what DynamoDB, as moto models it, does, and
holds the store to DynamoDB's rules. Faults are the same plan on both.

Where moto forgives a documented DynamoDB rule, the rule is checked on the memory backend only
(tests/store/test_memory_dynamodb.py), and a `test_moto_gap_*` test here records what moto does
instead, with the AWS page, so the day moto closes the gap that test fails and the rule can
join the contract.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from devtools.memory_batches import MAX_BATCH_GET_BYTES
from newsroom.core.config import CLAIM_PENDING_SECONDS
from newsroom.core.models import FingerprintClaims, HeldClaim, Price, SourceState
from newsroom.store.batches import StoreIncomplete
from newsroom.store.cursor import CursorError
from newsroom.store.dynamo import DynamoStore
from newsroom.store.table import ConflictError
from tests.store.backends import (
    DAY,
    KB,
    T0,
    Backend,
    article,
    error_code,
    four_mb_transaction,
    incompressible,
    raw_item,
    story_key,
)

# -- conditions and versions ----------------------------------------------------------------------


def test_create_refuses_a_present_story_and_replace_checks_the_version(backend: Backend) -> None:
    store = backend.store()
    a = article(1)
    store.create_article(a, guid=("src", "g1"))
    with pytest.raises(ConflictError):
        store.create_article(a, guid=("src", "g1"))
    first = store.get_article(a.id)
    assert first is not None and first.version == 1

    store.replace_article(first, replace(a, title="Corrected"), guid=None)
    with pytest.raises(ConflictError):  # a writer that read version 1 lost the race
        store.replace_article(first, replace(a, title="Stale"), guid=None)
    second = store.get_article(a.id)
    assert second is not None and (second.version, second.article.title) == (2, "Corrected")
    assert store.source_story_counts(["src", "other"]) == {"src": 1, "other": 0}


def test_an_expired_story_is_read_past_and_may_be_created_again(backend: Backend) -> None:
    store = backend.store(retention=timedelta(days=30))
    a = article(1)
    store.create_article(a, guid=None)
    backend.now[0] = (T0 + 31 * DAY).timestamp()  # expired; TTL has not deleted it
    assert store.get_article(a.id) is None
    assert store.list_articles("all", limit=5, cursor=None).items == ()
    assert store.count_source_articles("src") == 0
    # Still in the table until TTL's sweep: DynamoDB deletes expired items lazily.
    assert "Item" in backend.client.get_item(TableName="t", Key=story_key(a))

    store.create_article(replace(a, title="Again"), guid=None)  # expired counts as absent
    again = store.get_article(a.id)
    assert again is not None and again.article.title == "Again"


def test_guid_claims(backend: Backend) -> None:
    store = backend.store()
    store.claim_guid("src", "g-claimed", "story-1")
    store.create_article(article(2), guid=("src", "g2"))
    assert store.story_for_guid("src", "g-claimed") == "story-1"
    assert store.story_for_guid("src", "g2") == article(2).id
    assert store.story_for_guid("src", "unknown") is None
    assert store.story_for_guid("other", "g2") is None


def test_fingerprint_claims_are_first_come_until_they_expire(backend: Backend) -> None:
    store = backend.store()
    a, b = article(1), article(2)
    store.claim_fingerprints(a.id, FingerprintClaims(("m#1", "m#2"), T0))
    store.create_article(a, guid=None)
    held = {key: claim.story_id for key, claim in store.find_fingerprints(["m#1", "m#2", "m#3"], now=T0).items()}
    assert held == {"m#1": a.id, "m#2": a.id}

    with pytest.raises(ConflictError):  # "m#2" is a's, unexpired
        store.claim_fingerprints(b.id, FingerprintClaims(("m#4", "m#2"), T0))
    # In the order of their keys: b stopped at "m#2" and wrote none after it.
    assert store.find_fingerprints(["m#4"], now=T0) == {}

    later = T0 + 8 * DAY  # past the 7-day window: a's claims may be taken
    backend.now[0] = later.timestamp()
    assert store.find_fingerprints(["m#1", "m#2"], now=later) == {}
    store.claim_fingerprints(b.id, FingerprintClaims(("m#2",), later))
    assert store.find_fingerprints(["m#2"], now=later) == {"m#2": HeldClaim(b.id, later)}


def test_a_crashed_writes_claim_is_taken_over_only_while_it_is_still_that_old_claim(backend: Backend) -> None:
    """A claim whose story was never written is taken over once old (`taking_over`), on the
    condition that it is still the claim that was read as old: the crashed write's redelivery,
    had it written its claims again since, would have renewed them."""
    store = backend.store()
    crashed, newcomer = article(1), article(2)
    store.claim_fingerprints(crashed.id, FingerprintClaims(("m#1",), T0))
    later = T0 + timedelta(seconds=CLAIM_PENDING_SECONDS + 1)
    backend.now[0] = later.timestamp()
    with pytest.raises(ConflictError):  # not named as taken over: a claim like any other
        store.claim_fingerprints(newcomer.id, FingerprintClaims(("m#1",), later))
    store.claim_fingerprints(crashed.id, FingerprintClaims(("m#1",), later))  # the redelivery renews it
    with pytest.raises(ConflictError):  # named, but no longer old
        store.claim_fingerprints(newcomer.id, FingerprintClaims(("m#1",), later, taking_over=(("m#1", crashed.id),)))
    latest = later + timedelta(seconds=CLAIM_PENDING_SECONDS + 1)
    backend.now[0] = latest.timestamp()
    store.claim_fingerprints(newcomer.id, FingerprintClaims(("m#1",), latest, taking_over=(("m#1", crashed.id),)))
    assert store.find_fingerprints(["m#1"], now=latest) == {"m#1": HeldClaim(newcomer.id, latest)}


def test_a_claim_written_before_claims_carried_their_time_can_be_taken_over(backend: Backend) -> None:
    """Claims written inside their story's transaction, before this change, have no `written`:
    one whose story is gone (it expired) is taken over like an old one, where a condition on its
    time alone would refuse it until the claim itself expired."""
    store = backend.store()
    newcomer = article(2)
    backend.client.put_item(
        TableName="t",
        Item={
            "PK": {"S": "FP#m#1"},
            "SK": {"S": "FP"},
            "story_id": {"S": "gone"},
            "expires_at": {"N": str(int((T0 + 7 * DAY).timestamp()))},
        },
    )
    assert store.find_fingerprints(["m#1"], now=T0) == {"m#1": HeldClaim("gone", None)}
    store.claim_fingerprints(newcomer.id, FingerprintClaims(("m#1",), T0, taking_over=(("m#1", "gone"),)))
    assert store.find_fingerprints(["m#1"], now=T0) == {"m#1": HeldClaim(newcomer.id, T0)}


def test_conditional_puts_of_the_registry_and_the_dispatch_clock(backend: Backend) -> None:
    store = backend.store()
    store.put_dispatch_clock(T0)
    store.put_dispatch_clock(T0 - DAY)  # an older tick loses
    assert store.get_dispatch_clock() == T0
    store.put_dispatch_clock(T0 + DAY)
    assert store.get_dispatch_clock() == T0 + DAY


# -- listings: paging, cursors, expired entries, 1 MB pages ---------------------------------------


def _all_pages(store: DynamoStore, listing: str, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        page = store.list_articles(listing, limit=limit, cursor=cursor)
        assert len(page.items) <= limit
        pages.append([a.id for a in page.items])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


def test_listing_pages_newest_first_with_cursors_bound_to_their_listing(backend: Backend) -> None:
    store = backend.store()
    stories = [article(n) for n in range(7)]
    for a in stories:
        store.create_article(a, guid=None)
    pages = _all_pages(store, "all", 3)
    # Every story once, newest first; nothing is ever skipped or repeated, and no empty page.
    assert [i for page in pages for i in page] == [a.id for a in reversed(stories)]
    assert [len(page) for page in pages] == [3, 3, 1]
    first = store.list_articles("all", limit=3, cursor=None)
    with pytest.raises(CursorError):
        store.list_articles("src#src", limit=3, cursor=first.next_cursor)


def test_a_page_that_ends_the_listing_carries_no_cursor(backend: Backend) -> None:
    """DynamoDB returns a LastEvaluatedKey whenever Limit stops a Query, even with nothing left
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html): a page
    of exactly the listing's last items handed clients a cursor to an empty page."""
    store = backend.store()
    stories = [article(n) for n in range(6)]
    for a in stories:
        store.create_article(a, guid=None)
    first = store.list_articles("all", limit=3, cursor=None)
    second = store.list_articles("all", limit=3, cursor=first.next_cursor)
    assert [a.id for a in (*first.items, *second.items)] == [a.id for a in reversed(stories)]
    assert second.next_cursor is None
    whole = store.list_articles("all", limit=6, cursor=None)
    assert len(whole.items) == 6 and whole.next_cursor is None


def test_a_listing_page_reads_past_expired_entries(backend: Backend) -> None:
    store = backend.store(retention=timedelta(days=30))
    # Newer by publication, so they sort first; first seen earlier, they expire first.
    recent = [article(n, published=T0 + DAY, first_seen=T0) for n in (10, 11, 12)]
    archive = [article(n, published=T0 - 400 * DAY, first_seen=T0 + 20 * DAY) for n in (1, 2)]
    for a in (*recent, *archive):
        store.create_article(a, guid=None)
    backend.now[0] = (T0 + 35 * DAY).timestamp()  # the recent ones expired; TTL has not run

    page = store.list_articles("all", limit=1, cursor=None)
    assert [a.id for a in page.items] == [archive[1].id]
    following = store.list_articles("all", limit=5, cursor=page.next_cursor)
    assert [a.id for a in following.items] == [archive[0].id]
    assert store.count_source_articles("src") == 2


def test_a_full_page_before_expired_entries_ends_the_listing_in_few_queries(backend: Backend) -> None:
    """Past a full page, expired entries (a backfill expires as one stretch) are read a page's
    worth at a time, not one Query each, and the page that ends the listing has no cursor."""
    store = backend.store(retention=timedelta(days=30))
    live = [article(n, published=T0 + 2 * DAY, first_seen=T0 + 20 * DAY) for n in (20, 21, 22)]
    stale = [article(n, published=T0 + DAY, first_seen=T0) for n in range(10)]  # sort after the live
    for a in (*live, *stale):
        store.create_article(a, guid=None)
    backend.now[0] = (T0 + 35 * DAY).timestamp()  # the stale ones expired; TTL has not run
    queries: list[int] = []
    query = backend.client.query

    def counted(**params: object) -> object:
        queries.append(int(params["Limit"]))  # type: ignore[call-overload]
        return query(**params)

    backend.client.query = counted
    try:
        page = store.list_articles("all", limit=3, cursor=None)
    finally:
        backend.client.query = query
    assert [a.id for a in page.items] == [a.id for a in reversed(live)]
    assert page.next_cursor is None
    assert len(queries) <= 4, queries  # 1 item-by-item Query per expired entry was 5, then a cursor


def test_query_pages_stop_at_1_mb_and_the_store_continues_from_the_cursor(backend: Backend) -> None:
    store = backend.store()
    big = incompressible(200 * KB)  # listing entries carry the standfirst: ~165 KB each, compressed
    stories = [article(n, standfirst=big) for n in range(8)]
    for a in stories:
        store.create_article(a, guid=None)
    raw = backend.client.query(
        TableName="t",
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "LIST#all"}},
    )
    assert 3 <= raw["Count"] < 8 and "LastEvaluatedKey" in raw  # 1 MB, not 1.3 MB, per call

    pages = _all_pages(store, "all", 8)
    assert len(pages[0]) < 8  # served short, as DynamoDB cut it
    assert [i for page in pages for i in page] == [a.id for a in reversed(stories)]


def test_a_scan_projected_to_the_key_pages_by_whole_items_and_returns_only_the_key(backend: Backend) -> None:
    """The test tools clear a table from a key-only Scan: the 1 MB page still counts what it
    read, whole items ("the size ... of the items that are read, not ... projected",
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Scan.html#Scan.Pagination)."""
    for n in range(8):
        backend.client.put_item(TableName="t", Item=raw_item(n, 200 * KB))
    first = backend.client.scan(TableName="t", ProjectionExpression="PK, SK")
    assert 3 <= first["Count"] < 8 and "LastEvaluatedKey" in first
    assert all(set(item) == {"PK", "SK"} for item in first["Items"])


# -- the 400 KB item limit ------------------------------------------------------------------------


def test_a_story_over_400_kb_is_refused_and_nothing_of_it_is_written(backend: Backend) -> None:
    store = backend.store()
    # Stored compressed (~430 KB): what makes an item too large is its stored size.
    huge = article(1, content_html="<p>" + incompressible(520 * KB) + "</p>")
    with pytest.raises(ClientError) as caught:
        store.create_article(huge, guid=("src", "g1"))
    assert error_code(caught) == "ValidationException"
    assert store.get_article(huge.id) is None
    assert store.list_articles("all", limit=5, cursor=None).items == ()
    assert store.story_for_guid("src", "g1") is None
    assert store.source_story_counts(["src"]) == {"src": 0}
    with pytest.raises(ClientError) as direct:
        backend.client.put_item(TableName="t", Item=raw_item(1, 420 * KB))
    assert error_code(direct) == "ValidationException"
    backend.client.put_item(TableName="t", Item=raw_item(2, 400_000))  # under both limits


def test_moto_gap_moto_refuses_items_between_405_000_bytes_and_400_kb(moto: Backend, memory: Backend) -> None:
    """moto refuses items over 405,000 bytes (its own estimate); DynamoDB's limit is 400 KB =
    409,600 bytes (ServiceQuotas.html, above), which the memory backend follows. Here moto is
    the stricter: the contract keeps its stories well under both."""
    item = raw_item(1, 406_000)
    with pytest.raises(ClientError):
        moto.client.put_item(TableName="t", Item=item)
    memory.client.put_item(TableName="t", Item=item)


# -- transactions ---------------------------------------------------------------------------------


def test_a_transaction_over_100_actions_is_refused_before_it_is_sent(backend: Backend) -> None:
    store = backend.store()
    puts = [{"Put": {"TableName": "t", "Item": raw_item(n, 100)}} for n in range(101)]
    with pytest.raises(ValueError, match="transaction limit"):
        store._transact(puts)
    assert (
        backend.client.get_item(TableName="t", Key={"PK": raw_item(0, 100)["PK"], "SK": raw_item(0, 100)["SK"]}).get(
            "Item"
        )
        is None
    )


def test_transactions_of_over_100_actions_or_two_actions_on_one_item_are_refused(backend: Backend) -> None:
    puts = [{"Put": {"TableName": "t", "Item": raw_item(n, 100)}} for n in range(101)]
    with pytest.raises(ClientError) as too_many:
        backend.client.transact_write_items(TransactItems=puts)
    assert error_code(too_many) == "ValidationException"
    same = [
        {"Put": {"TableName": "t", "Item": raw_item(1, 100)}},
        {"Delete": {"TableName": "t", "Key": {"PK": {"S": "RAW#0001"}, "SK": {"S": "RAW"}}}},
    ]
    with pytest.raises(ClientError) as twice:
        backend.client.transact_write_items(TransactItems=same)
    assert error_code(twice) == "ValidationException"
    assert "Item" not in backend.client.get_item(TableName="t", Key={"PK": {"S": "RAW#0001"}, "SK": {"S": "RAW"}})


def test_moto_gap_moto_accepts_transactions_over_4_mb(moto: Backend) -> None:
    """moto does not check the 4 MB aggregate (API_TransactWriteItems.html, above): it writes a
    transaction DynamoDB refuses. The memory backend refuses it
    (test_memory_dynamodb.py::test_transactions_over_4_mb_are_refused)."""
    moto.client.transact_write_items(TransactItems=four_mb_transaction())
    assert "Item" in moto.client.get_item(TableName="t", Key={"PK": {"S": "RAW#0010"}, "SK": {"S": "RAW"}})


def test_a_cancelled_transaction_says_why_for_each_action(backend: Backend) -> None:
    store = backend.store()
    store.create_article(article(1), guid=None)
    with pytest.raises(ClientError) as caught:
        backend.client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "t", "Item": raw_item(1, 100)}},
                {
                    "Put": {
                        "TableName": "t",
                        "Item": {**story_key(article(1)), "doc": {"S": "{}"}},
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
            ]
        )
    assert error_code(caught) == "TransactionCanceledException"
    reasons = [r["Code"] for r in caught.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed"]
    assert "Item" not in backend.client.get_item(TableName="t", Key={"PK": {"S": "RAW#0001"}, "SK": {"S": "RAW"}})


# -- BatchGetItem: 100 keys, 16 MB, partial results ---------------------------------------------


def test_reads_of_over_100_keys_and_16_mb_come_back_whole(backend: Backend) -> None:
    store = backend.store()
    # The story item holds it twice (HTML and text): ~380 KB, ~310 KB compressed (zlib looks back
    # 32 KB at most, so the second copy is stored whole too).
    body = incompressible(190 * KB)
    stories = [article(n, content_html=body, content_text=body) for n in range(56)]  # ~17 MB
    for a in stories:
        store.create_article(a, guid=None)
    raw = backend.client.batch_get_item(RequestItems={"t": {"Keys": [story_key(a) for a in stories]}})
    returned = raw["Responses"]["t"]
    assert len(returned) < 56 and len(raw["UnprocessedKeys"]["t"]["Keys"]) == 56 - len(returned)
    assert sum(len(i["doc"]["B"]) for i in returned) <= MAX_BATCH_GET_BYTES

    wanted = [a.id for a in stories] + [f"{n:020x}" for n in range(1000, 1060)]  # 105 ids
    got = store.get_articles(wanted)
    assert [a.id for a in got] == [a.id for a in stories]  # in the order asked, absent ones skipped


def test_batch_get_refuses_over_100_keys_and_duplicate_keys(backend: Backend) -> None:
    keys = [story_key(article(n)) for n in range(101)]
    with pytest.raises(ClientError) as too_many:
        backend.client.batch_get_item(RequestItems={"t": {"Keys": keys}})
    assert error_code(too_many) == "ValidationException"
    with pytest.raises(ClientError) as duplicates:
        backend.client.batch_get_item(RequestItems={"t": {"Keys": [keys[0], keys[0]]}})
    assert error_code(duplicates) == "ValidationException"


# -- injected faults: unprocessed keys and items, throttling --------------------------------------


def test_keys_left_unprocessed_raise_store_incomplete_with_what_was_read(backend: Backend) -> None:
    store = backend.store()
    a, b = article(1), article(2)
    for x in (a, b):
        store.create_article(x, guid=None)
    backend.faults.leave_unprocessed(f"ART#{b.id}|ART")
    with pytest.raises(StoreIncomplete) as caught:
        store.get_articles([a.id, b.id])
    assert caught.value.missing == (f"ART#{b.id}|ART",)
    assert list(caught.value.partial) == [f"ART#{a.id}|ART"]

    backend.faults.clear()
    backend.faults.leave_unprocessed(f"ART#{b.id}|ART", times=1)  # a passing cut: followed
    assert [x.id for x in store.get_articles([a.id, b.id])] == [a.id, b.id]

    store.put_source_state(SourceState("s1"))
    store.put_source_state(SourceState("s2"))
    backend.faults.leave_unprocessed("STATES|s2")
    with pytest.raises(StoreIncomplete) as states:
        store.get_source_states(["s1", "s2"])
    assert states.value.missing == ("s2",) and list(states.value.partial) == ["s1"]


def test_a_batch_of_nothing_but_held_keys_is_refused_for_throughput(backend: Backend) -> None:
    backend.faults.leave_unprocessed("FP#m#1|FP")
    with pytest.raises(ClientError) as caught:
        backend.client.batch_get_item(RequestItems={"t": {"Keys": [{"PK": {"S": "FP#m#1"}, "SK": {"S": "FP"}}]}})
    assert error_code(caught) == "ProvisionedThroughputExceededException"
    store = backend.store()
    backend.faults.leave_unprocessed("FP#m#1|FP")
    with pytest.raises(StoreIncomplete):  # never "unclaimed": that would miss a duplicate
        store.find_fingerprints(["m#1"], now=T0)


def test_items_left_unprocessed_in_a_batch_write_raise_store_incomplete(backend: Backend) -> None:
    store = backend.store()
    price = Price("BTC", "USD", 1.0, None, "x", None, T0)
    backend.faults.leave_unprocessed("PRICES|BTC/USD")
    with pytest.raises(StoreIncomplete, match="BatchWriteItem"):
        store.put_prices([price])
    backend.faults.clear()
    backend.faults.leave_unprocessed("PRICES|BTC/USD", times=1)
    store.put_prices([price])
    assert store.get_prices() == [price]


def test_throttled_transactions_are_retried_then_given_up(backend: Backend) -> None:
    store = backend.store()
    backend.faults.throttle("TransactWriteItems", times=2)
    store.create_article(article(1), guid=None)  # cancelled twice for throughput, then written
    assert store.get_article(article(1).id) is not None
    backend.faults.throttle("TransactWriteItems")
    with pytest.raises(StoreIncomplete, match="TransactWriteItems"):
        store.create_article(article(2), guid=None)
    assert store.get_article(article(2).id) is None


def test_throttled_reads_raise_as_botocore_gives_them_up(backend: Backend) -> None:
    store = backend.store()
    store.create_article(article(1), guid=None)
    backend.faults.throttle("Query", times=1)  # a story and its event item: one Query
    with pytest.raises(ClientError) as caught:
        store.get_article(article(1).id)
    assert error_code(caught) == "ProvisionedThroughputExceededException"
    assert store.get_article(article(1).id) is not None  # the next call goes through
    backend.faults.throttle("BatchGetItem")
    with pytest.raises(StoreIncomplete):
        store.get_articles([article(1).id])


def test_a_share_of_calls_is_throttled_by_a_seeded_random(backend: Backend) -> None:
    store = backend.store()
    backend.faults.throttle("GetItem", share=0.3)
    throttled = []
    for n in range(40):
        try:
            store.get_source(f"s{n}")
        except ClientError:
            throttled.append(n)
    draws = random.Random(0)  # the plan's seed
    assert throttled == [n for n in range(40) if draws.random() < 0.3]


def test_moto_gap_moto_ends_a_page_that_limit_stops_at_the_end_without_a_key(moto: Backend) -> None:
    """moto gives no LastEvaluatedKey when Limit stops a page on the partition's last item, so a
    caller that takes "a key" to mean "more items" passes on moto and pages once too often on
    DynamoDB (Query.Pagination.html, above). The memory backend gives the key
    (test_memory_dynamodb.py::test_a_page_stopped_by_limit_carries_a_last_evaluated_key_even_at_the_end)."""
    moto.client.put_item(TableName="t", Item=raw_item(1, 100))
    page = moto.client.query(
        TableName="t", KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": {"S": "RAW#0001"}}, Limit=1
    )
    assert page["Count"] == 1 and "LastEvaluatedKey" not in page
