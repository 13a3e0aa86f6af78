from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newsroom.codec import MessageError, entry_from_message, entry_to_message, price_from_doc, price_to_doc
from newsroom.models import Price, RawEntry


def test_entry_round_trips() -> None:
    entry = RawEntry(
        source_id="s",
        guid="g",
        link="https://a.example/x",
        title="T ü",
        content_html="<p>]]></p>",
        published=datetime(2026, 5, 31, 8, 30, tzinfo=UTC),
        tags=("a", "b"),
        declared_source_url="https://o.example",
        fetched_at=datetime(2026, 5, 31, 9, tzinfo=UTC),
    )
    assert entry_from_message(entry_to_message(entry)) == entry


@pytest.mark.parametrize(
    "body",
    ["", "{", "[]", '{"v": 2}', '{"v": 1, "source_id": "s"}', '{"v": 1, "source_id": "s", "link": "x"}'],
)
def test_malformed_messages_are_message_errors(body: str) -> None:
    with pytest.raises(MessageError):
        entry_from_message(body)


def test_price_round_trips_exactly() -> None:
    price = Price("BTC", "USD", 68420.13, 2.8123, "coingecko", None, datetime(2026, 5, 31, tzinfo=UTC))
    assert price_from_doc(price_to_doc(price)) == price
