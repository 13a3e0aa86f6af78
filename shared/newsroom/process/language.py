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
_WORD = re.compile(r"[^\W\d_]+")
# In ASCII text `[^\W\d_]` is [A-Za-z]: there the words are cut out in C by mapping every other
# character to a space and splitting, ~3× cheaper than the regex's Unicode class test per
# character (most articles are ASCII once their text is lower-cased).
_NOT_ASCII_LETTER = str.maketrans({chr(code): " " for code in range(128) if not chr(code).isalpha()})
_LANGUAGE_TAG = re.compile(r"^([a-z]{2,3})(?:[-_].*)?$")


def _normalize_declared(declared: str | None) -> str | None:
    if declared is None:
        return None
    match = _LANGUAGE_TAG.match(declared.strip().lower())
    if match is None or match.group(1) in ("und", "mul", "zxx"):
        return None
    return match.group(1)


def _words(folded: str) -> list[str]:
    """The runs of letters in `folded` (`_WORD.findall`)."""
    return folded.translate(_NOT_ASCII_LETTER).split() if folded.isascii() else _WORD.findall(folded)


def _guess_language(text: str) -> str | None:
    scores = dict.fromkeys(STOPWORDS, 0.0)
    folded = unicodedata.normalize("NFC", text).lower()
    # Counted in C first: the loop then runs once per distinct word, not once per word.
    for word, count in Counter(_words(folded)).items():
        weights = _WORD_WEIGHTS.get(word)
        if weights is not None:
            for language, weight in weights.items():
                scores[language] += weight * count
    for language, letters in DISTINCTIVE_LETTERS.items():
        scores[language] += 0.5 * sum(folded.count(letter) for letter in letters)
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
