"""Shingle fingerprints: exact against a naive implementation, stable, and locality-sensitive."""

from __future__ import annotations

import hashlib
import itertools
import os
import subprocess
import sys
import time
from functools import cache
from pathlib import Path

import feedparser
import pytest

from newsroom.core.reading import html_to_text
from newsroom.process.fingerprint import (
    MIN_WORDS,
    SHINGLE_WORDS,
    fingerprint,
    shingle_hashes,
    words_of,
)

ROOT = Path(__file__).resolve().parents[2]
REAL_FEEDS = ROOT / ".." / "shared" / "corpus" / "real-feeds"


@cache
def _real_texts() -> tuple[str, ...]:
    """Every real-feed entry's text, parsed once per run, when a test first asks (not at
    collection, which every test worker does)."""
    texts = []
    for path in sorted(REAL_FEEDS.glob("*.xml")):
        for entry in feedparser.parse(path).entries:
            content = entry.content[0].value if entry.get("content") else ""
            raw = max(content, entry.get("summary", ""), key=len)
            texts.append(html_to_text(raw))
    return tuple(texts)


def _texts(min_words: int = 0) -> list[str]:
    return [text for text in _real_texts() if len(text.split()) >= min_words]


def _long_texts() -> list[str]:
    return _texts(min_words=150)


def _naive(words: list[bytes]) -> list[int]:
    mask = (1 << 64) - 1

    def h(word: bytes) -> int:
        return int.from_bytes(hashlib.blake2b(word, digest_size=8).digest(), "little")

    def rotl(value: int, bits: int) -> int:
        return ((value << bits) | (value >> (64 - bits))) & mask

    return [
        h(words[i]) ^ rotl(h(words[i + 1]), 16) ^ rotl(h(words[i + 2]), 32) ^ rotl(h(words[i + 3]), 48)
        for i in range(len(words) - SHINGLE_WORDS + 1)
    ]


def test_vectorised_shingle_hashes_equal_the_naive_loop_on_real_texts() -> None:
    texts = _texts(min_words=5)
    assert len(texts) > 400
    for text in texts:
        words = words_of(text)
        assert list(shingle_hashes(words)) == _naive(words)


def test_words_ignore_case_and_punctuation_ascii_or_not() -> None:
    assert words_of("Bitcoin’s “rally” — ETF-driven… (via X)") == [
        b"bitcoin",
        b"s",
        b"rally",
        b"etf",
        b"driven",
        b"via",
        b"x",
    ]
    assert words_of('Bitcoin\'s "RALLY" - ETF-driven... (via X)') == words_of("Bitcoin’s “rally” — ETF-driven… (via X)")
    assert words_of("Česká národní banka") == ["česká".encode(), "národní".encode(), b"banka"]


def test_too_short_texts_have_no_fingerprint() -> None:
    assert fingerprint("Bitcoin rose today. " * 2) is None
    assert fingerprint("word " * (MIN_WORDS - 1)) is None
    assert fingerprint("word " * MIN_WORDS) is not None


def test_fingerprints_are_stable_across_processes() -> None:
    text = _long_texts()[0]
    here = fingerprint(text)
    assert here is not None
    code = (
        "import sys; from newsroom.process.fingerprint import fingerprint; "
        "print(','.join(fingerprint(sys.stdin.read()).keys))"
    )
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT / "shared")}
        out = subprocess.run(
            [sys.executable, "-c", code], input=text, capture_output=True, text=True, env=env, check=True
        ).stdout.strip()
        assert out.split(",") == list(here.keys)


def _shares_a_key(a: str, b: str) -> bool:
    fa, fb = fingerprint(a), fingerprint(b)
    assert fa is not None and fb is not None
    return bool(set(fa.keys) & set(fb.keys))


def test_copies_share_an_index_key_with_their_original() -> None:
    assert len(_long_texts()) >= 40
    for text in _long_texts():
        words = text.split()
        footer = text + "\n\nSubscribe to our newsletter for the day's top crypto stories, every morning."
        excerpt = " ".join(words[:60])
        edited = " ".join(("the" if i % 40 == 7 else word) for i, word in enumerate(words))  # a word changed every 40
        assert _shares_a_key(text, text)
        assert _shares_a_key(text, footer), text[:80]
        assert _shares_a_key(text, excerpt), text[:80]
        assert _shares_a_key(text, edited), text[:80]


def test_different_real_articles_rarely_share_a_key() -> None:
    prints = [f for f in (fingerprint(t) for t in _texts(min_words=MIN_WORDS)) if f is not None]
    assert len(prints) > 300
    pairs = sharing = 0
    for a, b in itertools.combinations(prints, 2):
        if a.hashes == b.hashes:
            continue  # the same item in two feeds (nu.nl publishes one item in both of its feeds)
        pairs += 1
        sharing += bool(set(a.keys) & set(b.keys))
    assert sharing / pairs < 0.001, (sharing, pairs)


def test_fingerprint_is_much_faster_than_a_per_shingle_loop() -> None:
    long_texts = _long_texts()
    texts = [" ".join(long_texts[i : i + 3])[:3000] for i in range(0, len(long_texts) - 3)]
    for text in texts:
        fingerprint(text)  # warm the word-hash cache, as a running processor has it

    def timed(work: object) -> float:
        started = time.perf_counter()
        for text in texts:
            work(text)  # type: ignore[operator]
        return time.perf_counter() - started

    # Measured against a loop in the same run, so a loaded machine slows both alike: the
    # whole fingerprint (tokenise, hash, sketch) must cost well under hashing shingle by shingle.
    fast = min(timed(fingerprint) for _ in range(3))
    slow = min(timed(lambda text: _naive(words_of(text))) for _ in range(3))
    assert fast * 4 < slow, (fast, slow)


@pytest.mark.parametrize("text", ["", "   ", "Ünïcödé ünïcödé"])
def test_degenerate_texts(text: str) -> None:
    assert fingerprint(text) is None
    assert list(shingle_hashes(words_of(text))) == []
