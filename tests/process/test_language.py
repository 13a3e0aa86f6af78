"""Language: declared tags normalised, guesses from stopwords, never a weak guess."""

from __future__ import annotations

import feedparser
import pytest

from newsroom.process.language import detect_language
from tests.process.feed_samples import REAL_FEEDS
from tests.process.feed_samples import plain as _plain

# ------------------------------------------------------------------------------------------
# detect_language
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("declared", "expected"),
    [("en-US", "en"), ("EN", "en"), ("pt_BR", "pt"), (" de-DE ", "de"), ("cs", "cs"), ("zh-Hans-CN", "zh")],
)
def test_declared_language_is_normalised(declared: str, expected: str) -> None:
    assert detect_language("whatever the text says", declared) == expected


def test_unusable_declaration_falls_back_to_guessing() -> None:
    text = "The bank said that it will not raise rates, and the market was calm after the decision."
    for declared in (None, "", "und", "x-default", "english please"):
        assert detect_language(text, declared) == "en"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The central bank said that it would keep rates on hold for the rest of the year.", "en"),
        ("El banco central dijo que los tipos de interés se mantendrán en el nivel actual por ahora.", "es"),
        ("O banco central disse que as taxas de juros não vão mudar para o resto do ano.", "pt"),
        ("La banque centrale a dit que les taux ne seront pas modifiés dans les prochains mois.", "fr"),
        ("Die Zentralbank hat mitgeteilt, dass die Zinsen auf dem aktuellen Niveau bleiben werden.", "de"),
        (
            "La banca centrale ha detto che i tassi non cambieranno per il resto dell'anno e anche oltre.",
            "it",
        ),
        (
            "Vláda uvedla, že nový zákon o kryptoměnách je připraven a bude platit od ledna; podle "
            "ministra je to pro trh dobrá zpráva, která se týká také bank.",
            "cs",
        ),
        (
            "Vláda uviedla, že nový zákon o kryptomenách je pripravený a bude platiť od januára; podľa "
            "ministra je to pre trh dobrá správa, ktorá sa týka aj bánk.",
            "sk",
        ),
    ],
)
def test_guess_each_language(text: str, expected: str) -> None:
    assert detect_language(text, None) == expected


def test_unsure_guesses_are_none() -> None:
    assert detect_language("", None) is None
    assert detect_language("Bitcoin ETF", None) is None
    assert detect_language("12345 $$$ 67890", None) is None
    # Dutch is not one of ours and must not be mistaken for Spanish or French.
    assert detect_language("De regering heeft besloten dat het plan niet door gaat, maar er is nog hoop.", None) is None


def test_language_guesses_on_real_feeds_are_never_wrong() -> None:
    expectations = {
        "aktuality-sk-RSParser.xml": "sk",
        "ctk-ceskenoviny-custom-components-feedparser.xml": "cs",
        "sueddeutsche-custom-components-feedparser.xml": "de",
        "jn-pt-rss-parser.xml": "pt",
        "guardian-rss-parser.xml": "en",
        "nu-nl-custom-components-feedparser.xml": None,  # Dutch: not guessable, so never a guess
    }
    for name, language in expectations.items():
        parsed = feedparser.parse(str(REAL_FEEDS / name))
        guesses = [
            detect_language(f"{entry.get('title', '')}. {_plain(entry.get('summary', ''))}", None)
            for entry in parsed.entries
        ]
        assert guesses, name
        assert {guess for guess in guesses if guess is not None} <= {language} - {None}, name
        if language is not None:
            assert guesses.count(language) >= len(guesses) / 3, name


@pytest.mark.parametrize(
    "text",
    [
        "".join(map(chr, range(128))) * 2,
        "the bank's 2nd-quarter_results\x1cwere\x1fcalm; snake_case and x2y too",
        "",
        "   ",
        "a",
    ],
)
def test_ascii_words_are_cut_as_the_unicode_word_pattern_cuts_them(text: str) -> None:
    from newsroom.process import language

    folded = text.lower()
    assert folded.isascii()
    assert [word.decode("ascii") for word in language._ascii_words(folded)] == language._WORD.findall(folded)


def test_words_of_every_real_feed_entry_are_cut_as_the_unicode_word_pattern_cuts_them() -> None:
    from newsroom.process import language

    checked = 0
    for path in sorted(REAL_FEEDS.glob("*.xml")):
        for entry in feedparser.parse(str(path)).entries:
            folded = _plain(entry.get("summary", "")).lower()
            if folded.isascii():
                assert [word.decode() for word in language._ascii_words(folded)] == language._WORD.findall(folded)
                checked += 1
    assert checked > 100  # the ASCII path is exercised


def _scores_counting_every_word(text: str) -> dict[str, float]:
    """The evidence as it was counted before: NFC and lower case, every word counted, then the
    stopwords looked up, then every distinctive letter."""
    import unicodedata
    from collections import Counter

    from newsroom.process import language
    from newsroom.process.classify_data import DISTINCTIVE_LETTERS, STOPWORDS

    scores = dict.fromkeys(STOPWORDS, 0.0)
    folded = unicodedata.normalize("NFC", text).lower()
    for word, count in Counter(language._WORD.findall(folded)).items():
        weights = language._WORD_WEIGHTS.get(word)
        if weights is not None:
            for name, weight in weights.items():
                scores[name] += weight * count
    for name, letters in DISTINCTIVE_LETTERS.items():
        scores[name] += 0.5 * sum(folded.count(letter) for letter in letters)
    return scores


def test_the_evidence_is_what_counting_every_word_gave_on_every_corpus_text() -> None:
    """Stopwords counted alone (bytes for ASCII text): the same scores, float for float, on
    every corpus document (raw, and its markup taken out) and the language samples."""
    from devtools import golden
    from newsroom.process import language

    texts = ["Ǆ Kelvin \u212a and \u017f: ascii once folded", "Straße ñandú ¿qué? řeka", "THE AND OF"]
    for document in golden.documents():
        raw = document.body.decode("utf-8", "replace")
        texts += [raw, _plain(raw)]
    for text in texts:
        assert language._scores(text) == _scores_counting_every_word(text), text[:200]
    assert sum(text.isascii() for text in texts) > 3000 and sum(not text.isascii() for text in texts) > 300


def test_no_distinctive_letter_is_ascii() -> None:
    """`_scores` leaves the distinctive letters out of ASCII text: that is exact only while
    none of them is ASCII (a letter added to the table that is would break it)."""
    from newsroom.process.classify_data import DISTINCTIVE_LETTERS

    assert DISTINCTIVE_LETTERS and all(
        not letter.isascii() for letters in DISTINCTIVE_LETTERS.values() for letter in letters
    )
