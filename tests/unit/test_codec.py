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


def test_claim_checks_round_trip_and_refuse_what_does_not_match() -> None:
    import json

    import pytest

    from newsroom.claimcheck import claim_for, claim_in, pointer_message, verified
    from newsroom.codec import MessageError

    payload = json.dumps({"v": 1, "title": "ünïcode " * 10}).encode()
    claim = claim_for("bucket", "pub/with odd:chars", payload)
    assert claim.key.startswith("entries/pub_with_odd_chars/") and claim.key.endswith(".json")
    pointer = pointer_message(claim, source_id="pub", link="https://pub.example/a")
    assert claim_in(pointer) == claim
    assert verified(claim, payload) == payload.decode()
    with pytest.raises(MessageError, match="does not match"):
        verified(claim, payload[:-1] + b"!")
    # A message that carries its entry (even one whose text mentions "claim") is not a pointer.
    assert claim_in('{"v":1,"title":"a \\"claim\\" of fraud","link":"x"}') is None
    assert claim_in('not json with "claim"') is None
    with pytest.raises(MessageError, match="malformed claim check"):
        claim_in('{"v":1,"claim":{"bucket":"b"}}')
