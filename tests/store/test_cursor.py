"""Pagination cursors (`newsroom.store.cursor`): opaque, signed, bound to their listing."""

from __future__ import annotations

import base64
import json

import pytest

from newsroom.store.cursor import MAX_SORT_KEY_BYTES, CursorCodec, CursorError


def test_a_cursor_round_trips_for_its_listing_only() -> None:
    codec = CursorCodec(b"k")
    cursor = codec.encode("all", "2026-05-31T08:00:00Z#ab")
    assert "=" not in cursor
    assert codec.decode("all", cursor) == "2026-05-31T08:00:00Z#ab"
    with pytest.raises(CursorError, match="different filter"):
        codec.decode("cat#policy", cursor)
    with pytest.raises(CursorError, match="not issued"):
        CursorCodec(b"other").decode("all", cursor)


def test_a_secret_given_as_a_callable_is_read_once_and_only_when_a_cursor_is_used() -> None:
    reads: list[int] = []

    def secret() -> bytes:
        reads.append(1)
        return b"k"

    codec = CursorCodec(secret)
    assert reads == []
    cursor = codec.encode("all", "x")
    assert codec.decode("all", cursor) == "x"
    assert reads == [1]
    assert CursorCodec(b"k").decode("all", cursor) == "x"


@pytest.mark.parametrize("key", ["", "x" * (MAX_SORT_KEY_BYTES + 1), "\ud800"])
def test_a_signed_payload_that_is_no_sort_key_is_refused(key: str) -> None:
    codec = CursorCodec(b"k")
    payload = json.dumps({"l": "all", "k": key}).encode()
    forged = base64.urlsafe_b64encode(codec._sign(payload) + payload).decode().rstrip("=")
    with pytest.raises(CursorError, match="page position"):
        codec.decode("all", forged)


def test_garbage_is_refused_as_a_cursor_error() -> None:
    with pytest.raises(CursorError):
        CursorCodec(b"k").decode("all", "!!!")
    with pytest.raises(CursorError):
        CursorCodec(b"k").decode("all", "")
