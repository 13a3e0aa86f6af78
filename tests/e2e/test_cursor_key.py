"""The cursor key is the table's own item (`store.cursor.stored_cursor_key`), created by the first
request that pages, read once per execution environment and by paging requests only; with no
table key configured (the tests' CURSOR_SECRET) the environment's key is used."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from devtools.stack import TEST_CURSOR_SECRET
from newsroom.store.cursor import CURSOR_KEY_BYTES, CursorCodec
from newsroom.store.dynamo import DynamoStore
from newsroom.store.keys import CURSOR_KEY_PARTITION
from newsroom.wiring import clients as runtime
from tests.e2e.conftest import Stack

KEY_ITEM = {"PK": {"S": CURSOR_KEY_PARTITION}, "SK": {"S": "KEY"}}


def _key_in_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURSOR_KEY_IN_TABLE", "true")
    runtime.reset()  # a new execution environment


def _page(stack: Stack, path: str) -> dict[str, object]:
    response = stack.get(path)
    assert response["statusCode"] == 200, response["body"]
    return dict(json.loads(str(response["body"])))


def _stored(stack: Stack) -> bytes | None:
    item = stack.dynamodb.get_item(TableName=stack.resources.table_name, Key=KEY_ITEM).get("Item")
    return bytes(item["key"]["B"]) if item else None


def test_cursors_are_signed_with_the_key_the_first_paging_request_stored(
    loaded: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    _key_in_table(monkeypatch)
    assert _stored(loaded) is None

    first = _page(loaded, "/articles?limit=2")
    key = _stored(loaded)
    assert key is not None and len(key) == CURSOR_KEY_BYTES
    cursor = str(first["next_cursor"])
    assert CursorCodec(key).decode("all", cursor)  # the table's key signed it
    with pytest.raises(ValueError, match="not issued by this API"):
        CursorCodec(TEST_CURSOR_SECRET.encode()).decode("all", cursor)  # not the environment's
    second = _page(loaded, f"/articles?limit=2&cursor={cursor}")
    assert {a["id"] for a in second["items"]}.isdisjoint(a["id"] for a in first["items"])  # type: ignore[union-attr]
    sources = _page(loaded, "/sources?limit=1")
    assert CursorCodec(key).decode("/sources", str(sources["next_cursor"]))  # /sources signs with it too

    # A new execution environment reads the same key: its cursors still page...
    runtime.reset()
    assert _page(loaded, f"/articles?limit=2&cursor={cursor}")["items"] == second["items"]
    assert _stored(loaded) == key
    # ...and a forged cursor (signed with the environment's key) is a 400.
    forged = CursorCodec(TEST_CURSOR_SECRET.encode()).encode("all", "9999")
    assert loaded.get(f"/articles?limit=2&cursor={forged}")["statusCode"] == 400


def test_rotating_the_key_is_deleting_its_item(loaded: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    _key_in_table(monkeypatch)
    cursor = str(_page(loaded, "/articles?limit=2")["next_cursor"])
    loaded.dynamodb.delete_item(TableName=loaded.resources.table_name, Key=KEY_ITEM)
    runtime.reset()

    refused = loaded.get(f"/articles?limit=2&cursor={cursor}")

    assert refused["statusCode"] == 400  # the old cursors are refused: start the listing again
    assert _page(loaded, "/articles?limit=2")["next_cursor"]
    assert _stored(loaded) is not None  # a new key was stored


def test_environments_racing_to_create_the_key_all_use_the_one_stored(loaded: Stack) -> None:
    table = loaded.resources.table_name
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: DynamoStore(loaded.dynamodb, table, None).stored_cursor_key(), range(16)))

    assert keys == {_stored(loaded)}


class _LateReader:
    """A client whose first read of the key finds nothing: another environment stores its key
    between this one's read and its conditional put (the race the threads above reach now
    and then; here every time)."""

    def __init__(self, client: Any, theirs: bytes) -> None:
        self._client, self._theirs, self._reads = client, theirs, 0
        self.exceptions = client.exceptions

    def get_item(self, **kwargs: Any) -> Any:
        self._reads += 1
        if self._reads == 1:
            self._client.put_item(TableName=kwargs["TableName"], Item={**KEY_ITEM, "key": {"B": self._theirs}})
            return {}
        return self._client.get_item(**kwargs)

    def put_item(self, **kwargs: Any) -> Any:
        return self._client.put_item(**kwargs)


def test_an_environment_that_loses_the_race_uses_the_key_that_won(loaded: Stack) -> None:
    theirs = b"t" * CURSOR_KEY_BYTES
    client = _LateReader(loaded.dynamodb, theirs)

    key = DynamoStore(client, loaded.resources.table_name, None).stored_cursor_key()

    assert key == theirs == _stored(loaded)


def test_a_request_that_does_not_page_never_reads_the_key(loaded: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fetch and process functions build the same store and never sign; on the API, a story
    or a first page without a next page reads no key (and so creates none)."""
    _key_in_table(monkeypatch)
    story = json.loads(str(loaded.get("/articles?limit=100")["body"]))
    assert story["next_cursor"] is None  # every story fits: nothing was signed
    assert loaded.get(f"/articles/{story['items'][0]['id']}")["statusCode"] == 200
    assert loaded.get("/prices")["statusCode"] == 200

    assert _stored(loaded) is None


def test_without_a_table_key_the_environments_key_signs_cursors(loaded: Stack) -> None:
    """The tests' default: CURSOR_SECRET (or the local default), nothing stored."""
    assert runtime.settings().cursor_key_in_table is False
    cursor = str(_page(loaded, "/articles?limit=2")["next_cursor"])
    assert CursorCodec(TEST_CURSOR_SECRET.encode()).decode("all", cursor)
    assert _stored(loaded) is None
