"""The source registry (moto), OPML import/export and the admin command."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from devtools.sources_admin import main as admin
from devtools.template import create_table
from newsroom.core.config import load_sources, parse_sources
from newsroom.core.models import Category, Rights, SourceRole, SourceState
from newsroom.sources.opml import OpmlError, from_opml, to_opml
from newsroom.store.dynamo import DynamoStore

NOW = datetime(2026, 5, 31, 12, 0, tzinfo=UTC)

READER_OPML = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0"><head><title>My feeds</title></head><body>
  <outline text="DeFi" title="DeFi">
    <outline type="rss" text="The Defiant" xmlUrl="https://thedefiant.io/feed" htmlUrl="https://thedefiant.io"/>
  </outline>
  <outline text="Reading">
    <outline type="rss" title="Blockworks" xmlUrl="https://blockworks.co/feed"/>
    <outline type="rss" title="Blockworks research" xmlUrl="https://blockworks.co/research/feed"/>
  </outline>
</body></opml>"""


@pytest.fixture
def store() -> Iterator[DynamoStore]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "t")
        yield DynamoStore(client, "t", b"secret")


def test_opml_export_then_import_is_lossless_for_our_fields() -> None:
    sources = list(load_sources())

    back = from_opml(to_opml(sources, now=NOW))

    assert [(s.id, s.name, s.feed_url, s.homepage, s.role, s.rights, s.interval_minutes, s.language) for s in back] == [
        (s.id, s.name, s.feed_url, s.homepage, s.role, s.rights, s.interval_minutes, s.language) for s in sources
    ]


def test_a_feed_readers_opml_imports_with_folders_as_categories_and_excerpt_rights() -> None:
    defiant, blockworks, research = from_opml(READER_OPML)

    assert (defiant.id, defiant.name, defiant.category_hint) == ("thedefiant-io", "The Defiant", Category.DEFI)
    assert defiant.rights is Rights.EXCERPT and defiant.role is SourceRole.ORIGINAL
    assert (blockworks.id, research.id) == ("blockworks-co", "blockworks-co-2")
    assert blockworks.category_hint is None


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaa">]><opml><body/></opml>', "DOCTYPE"),
        (b"<opml><body><outline xmlUrl='ftp://x.example/feed'/></body></opml>", "http"),
        (b"<rss/>", "not an OPML"),
        (b"<opml><body>", "well-formed"),
        (b"<opml><body><outline xmlUrl='https://a.example/f' rights='all'/></body></opml>", "Rights"),
    ],
)
def test_bad_opml_is_refused_with_a_reason(document: bytes, message: str) -> None:
    with pytest.raises(OpmlError, match=message):
        from_opml(document)


def test_seed_writes_once_and_never_overrides_an_admin_edit(store: DynamoStore) -> None:
    sources = load_sources()
    assert store.seed_sources(sources) == len(sources)
    assert store.seed_sources(sources) == 0  # unchanged file: nothing written

    store.put_source(replace(sources[0], enabled=False), origin="admin")
    edited_file = (replace(sources[0], name="Renamed in the file"), *sources[1:])
    assert store.seed_sources(edited_file) == len(sources) - 1
    first = store.get_source(sources[0].id)
    assert first is not None and not first.enabled and first.name == sources[0].name
    assert {s.id for s in store.list_sources()} == {s.id for s in sources}


def test_registry_pages_through_many_sources(store: DynamoStore) -> None:
    base = load_sources()[0]
    for n in range(1200):  # ~1.2 MB of items: more than one Query page
        store.put_source(replace(base, id=f"s{n:04d}", name="x" * 800))
    assert len(store.list_sources()) == 1200


def test_admin_add_list_disable_enable(store: DynamoStore, tmp_path: Path) -> None:
    out = io.StringIO()
    code = admin(
        [
            "add",
            "--id",
            "cj",
            "--name",
            "CoinJournal",
            "--feed-url",
            "https://coinjournal.net/feed/",
            "--rights",
            "full",
        ],
        store=store,
        out=out,
    )
    assert code == 0
    added = store.get_source("cj")
    assert added is not None and added.rights is Rights.FULL

    store.put_source_state(SourceState("cj", disabled=True, disabled_reason="http-410: gone", consecutive_failures=3))
    assert admin(["disable", "cj"], store=store, out=out) == 0
    assert not store.get_source("cj").enabled  # type: ignore[union-attr]
    assert admin(["enable", "cj"], store=store, out=out) == 0
    assert store.get_source("cj").enabled  # type: ignore[union-attr]
    state = store.get_source_states(["cj"])["cj"]
    assert not state.disabled and state.consecutive_failures == 0
    assert admin(["disable", "nope"], store=store, out=out) == 1

    listing = io.StringIO()
    admin(["list"], store=store, out=listing)
    assert "cj" in listing.getvalue() and "full" in listing.getvalue()

    opml_file = tmp_path / "feeds.opml"
    opml_file.write_bytes(READER_OPML)
    admin(["import-opml", str(opml_file)], store=store, out=out)
    exported = io.StringIO()
    admin(["export-opml"], store=store, out=exported)
    assert {s.id for s in from_opml(exported.getvalue())} == {"cj", "thedefiant-io", "blockworks-co", "blockworks-co-2"}


def test_the_admin_list_shows_the_next_poll_the_dispatcher_will_make_not_a_stale_stored_one(
    store: DynamoStore,
) -> None:
    """An unchanged poll leaves `next_poll` as it was for up to HEALTH_REFRESH (6 h): the list
    shows the grid's next point, as GET /sources does."""
    source = replace(load_sources()[0], enabled=True)
    store.put_source(source)
    now = datetime(2026, 6, 1, 12, 7, tzinfo=UTC)
    stale = datetime(2026, 6, 1, 7, 0, tzinfo=UTC)  # written five hours ago, on a 15-minute grid
    store.put_source_state(SourceState(source.id, next_poll=stale, poll_interval_s=900, last_success=stale))
    listing = io.StringIO()
    admin(["list"], store=store, out=listing, now=now)
    row = next(line for line in listing.getvalue().splitlines() if line.startswith(source.id))
    assert "2026-06-01T12:15:00" in row and "07:00:00" not in row


def test_count_source_articles_is_derived_from_the_listing(store: DynamoStore) -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    for n in range(3):
        item = {"PK": {"S": "LIST#src#pub"}, "SK": {"S": f"2026-05-31T00:00:0{n}Z#{n}"}, "doc": {"S": "{}"}}
        client.put_item(TableName="t", Item=item)
        client.put_item(TableName="t", Item=item)  # a replay writes the same key: still one story
    client.put_item(TableName="t", Item={"PK": {"S": "LIST#src#other"}, "SK": {"S": "x"}, "doc": {"S": "{}"}})

    assert store.count_source_articles("pub") == 3
    assert store.count_source_articles("nobody") == 0


def test_sources_file_declares_rights_and_intervals() -> None:
    text = (Path(__file__).resolve().parents[2] / "shared" / "newsroom" / "sources" / "sources.json").read_text()
    for source in parse_sources(text):
        assert source.rights in (Rights.FULL, Rights.EXCERPT)
        assert source.interval_minutes is not None and source.interval_minutes >= 5


def test_direction_overrides_are_stripped_from_source_names_from_every_origin() -> None:
    from newsroom.core.config import source_from_json

    configured = parse_sources(
        '[{"id": "a", "name": "Good \\u202eswen\\u202c Daily", "feed_url": "https://a.example/f"}]'
    )
    registry = source_from_json(
        {"id": "b", "name": "\u2066Block\u2069 \u200dLedger", "feed_url": "https://b.example/f"}
    )
    (imported,) = from_opml(
        '<opml version="2.0"><body><outline text="\u202bThe\u202c Defiant" xmlUrl="https://c.example/f"/></body></opml>'
    )

    names = [configured[0].name, registry.name, imported.name]
    assert names == ["Good swen Daily", "Block \u200dLedger", "The Defiant"]
