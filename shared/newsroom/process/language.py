"""The language an article is written in: `detect_language`.

A declared language is normalised to its primary subtag ("en-US" -> "en"); without one the
language is guessed among en, es, pt, fr, de, it, cs, sk from stopword frequencies (the lists are
`classify_data.STOPWORDS`), and None is returned rather than a weak guess.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from newsroom.process.classify_data import DISTINCTIVE_LETTERS, STOPWORDS

__all__ = ["detect_language"]

_GUESSABLE = frozenset({"en", "es", "pt", "fr", "de", "it", "cs", "sk"})
_MIN_EVIDENCE = 4.0
_MIN_MARGIN = 1.5


def _stopword_weights() -> dict[str, dict[str, float]]:
    """word -> {language: weight}; a word shared by k languages is worth 1/k to each."""
    owners: dict[str, list[str]] = {}
    for language, words in STOPWORDS.items():
        for word in set(words.split()):
            owners.setdefault(word, []).append(language)
    return {word: {lang: 1.0 / len(langs) for lang in langs} for word, langs in owners.items()}


_WORD_WEIGHTS = _stopword_weights()
_ASCII_WORD_WEIGHTS = {word.encode("ascii"): weights for word, weights in _WORD_WEIGHTS.items() if word.isascii()}
_WORD = re.compile(r"[^\W\d_]+")
# In ASCII text `[^\W\d_]` is [A-Za-z]: there the words are cut out in C by mapping every other
# byte to a space and splitting, several times cheaper than the regex's Unicode class test per
# character (most articles are ASCII once their text is lower-cased); the ASCII stopwords are
# keyed by their bytes (no other can occur in ASCII text).
_NOT_ASCII_LETTER = bytes(code if chr(code).isalpha() and code < 128 else 0x20 for code in range(256))
_LANGUAGE_TAG = re.compile(r"^([a-z]{2,3})(?:[-_].*)?$")


def _normalize_declared(declared: str | None) -> str | None:
    if declared is None:
        return None
    match = _LANGUAGE_TAG.match(declared.strip().lower())
    if match is None or match.group(1) in ("und", "mul", "zxx"):
        return None
    return match.group(1)


def _ascii_words(folded: str) -> list[bytes]:
    """The runs of letters in ASCII `folded` (`_WORD.findall`), as bytes."""
    return folded.encode("ascii").translate(_NOT_ASCII_LETTER).split()


def _scores(text: str) -> dict[str, float]:
    """Each candidate language's evidence in `text`: its stopwords (a word shared by k
    languages worth 1/k to each) and half a point per distinctive letter."""
    scores = dict.fromkeys(STOPWORDS, 0.0)
    # NFC leaves ASCII text as it is.
    folded = text.lower() if text.isascii() else unicodedata.normalize("NFC", text).lower()
    # Counted in C first, stopwords only (in their order of first appearance, as when every
    # word was counted): the loops then run once per distinct stopword.
    if folded.isascii():  # no distinctive letter is ASCII: their counts, all zero, are left out
        for word, count in Counter(filter(_ASCII_WORD_WEIGHTS.__contains__, _ascii_words(folded))).items():
            for language, weight in _ASCII_WORD_WEIGHTS[word].items():
                scores[language] += weight * count
        return scores
    for text_word, count in Counter(filter(_WORD_WEIGHTS.__contains__, _WORD.findall(folded))).items():
        for language, weight in _WORD_WEIGHTS[text_word].items():
            scores[language] += weight * count
    for language, letters in DISTINCTIVE_LETTERS.items():
        scores[language] += 0.5 * sum(folded.count(letter) for letter in letters)
    return scores


def _guess_language(text: str) -> str | None:
    scores = _scores(text)
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    (best, best_score), (_, runner_up) = ranked[0], ranked[1]
    if best_score < _MIN_EVIDENCE or best_score < _MIN_MARGIN * runner_up:
        return None
    return best if best in _GUESSABLE else None


def detect_language(text: str, declared: str | None) -> str | None:
    """The declared language's primary subtag, else a stopword guess, else None."""
    normalized = _normalize_declared(declared)
    if normalized is not None:
        return normalized
    return _guess_language(text)
