"""Stories, listings, GUID claims and story counts (`newsroom.store.stories`): DynamoStore against
moto, on the table template.yaml defines."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from devtools.memory_dynamodb import memory_store
from devtools.template import create_table
from newsroom.core.models import Article, Category, Image, Kind, StoredArticle
from newsroom.store.cursor import CursorError
from newsroom.store.dynamo import DynamoStore
from newsroom.store.keys import listing_keys
from newsroom.store.table import ConflictError

T0 = datetime(2026, 5, 31, 8, tzinfo=UTC)


def article(n: int, **changes: object) -> Article:
    base = Article(
        id=f"{n:020x}",
        canonical_url=f"https://a.example/{n}",
        url=f"https://a.example/{n}",
        guid=f"g{n}",
        source_id="defiliban",
        source_name="DeFi Liban",
        title=f"Story {n}",
        content_html=f"<p>Body {n}</p>",
        content_text=f"Body {n}",
        standfirst=f"Body {n}",
        word_count=2,
        reading_minutes=1,
        published=T0 + timedelta(minutes=n),
        updated=T0 + timedelta(minutes=n),
        first_seen=T0 + timedelta(minutes=n),
        language="en",
        image=Image(url="https://i.example/x.jpg", alt="x"),
        category=Category.POLICY,
        coins=("BTC",),
        kind=Kind.NEWS,
        author="Anonymous",
        desk="Desk",
        content_hash=f"h{n}",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_create_then_read_back(store: DynamoStore) -> None:
    a = article(1)
    store.create_article(a, guid=("defiliban", "g1"))
    stored = store.get_article(a.id)
    assert stored is not None and stored.article == a and stored.version == 1
    assert store.story_for_guid("defiliban", "g1") == a.id
    with pytest.raises(ConflictError):
        store.create_article(a, guid=None)


def test_listings_page_newest_first_with_signed_cursors(store: DynamoStore) -> None:
    for n in range(5):
        store.create_article(article(n), guid=None)
    first = store.list_articles("all", limit=2, cursor=None)
    assert [a.title for a in first.items] == ["Story 4", "Story 3"]
    assert first.items[0].content_html == ""  # listing entries carry no body
    second = store.list_articles("all", limit=2, cursor=first.next_cursor)
    assert [a.title for a in second.items] == ["Story 2", "Story 1"]
    assert first.next_cursor is not None
    with pytest.raises(CursorError):
        store.list_articles("cat#policy", limit=2, cursor=first.next_cursor)
    with pytest.raises(CursorError):
        store.list_articles("all", limit=2, cursor=first.next_cursor[:-3] + "AAA")


def test_replace_moves_listing_entries_and_checks_the_version(store: DynamoStore) -> None:
    a = article(1)
    store.create_article(a, guid=None)
    stored = store.get_article(a.id)
    assert stored is not None
    b = replace(a, category=Category.SECURITY, coins=("ETH",), title="Changed")
    store.replace_article(stored, b, guid=None)
    assert [x.title for x in store.list_articles("cat#security", limit=5, cursor=None).items] == ["Changed"]
    assert store.list_articles("cat#policy", limit=5, cursor=None).items == ()
    assert store.list_articles("coin#btc", limit=5, cursor=None).items == ()
    assert set(listing_keys(b)) == {"all", "cat#security", "src#defiliban", "coin#eth"}
    with pytest.raises(ConflictError):
        store.replace_article(stored, replace(b, title="stale writer"), guid=None)


def test_a_source_story_count_moves_with_the_story_and_ignores_replays(store: DynamoStore) -> None:
    from dataclasses import replace

    from newsroom.store.table import ConflictError

    copy_first = article(1, source_id="cryptowire")
    store.create_article(copy_first, guid=None)
    assert store.source_story_counts(["cryptowire", "defiliban", "nobody"]) == {
        "cryptowire": 1,
        "defiliban": 0,
        "nobody": 0,
    }
    with pytest.raises(ConflictError):  # a replayed create loses its condition: nothing changes
        store.create_article(copy_first, guid=None)
    assert store.source_story_counts(["cryptowire"]) == {"cryptowire": 1}

    stored = store.get_article(copy_first.id)
    assert stored is not None
    promoted = replace(copy_first, source_id="defiliban")  # the original arrived and took the credit
    store.replace_article(stored, promoted, guid=None)
    assert store.source_story_counts(["cryptowire", "defiliban"]) == {"cryptowire": 0, "defiliban": 1}
    with pytest.raises(ConflictError):  # a stale replace (an old version) changes nothing either
        store.replace_article(stored, promoted, guid=None)
    assert store.source_story_counts(["cryptowire", "defiliban"]) == {"cryptowire": 0, "defiliban": 1}
    assert store.count_source_articles("defiliban") == 1 and store.count_source_articles("cryptowire") == 0


# -- retention: counted from when we first saw an entry ---------------------------------------------


@pytest.fixture
def month_store() -> Iterator[DynamoStore]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "t")
        yield DynamoStore(client, "t", b"secret", retention=timedelta(days=30))


def _expiry(store: DynamoStore, a: Article) -> int:
    item = store._db.get_item(TableName="t", Key={"PK": {"S": f"ART#{a.id}"}, "SK": {"S": "ART"}})["Item"]
    return int(item["expires_at"]["N"])


def test_an_archive_entry_expires_retention_after_first_seen_and_never_stored_expired(
    month_store: DynamoStore,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    day = timedelta(days=1)
    archive = article(1, published=now - 700 * day, updated=now - 700 * day, first_seen=now - day)
    month_store.create_article(archive, guid=None)
    assert _expiry(month_store, archive) == int((now + 29 * day).timestamp())
    assert month_store.get_article(archive.id) is not None

    # First seen longer ago than the retention (a very late replay): kept `retention` from now.
    replayed = article(2, published=now - 90 * day, updated=now - 90 * day, first_seen=now - 60 * day)
    month_store.create_article(replayed, guid=None)
    assert abs(_expiry(month_store, replayed) - int((now + 30 * day).timestamp())) <= 5
    stored = month_store.get_article(replayed.id)
    assert stored is not None
    with pytest.raises(ConflictError):  # present, so a redelivery cannot create (and count) it again
        month_store.create_article(replayed, guid=None)
    assert month_store.source_story_counts(["defiliban"]) == {"defiliban": 2}

    # A correction keeps that expiry rather than recomputing an expired one.
    month_store.replace_article(stored, replace(replayed, title="Corrected"), guid=None)
    assert abs(_expiry(month_store, replayed) - int((now + 30 * day).timestamp())) <= 5
    assert [a.title for a in month_store.list_articles("all", limit=5, cursor=None).items] == ["Corrected", "Story 1"]


def test_a_listing_page_reads_past_expired_entries_that_sort_before_live_ones(month_store: DynamoStore) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    day = timedelta(days=1)
    # Newer by publication, so they sort first; first seen ten days ago, they expire first.
    recent = [
        article(n, published=now - 10 * day, updated=now - 10 * day, first_seen=now - 10 * day) for n in (10, 11, 12)
    ]
    archive = [article(n, published=now - 400 * day, updated=now - 400 * day, first_seen=now) for n in (1, 2)]
    for a in (*recent, *archive):
        month_store.create_article(a, guid=None)
    month_store._clock = lambda: (now + 25 * day).timestamp()  # the recent ones expired; TTL not run

    page = month_store.list_articles("all", limit=1, cursor=None)
    assert [a.id for a in page.items] == [archive[1].id]
    rest = month_store.list_articles("all", limit=5, cursor=page.next_cursor)
    assert [a.id for a in rest.items] == [archive[0].id] and rest.next_cursor is None


class _StalledListings:
    """A DynamoDB client whose writes to listing partitions (`LIST#`) are held while `stalled`
    and sent, in order, by `release`: a processor paused between a new story's transaction and
    its listing entries, as a throttled BatchWriteItem's retries or a frozen Lambda pause it."""

    def __init__(self, client: object) -> None:
        self._client = client
        self.stalled = False
        self.held: list[dict[str, object]] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self._client, name)

    def put_item(self, **kwargs: object) -> object:
        if self.stalled and str(kwargs["Item"]["PK"]["S"]).startswith("LIST#"):  # type: ignore[index]
            self.held.append(kwargs)
            return {}
        return self._client.put_item(**kwargs)  # type: ignore[attr-defined]

    def release(self) -> None:
        client = self._client
        for kwargs in self.held:
            # Refused by the store's own condition: the store takes it so too.
            with contextlib.suppress(client.exceptions.ConditionalCheckFailedException):  # type: ignore[attr-defined]
                client.put_item(**kwargs)  # type: ignore[attr-defined]
        self.held.clear()


def _created_with_listings_stalled(store: DynamoStore, story: Article) -> tuple[_StalledListings, StoredArticle]:
    """`story` created with its listing writes held back (the writer paused after its
    transaction), and the story as stored."""
    stalled = _StalledListings(store._db)
    store._db = stalled
    stalled.stalled = True
    store.create_article(story, guid=None)
    stalled.stalled = False
    stored = store.get_article(story.id)
    assert stored is not None
    return stalled, stored


@pytest.fixture(params=["moto", "memory"])
def either_store(request: pytest.FixtureRequest) -> Iterator[DynamoStore]:
    if request.param == "memory":
        yield memory_store()
        return
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "t")
        yield DynamoStore(client, "t", b"secret")


@pytest.mark.parametrize("change", ["publication", "source"])
def test_a_new_story_s_listing_write_landing_after_a_racing_replace_leaves_no_stale_entry(
    either_store: DynamoStore, change: str
) -> None:
    store = either_store
    # The listing entries follow the story's transaction (issue 18). A replace that commits in
    # between (a correction moving the publication time, or the story promoted to the source of
    # its original) deletes or overwrites entries the stalled write then lands on: no entry of the
    # first version may come back, in any listing the story was or is in.
    first = article(1)
    stalled, previous = _created_with_listings_stalled(store, first)
    if change == "publication":
        later = first.published + timedelta(hours=2)
        second = replace(first, published=later, updated=later)
    else:
        later = first.updated + timedelta(hours=2)
        second = replace(first, source_id="cryptowire", source_name="Crypto Wire", updated=later)
    store.replace_article(previous, second, guid=None)
    stalled.release()
    for listing in sorted({*listing_keys(first), *listing_keys(second)}):
        items = store.list_articles(listing, limit=10, cursor=None).items
        expected = [second] if listing in listing_keys(second) else []
        assert [(a.id, a.published, a.source_id) for a in items] == [
            (a.id, a.published, a.source_id) for a in expected
        ], listing


def test_a_tombstone_refuses_late_writes_for_a_day_then_expires(either_store: DynamoStore) -> None:
    store = either_store
    now = time.time()
    store._clock = lambda: now
    first = article(1)
    stalled, previous = _created_with_listings_stalled(store, first)
    later = first.published + timedelta(hours=2)
    store.replace_article(previous, replace(first, published=later, updated=later), guid=None)
    stones = [i for i in store._db.scan(TableName="t")["Items"] if "gone" in i]
    assert len(stones) == len(listing_keys(first)) and all(i["version"]["N"] == "2" for i in stones)
    # A day, not the story's year: the write it refuses comes from one processor invocation.
    assert {int(i["expires_at"]["N"]) for i in stones} == {int(now) + 86_400}
    assert stalled.held
    store._clock = lambda: now + 86_399  # within the day: the late writes are refused
    stalled.release()
    items = store._db.scan(TableName="t")["Items"]
    assert not [i for i in items if i["PK"]["S"].startswith("LIST#") and "gone" not in i and i["version"]["N"] == "1"]
    # Past the day a tombstone counts as absent to a write, as any expired item does; a late write
    # that late does not happen (the processor's timeout is 30 s and its retries stay inside it).


def test_a_tombstone_never_outlives_its_story(store: DynamoStore) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    short = DynamoStore(store._db, "t", b"secret", retention=timedelta(hours=3), clock=now.timestamp)
    first = article(1, published=now - timedelta(hours=2), updated=now, first_seen=now - timedelta(hours=2))
    short.create_article(first, guid=None)
    previous = short.get_article(first.id)
    assert previous is not None
    later = first.published + timedelta(minutes=30)
    short.replace_article(previous, replace(first, published=later, updated=later), guid=None)
    story_expiry = int(
        short._db.get_item(TableName="t", Key={"PK": {"S": f"ART#{first.id}"}, "SK": {"S": "ART"}})["Item"][
            "expires_at"
        ]["N"]
    )
    stones = [i for i in short._db.scan(TableName="t")["Items"] if "gone" in i]
    assert stones and {int(i["expires_at"]["N"]) for i in stones} == {story_expiry}
    assert story_expiry < now.timestamp() + 86_400


@pytest.mark.parametrize("history", ["corrected", "written before versions"])
def test_a_story_stored_again_after_it_expired_is_listed_over_its_old_entries(
    month_store: DynamoStore, history: str
) -> None:
    # Found by review: entries of the story's first life, expired but not yet deleted by TTL, at
    # a newer version (it was corrected) or with no version (written before listing entries had
    # one), refused the new life's entries, and nothing would ever list it.
    now = datetime.now(UTC).replace(microsecond=0)
    day = timedelta(days=1)
    first = article(1, published=now - 10 * day, updated=now - 10 * day, first_seen=now - 10 * day)
    month_store.create_article(first, guid=None)
    if history == "corrected":
        stored = month_store.get_article(first.id)
        assert stored is not None
        month_store.replace_article(stored, replace(first, title="Corrected", updated=now - 9 * day), guid=None)
    else:
        db = month_store._db
        for item in db.scan(TableName="t")["Items"]:
            if item["PK"]["S"].startswith("LIST#"):
                del item["version"]
                db.put_item(TableName="t", Item=item)
    month_store._clock = lambda: (now + 25 * day).timestamp()  # expired; TTL has not run
    assert month_store.get_article(first.id) is None
    month_store.create_article(first, guid=None)  # stored again: a late replay
    listed = month_store.list_articles("all", limit=5, cursor=None).items
    assert [(a.id, a.title) for a in listed] == [(first.id, "Story 1")]
