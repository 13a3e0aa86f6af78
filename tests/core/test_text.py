"""Word counts, reading time, standfirst and content hash, checked against the reference page."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsroom.core.reading import html_to_text
from newsroom.core.text import content_hash, count_words, first_paragraph, make_standfirst, reading_minutes

REFERENCE_PAGE = Path(__file__).resolve().parents[3] / "shared" / "seed" / "article-page.txt"
REFERENCE_STANDFIRST = (
    "Hong Kong is accelerating its push to become a regulated digital asset hub, expanding across "
    "tokenization, crypto investment products, and blockchain infrastructure in a coordinated effort to"
)


@pytest.fixture(scope="module")
def reference_body() -> str:
    """The article body as the page shows it: the second "Hong Kong is accelerating" up to "Disclaimer:"."""
    page = REFERENCE_PAGE.read_text(encoding="utf-8")
    first = page.index("Hong Kong is accelerating")
    start = page.index("Hong Kong is accelerating", first + 1)
    end = page.index("Disclaimer:", start)
    return page[start:end]


def test_reference_body_has_566_words_and_reads_in_4_minutes(reference_body: str) -> None:
    words = count_words(reference_body)
    assert words == 566
    assert reading_minutes(words) == 4


def test_reference_standfirst(reference_body: str) -> None:
    standfirst = make_standfirst(reference_body)
    assert standfirst == REFERENCE_STANDFIRST
    assert len(standfirst) == 191
    # It is also exactly what the page prints as the standfirst.
    assert f"\n{standfirst}\n" in REFERENCE_PAGE.read_text(encoding="utf-8")


def test_reference_body_through_html_gives_the_same_numbers(reference_body: str) -> None:
    paragraphs = [block.strip() for block in reference_body.split("\n\n") if block.strip()]
    html = "".join(f"<p>{paragraph.replace('&', '&amp;')}</p>\n" for paragraph in paragraphs)
    text = html_to_text(html)
    assert count_words(text) == 566
    assert make_standfirst(text) == REFERENCE_STANDFIRST
    assert content_hash(text) == content_hash(reference_body)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("   \n\t ", 0),
        ("one two  three", 3),
        ("— • -- ... !", 0),
        ("$14 billion 180% — Web3", 4),
        ("city's e-mail", 2),
        ("naïve café 東京", 3),
        ("___ a_b", 1),
    ],
)
def test_count_words(text: str, expected: int) -> None:
    assert count_words(text) == expected


def test_an_ascii_text_is_counted_as_the_token_passes_count_it() -> None:
    """ASCII text is counted in bytes; the count is the one of `str.split`'s tokens less the
    punctuation-only ones, on every corpus document (raw and its markup taken out) and on
    random strings of letters, digits, "_", punctuation and every ASCII whitespace."""
    import random
    import re

    from devtools import golden

    def two_passes(text: str) -> int:
        return len(text.split()) - len(re.findall(r"(?<!\S)(?:[^\w\s]|_)+(?!\S)", text))

    texts = []
    for document in golden.documents():
        raw = document.body.decode("ascii", "ignore")
        texts += [raw, re.sub(r"<[^>]+>", " ", raw)]
    rng = random.Random(20261203)  # reproducible test data
    alphabet = "aZ9_ -.,$\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x00\x7f"
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(50_000)]
    assert all(text.isascii() for text in texts)
    for text in texts:
        assert count_words(text) == two_passes(text), repr(text[:200])


@pytest.mark.parametrize(
    ("words", "minutes"),
    [(0, 1), (-5, 1), (1, 1), (150, 1), (151, 2), (300, 2), (301, 3), (566, 4), (600, 4), (601, 5)],
)
def test_reading_minutes(words: int, minutes: int) -> None:
    assert reading_minutes(words) == minutes


def test_standfirst_returns_a_short_first_paragraph_whole() -> None:
    assert make_standfirst("Short lead.\n\nSecond paragraph.") == "Short lead."
    exactly = "x" * 195 + " end."
    assert len(exactly) == 200
    assert make_standfirst(exactly) == exactly


def test_standfirst_skips_leading_blank_blocks_and_collapses_whitespace() -> None:
    assert make_standfirst("\n\n  \n\nLead   with\nodd   spacing.\n \nNext") == "Lead with odd spacing."


def test_standfirst_cuts_on_a_word_boundary_leaving_room_for_an_ellipsis() -> None:
    text = "alpha beta gamma delta epsilon"  # 30 chars
    assert make_standfirst(text, limit=20) == "alpha beta gamma"  # 16 <= 17
    assert make_standfirst(text, limit=19) == "alpha beta gamma"  # the cut falls exactly before " delta"
    assert make_standfirst(text, limit=18) == "alpha beta"
    for limit in range(8, 30):
        result = make_standfirst(text, limit=limit)
        assert len(result) <= limit - 3
        assert text.startswith(result)
        assert text[len(result)] == " "


def test_standfirst_strips_a_dangling_comma_but_keeps_other_punctuation() -> None:
    assert make_standfirst("First clause, second clause goes on", limit=20) == "First clause"
    assert make_standfirst("Is it? Yes it is really long", limit=12) == "Is it?"
    assert make_standfirst("He said: something long here", limit=12) == "He said:"


def test_standfirst_cuts_a_single_overlong_word_hard() -> None:
    assert make_standfirst("x" * 300, limit=200) == "x" * 197


def test_standfirst_of_empty_text() -> None:
    assert make_standfirst("") == ""
    assert first_paragraph("\n\n") == ""


def test_content_hash_ignores_reflowing_but_not_edits() -> None:
    base = content_hash("Bitcoin rose 3% today.\n\nMore text.")
    assert base == content_hash("  Bitcoin  rose 3%\ttoday. More\ntext.  ")
    assert base != content_hash("Bitcoin rose 4% today.\n\nMore text.")
    assert len(base) == 64
    assert int(base, 16) >= 0


def test_the_ascii_content_hash_is_the_digest_of_the_joined_split() -> None:
    """ASCII text is normalised in bytes; the digest is the one of `" ".join(text.split())` (the
    code before, kept here as the reference) on every corpus document (raw, its markup taken
    out, and as the title-and-text pair `build_article` hashes), on the synthetic articles' text
    and on random strings of every ASCII whitespace (runs, ends, \x1c-\x1f, which `bytes.split`
    would keep) between letters and punctuation; non-ASCII texts keep the `str` path."""
    import hashlib
    import random
    import re

    from benchmarks import synthetic
    from devtools import golden
    from newsroom.fetch.feeds import parse_feed
    from newsroom.process.build import build_article

    def joined_split(text: str) -> str:
        return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()

    texts = []
    for document in golden.documents():
        raw = document.body.decode("utf-8", "replace")
        plain = re.sub(r"<[^>]+>", " ", raw)
        texts += [raw, plain, raw.encode("ascii", "ignore").decode(), f"{plain[:80]}\n{plain}"]
    rng = random.Random(20261203)  # reproducible test data
    alphabet = "aZ9_ -.,$\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x00\x7f"
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(50_000)]
    texts += ["", " ", "\x1c", "a\x1fb", "\u00a0a\u2003b\x85", "caf\u00e9  ol\u00e9\n"]
    ctx = synthetic.context(range(1, 3))
    for seed in (1, 2):
        feed = parse_feed(
            synthetic.synthetic_feed(seed), source_id=f"site{seed}", base_url="https://x/", fetched_at=ctx.now
        )
        texts += [f"{a.title}\n{a.content_text}" for a in (build_article(e, ctx) for e in feed.entries)]
    assert sum(text.isascii() for text in texts) > 50_000 and sum(not text.isascii() for text in texts) > 100
    for text in texts:
        assert content_hash(text) == joined_split(text), repr(text[:200])


# -- bidirectional controls (issue 14) ---------------------------------------------------------

BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_bidirectional_controls_are_stripped_and_joiners_kept() -> None:
    from newsroom.core.text import strip_bidi_controls

    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one emoji, held together by U+200D
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # U+200C is part of the word
    assert strip_bidi_controls(f"{BIDI_CONTROLS}a\u202eb{family}{persian}\u200e\u200f") == (
        f"ab{family}{persian}\u200e\u200f"
    )
    assert strip_bidi_controls("plain") == "plain"
