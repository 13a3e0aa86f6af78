"""Event grouping's pairwise rule and its reference grouping, on invented reports (the corpus
evaluation is tests/benchmarks/test_events_eval.py)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from newsroom.core.models import Article, RawEntry, Source, SourceRole
from newsroom.process import events
from newsroom.process.build import ProcessingContext, build_article
from newsroom.process.events_data import COMMON_KEYS

NOW = datetime(2026, 10, 3, 12, 0, tzinfo=UTC)
OUTLETS = ("alpha", "beta", "gamma")
SOURCES = tuple(
    Source(
        id=o,
        name=o.title(),
        feed_url=f"https://{o}.example/feed",
        homepage=f"https://{o}.example",
        role=SourceRole.ORIGINAL,
    )
    for o in OUTLETS
)
CTX = ProcessingContext.build(
    SOURCES,
    site_name="Test",
    desk_name="Test desk",
    editorial_image_base_url="https://cdn.example/editorial",
    max_body_bytes=180_000,
    now=NOW + timedelta(days=10),
)


def report(outlet: str, slug: str, title: str, summary: str, *, hours: float = 0) -> Article:
    entry = RawEntry(
        source_id=outlet,
        guid=f"{outlet}-{slug}",
        link=f"https://{outlet}.example/{slug}",
        title=title,
        summary_html=f"<p>{summary}</p>",
        published=NOW + timedelta(hours=hours),
        fetched_at=NOW + timedelta(hours=hours, minutes=5),
    )
    return build_article(entry, CTX)


ZENTRIX_A = report(
    "alpha",
    "zentrix-hack",
    "Zentrix Exchange Drained of $12.5 Million in Hot Wallet Exploit",
    "Attackers took $12.5 million from Zentrix hot wallets on Friday; withdrawals are paused.",
)
ZENTRIX_B = report(
    "beta",
    "zentrix-exploit",
    "Zentrix halts withdrawals after $12.5M hot wallet breach",
    "The exchange Zentrix said a hot wallet breach cost it $12.5 million and promised refunds.",
    hours=3,
)
KORVO = report(
    "gamma",
    "korvo-bridge",
    "Korvo Bridge Exploited for $40 Million as Hacks Continue",
    "The Korvo cross-chain bridge lost $40 million to an attacker who forged messages.",
    hours=2,
)


def test_two_outlets_reports_of_one_hack_tie_and_say_what_tied_them() -> None:
    tie = events.same_event(events.signature(ZENTRIX_A), events.signature(ZENTRIX_B))
    assert tie is not None
    assert "zentrix" in tie.terms and "$12.5m" in tie.terms


def test_another_hack_the_same_day_is_another_event() -> None:
    korvo = events.signature(KORVO)
    assert events.same_event(events.signature(ZENTRIX_A), korvo) is None
    assert events.same_event(events.signature(ZENTRIX_B), korvo) is None


def test_the_decision_is_symmetric() -> None:
    sigs = [events.signature(a) for a in (ZENTRIX_A, ZENTRIX_B, KORVO)]
    for a in sigs:
        for b in sigs:
            assert events.same_event(a, b) == events.same_event(b, a)


def test_reports_further_apart_than_the_window_do_not_tie() -> None:
    later = report(
        "beta", "zentrix-later", ZENTRIX_B.title, ZENTRIX_B.standfirst, hours=events.WINDOW.total_seconds() / 3600 + 1
    )
    assert events.same_event(events.signature(ZENTRIX_A), events.signature(later)) is None


def test_a_story_never_ties_with_itself() -> None:
    sig = events.signature(ZENTRIX_A)
    assert events.same_event(sig, sig) is None


def test_amounts_written_differently_are_one_key() -> None:
    a, b = events.signature(ZENTRIX_A), events.signature(ZENTRIX_B)
    assert "a:$12.5m" in a.keys and "a:$12.5m" in b.keys


def test_common_keys_are_never_lookup_keys() -> None:
    sig = events.signature(
        report(
            "alpha",
            "etf",
            "Bitcoin ETF Inflows Rise as SEC Weighs Crypto Rules",
            "Bitcoin funds took in money, the SEC said.",
        )
    )
    keys = events.lookup_keys(sig, 10)
    assert keys, sig.keys
    common = {events.stem(w) for w in COMMON_KEYS}
    assert not [k for k in keys if k[2:] in common or k.startswith("b:")]


def test_lookup_keys_respect_the_limit_and_put_the_title_first() -> None:
    sig = events.signature(ZENTRIX_A)
    assert len(events.lookup_keys(sig, 2)) == 2
    assert events.lookup_keys(sig, 2)[0] == "w:zentrix"


def test_a_digest_of_several_events_ties_with_none() -> None:
    digest = report(
        "gamma",
        "recap",
        "Zentrix Hacked! Korvo Drained! Markets Slide!",
        "Zentrix lost $12.5 million and Korvo $40 million.",
    )
    sig = events.signature(digest)
    assert sig.digest and events.lookup_keys(sig, 5) == ()
    assert events.same_event(sig, events.signature(ZENTRIX_A)) is None


def test_group_is_the_same_for_any_order() -> None:
    sigs = [events.signature(a) for a in (ZENTRIX_A, ZENTRIX_B, KORVO)]
    expected = [{ZENTRIX_A.id, ZENTRIX_B.id}, {KORVO.id}]
    rng = random.Random(7)
    for _ in range(6):
        rng.shuffle(sigs)
        assert sorted(map(sorted, events.group(sigs))) == sorted(map(sorted, expected))


def test_signature_round_trips_through_its_compact_encoding() -> None:
    sig = events.signature(ZENTRIX_A)
    text = events.encode(sig)
    assert events.decode(text) == sig
    assert len(text.encode()) < 1024


def test_one_name_and_three_common_words_in_both_headlines_tie() -> None:
    # Only "Zorbank" is specific; "Ripple", "European" and "payments" are common keys that every
    # other Ripple story may carry, but three of them in both headlines corroborate the name.
    lands = report(
        "alpha",
        "zorbank-client",
        "Ripple Payments Lands First European Bank Client in Zorbank",
        "",
    )
    expands = report(
        "beta",
        "zorbank-partnership",
        "Ripple expands European footprint with Zorbank stablecoin payment partnership",
        "The Swiss lender will plug the payment rails into its custody desk.",
        hours=2,
    )
    tie = events.same_event(events.signature(lands), events.signature(expands))
    assert tie is not None
    assert tie.terms[0] == "zorbank"


def test_a_story_naming_another_event_only_in_its_lead_does_not_join_it() -> None:
    # The thief's story is about the Kestrel theft; the Korvo exploit is its background. Before,
    # the Korvo name and figure in its lead tied it to Korvo's reports and bridged the two events.
    thief = report(
        "alpha",
        "kestrel-thief",
        "Kestrel thief launders funds through mixers",
        "The funds moved hours after the Korvo Bridge exploit, which cost $40 million.",
        hours=5,
    )
    korvo = events.signature(KORVO)
    assert events.same_event(events.signature(thief), korvo) is None
    assert events.same_event(korvo, events.signature(thief)) is None
