"""Content fingerprints that find a copy of a story whatever its URL, title or footer.

A copy that names nothing (re-titled, cut to an excerpt, lightly edited, under a tracking URL,
with an extra footer) still repeats the original's sentences. We compare documents by their
**shingles**: every run of `SHINGLE_WORDS` consecutive words of the lower-cased text, hashed to
64 bits. Two texts are near-duplicates when their shingle sets overlap a lot (`dedupe` verifies
that); finding which stored stories to compare with must not depend on how many are stored.

Candidates come from a **bottom-k MinHash sketch**: the `SKETCH_SIZE` smallest shingle hashes of
the whole text, plus the `LEAD_SKETCH_SIZE` smallest of its first `LEAD_WORDS` words. Each value
is an LSH band of one row: two texts with shingle Jaccard J share the smallest hash of their union
with probability J, so with four of them a copy with J = 0.6 misses all four only 2.6 % of the
time (and then usually still meets on the lead). The lead sketch is what an excerpt shares with
its full original: its shingles are a small subset of the original's, so the original's
whole-text minima are rarely in it, but the first paragraph is. Each value becomes one index item
(`FP#m#<hex>` → story id), read with a single BatchGetItem whatever the table holds.

Why not SimHash with pigeonhole bands: four 16-bit bands only guarantee a match within Hamming
distance 3, and a lightly edited copy (shingle Jaccard ~0.8) already differs in ~8 of 64 bits;
widening the net with short bands makes random collisions grow with the corpus.

Speed (every entry of a backfill passes here): a per-word hash is cached (`blake2b`, stable across
processes, unlike `hash()`), and all shingle hashes of a text are computed at once with big-integer
arithmetic: the word hashes are packed into one integer of 64-bit lanes, and shingle i is
`w[i] ^ rotl(w[i+1], 16) ^ rotl(w[i+2], 32) ^ rotl(w[i+3], 48)`, lane-wise, in four shifts and
masks over the whole text. No Python loop runs per shingle.
"""

from __future__ import annotations

import hashlib
import heapq
import string
import sys
from array import array
from dataclasses import dataclass

SHINGLE_WORDS = 4
SKETCH_SIZE = 4
LEAD_WORDS = 24
LEAD_SKETCH_SIZE = 2
# Texts shorter than this (a headline and a sentence) share too little to tell a copy from a
# template: they get no fingerprint and never merge by content.
MIN_WORDS = 12

_LANE_BITS = 64
_LANE_MASK = (1 << _LANE_BITS) - 1
_ROTATIONS = (16, 32, 48)
_MAX_CACHED_WORDS = 400_000

# Words are split on whitespace after punctuation becomes space. This runs on UTF-8 bytes: a
# 256-entry bytes.translate is ~10x faster than a `\w+` regex or str.translate on non-ASCII text.
_ASCII_PUNCTUATION = bytes.maketrans(string.punctuation.encode(), b" " * len(string.punctuation))
_UNICODE_PUNCTUATION = tuple(
    mark.encode()
    for mark in (
        "\u2019",
        "\u2018",
        "\u201c",
        "\u201d",
        "\u201e",
        "\u2013",
        "\u2014",
        "\u2026",
        "\u00ab",
        "\u00bb",
        "\u00a0",
    )
)

_word_hashes: dict[bytes, bytes] = {}
_masks: dict[tuple[int, int], tuple[int, int]] = {}


def words_of(text: str) -> list[bytes]:
    """The normalised words a fingerprint is made of: lower-cased, punctuation removed (UTF-8)."""
    data = text.lower().encode("utf-8", "replace")
    if not data.isascii():
        for mark in _UNICODE_PUNCTUATION:
            if mark in data:
                data = data.replace(mark, b" ")
    return data.translate(_ASCII_PUNCTUATION).split()


def _hash_words(words: list[bytes]) -> bytes:
    """The 8-byte little-endian hash of each word, concatenated."""
    cache = _word_hashes
    missing = set(words).difference(cache)
    if missing:
        if len(cache) + len(missing) > _MAX_CACHED_WORDS:
            cache.clear()  # a bounded cache: a long backfill must not grow without end
        for word in missing:
            cache[word] = hashlib.blake2b(word, digest_size=8).digest()
    return b"".join(map(cache.__getitem__, words))


def _lane_masks(lanes: int, rotation: int) -> tuple[int, int]:
    key = (lanes, rotation)
    found = _masks.get(key)
    if found is None:
        high = ((_LANE_MASK >> rotation) << rotation).to_bytes(8, "little") * lanes
        low = ((1 << rotation) - 1).to_bytes(8, "little") * lanes
        found = (int.from_bytes(high, "little"), int.from_bytes(low, "little"))
        if len(_masks) < 4096:
            _masks[key] = found
    return found


def _rotl_lanes(packed: int, rotation: int, lanes: int) -> int:
    """Every 64-bit lane of `packed` rotated left by `rotation` bits, independently."""
    high, low = _lane_masks(lanes, rotation)
    return ((packed << rotation) & high) | ((packed >> (_LANE_BITS - rotation)) & low)


def shingle_hashes(words: list[bytes]) -> array[int]:
    """The 64-bit hash of each run of `SHINGLE_WORDS` words, in text order (empty when too short)."""
    count = len(words) - SHINGLE_WORDS + 1
    if count <= 0:
        return array("Q")
    packed = int.from_bytes(_hash_words(words), "little")
    lanes = len(words)
    combined = packed
    for offset, rotation in enumerate(_ROTATIONS, start=1):
        combined ^= _rotl_lanes(packed >> (_LANE_BITS * offset), rotation, lanes)
    raw = combined.to_bytes(8 * lanes, "little")[: 8 * count]
    values = array("Q", raw)
    if sys.byteorder != "little":  # pragma: no cover - every Lambda architecture is little-endian
        values.byteswap()
    return values


def _sketch(values: array[int], k: int) -> list[int]:
    """The `k` smallest distinct values (fewer when the text repeats itself)."""
    return list(dict.fromkeys(heapq.nsmallest(k, values)))


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What the index needs of one text: its sketch values, and its shingles for verification."""

    keys: tuple[str, ...]  # index keys, "m#<16 hex>": whole-text minima, then lead minima
    hashes: array[int]  # every shingle hash, in text order
    words: int

    @property
    def shingles(self) -> frozenset[int]:
        return frozenset(self.hashes)

    @property
    def lead(self) -> frozenset[int]:
        """The shingles of the first `LEAD_WORDS` words."""
        return frozenset(self.hashes[:LEAD_SHINGLES])


LEAD_SHINGLES = LEAD_WORDS - SHINGLE_WORDS + 1


def fingerprint(text: str) -> Fingerprint | None:
    """The fingerprint of an article's plain text, or None when it is too short to have one."""
    words = words_of(text)
    if len(words) < MIN_WORDS:
        return None
    hashes = shingle_hashes(words)
    chosen = dict.fromkeys(_sketch(hashes, SKETCH_SIZE))
    chosen.update(dict.fromkeys(_sketch(hashes[:LEAD_SHINGLES], LEAD_SKETCH_SIZE)))
    return Fingerprint(keys=tuple(f"m#{value:016x}" for value in chosen), hashes=hashes, words=len(words))


def shingle_set(text: str) -> frozenset[int]:
    """All shingle hashes of `text` (for verifying a candidate read back from the store)."""
    return frozenset(shingle_hashes(words_of(text)))
