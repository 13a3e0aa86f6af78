from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newsroom.core.codec import MessageError, entry_from_message, entry_to_message, price_from_doc, price_to_doc
from newsroom.core.models import Price, RawEntry


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

    from newsroom.core.claimcheck import claim_for, claim_in, pointer_message, verified
    from newsroom.core.codec import MessageError

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


# -- dates in any year (issue 14) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00Z"),
        (datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC), "0999-12-31T23:59:59Z"),
        (datetime(2026, 5, 31, 12, 0, 7, 999, tzinfo=UTC), "2026-05-31T12:00:07Z"),
        (datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), "9999-12-31T23:59:59Z"),
    ],
)
def test_iso_writes_four_digit_years_that_read_back_and_sort(moment: datetime, text: str) -> None:
    from newsroom.core.models import iso, parse_iso

    assert iso(moment) == text
    assert parse_iso(text) == moment.replace(microsecond=0)


def test_iso_keeps_the_format_of_existing_sort_keys() -> None:
    # Listing sort keys already stored were written with strftime: normal years must not change.
    from newsroom.core.models import iso

    for moment in (datetime(1999, 1, 2, 3, 4, 5, tzinfo=UTC), datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)):
        assert iso(moment) == moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    years = [1, 999, 1000, 2026, 9999]
    keys = [iso(datetime(year, 6, 1, tzinfo=UTC)) for year in years]
    assert sorted(keys) == keys


def test_an_entry_dated_year_1_round_trips_through_its_message() -> None:
    entry = RawEntry(
        source_id="s",
        guid=None,
        link="https://a.example/1",
        title="Old",
        summary_html="",
        content_html="",
        author=None,
        published=datetime(1, 1, 1, tzinfo=UTC),
        updated=None,
        tags=(),
        language=None,
        image_url=None,
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
    )

    assert entry_from_message(entry_to_message(entry)).published == datetime(1, 1, 1, tzinfo=UTC)


def test_iso_writes_every_moment_as_its_fields_formatted_one_by_one() -> None:
    """`iso` through `isoformat` is the field-by-field text it replaced, in every year, with or
    without a fraction of a second, from any offset and from naive times (taken as UTC)."""
    import random
    from datetime import timedelta, timezone

    from newsroom.core.models import iso, utc

    def by_fields(moment: datetime) -> str:
        m = utc(moment)
        return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"

    rng = random.Random(14)
    zones = [UTC, None, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-11, seconds=59))]
    low, high = datetime(1, 1, 2).toordinal(), datetime(9999, 12, 30).toordinal()
    for _ in range(20_000):
        day = datetime.fromordinal(rng.randint(low, high))
        moment = day.replace(
            hour=rng.randrange(24),
            minute=rng.randrange(60),
            second=rng.randrange(60),
            microsecond=rng.choice([0, rng.randrange(1_000_000)]),
            tzinfo=rng.choice(zones),
        )
        assert iso(moment) == by_fields(moment), moment
