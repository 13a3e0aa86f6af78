"""Events: independent reports of one real-world occurrence (the same hack, ruling, announcement,
or the day's market move), one level above stories (an article and its copies).

The interface the processor builds on:

- `signature(article) -> EventSignature` — what the decision needs, compact enough to store in
  index items (`encode` is well under 1 KB): story id, outlet, publication time and the
  story's *keys*, normalised: amounts and figures (`$3.8m`, `17%`), content words and adjacent
  word pairs of the title and the first sentences (names of organisations, people, places,
  tickers and the rare terms that survive the stoplists of `events_data`). Title keys come first.
- `lookup_keys(sig, limit)` — at most `limit` keys to find candidates by in an index: the
  title's specific words and figures, then the lead's. A key of `events_data.COMMON_KEYS`
  ("bitcoin", "sec", "etf") or a word pair is never a lookup key, so no key is a hot partition.
  A digest has none.
- `same_event(a, b) -> Tie | None` — the pairwise decision. It is **symmetric** and depends only
  on the two signatures, so an event can be the connected component of this relation whatever
  the arrival order: a new story joins every event it ties with; a story tying two events merges
  them. `Tie.terms` are the shared keys that decided it (shown to readers), most weighty first.
  `tie(compare(a), compare(b))` is the same decision with each signature's keys worked out once
  (a join compares its story with every candidate); `compared_signature(text)` is
  `compare(decode(text))`, remembered.
- `group(signatures) -> list[set[str]]` — the offline reference: components of `same_event`
  among the candidates `lookup_keys` finds. The same partition for any input order.
- `encode(sig)` / `decode(text)` — compact JSON for index items (the largest of the labelled
  corpus: 553 bytes).

The rule, for two stories published within `WINDOW` (72 h), neither a digest:

1. the keys they share weigh at least `THRESHOLD` (3): a figure 2, a name 1.5 (`NAMED_WEIGHT`:
   written in capitals or inner capitals, or capitalised in running text), another specific
   word 1, a common word 0.25, a word pair 0.5 (0.25 with a common word); +`TITLE_BONUS` (0.5)
   for a key in both titles; halved when both come from one outlet;
2. each title holds a shared specific key (in the other's title or lead);
3. the shared evidence is at least two independent pieces (each figure; each run of specific
   words that either text writes as a pair: "NEAR Intents" is one piece), and two of them are
   in both titles unless there are three pieces or the weight reaches `STRONG_WEIGHT` (5); every
   common word in both titles adds a third of a piece (`COMMON_PIECE`).

The constants were tuned on the development part of `benchmarks/eval/events.tsv` only; the
figures and the known errors are in the README ("Events").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from newsroom.core.models import Article
from newsroom.process.events_data import COMMON_KEYS, DIGEST_MARKS, GENERIC, STOPWORDS

WINDOW = timedelta(hours=72)
THRESHOLD = 3.0
NAMED_WEIGHT = 1.5
TITLE_BONUS = 0.5
TITLE_EVIDENCE = 2
STRONG_WEIGHT = 5.0
# Keys a story is both found by and finds others by: each is a lookup item its join rewrites, two
# write units in the join's transaction. 10 until issue 18's last stop; on the labelled set's
# development part every limit from 7 up groups exactly as 10 does and 6 loses recall (0.823 ->
# 0.774), the frozen test part scores the same at 7, 8 and 10, and 8 keeps one key of margin above
# that knee: 8.15 -> 6.86 items a story on the labelled stories (README, Events; on the unlabelled
# corpus 716 events against 726, the lost pairs read looking like false chains). One limit for
# reading and writing, so two joins racing on one event still share a written item to collide on.
LOOKUP_KEYS = 8
MAX_KEYS = 28
# Common keys in both titles corroborate a little: three of them ("Ripple", "payments", "European")
# count as one piece of evidence, never as a title's specific key.
COMMON_PIECE = 1 / 3
TEXT_CHARS = 300
# Compared signatures a processor remembers (`compared_signature`): a few kilobytes each.
COMPARED_CACHE = 1024

_TOKEN = re.compile(
    r"(?i)\$?\d[\d,.]*\s?(?:%|[kmb]n?\b|million\b|billion\b|trillion\b|thousand\b)?|[a-z][a-z0-9.'’-]*[a-z0-9]|[a-z]"
)
_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9}
_SCALE["trillion"] = 1e12


@dataclass(frozen=True, slots=True)
class EventSignature:
    story_id: str
    source_id: str
    published: datetime  # UTC
    keys: tuple[str, ...]  # "a:" amounts, "b:" word pairs, "w:" words (stemmed); title keys first
    title_keys: int  # how many of `keys` (from the start) come from the title
    digest: bool = False  # a round-up of several events: never tied to one


@dataclass(frozen=True, slots=True)
class Tie:
    terms: tuple[str, ...]  # the shared keys, most specific first, without their prefixes
    weight: float


def _amount(token: str) -> str | None:
    """A figure as one canonical key: "$3.8 million", "$3.8M" → "$3.8m"; "17%" → "17%"."""
    match = re.fullmatch(
        r"(\$?)(\d[\d,]*(?:\.\d+)?)\s?(%|[kmb]n?|million|billion|trillion|thousand)?", token.rstrip(".,")
    )
    if not match:
        return None
    dollar, number, unit = match.groups()
    try:
        value = float(number.replace(",", ""))
    except ValueError:
        return None
    if unit == "%":
        return f"{value:g}%"
    value *= _SCALE.get(unit or "", 1.0)
    # A bare number is a figure only when it is large (29,000 jobs); small ones and years ("2026",
    # "15 years", "3 altcoins") say little about which event.
    if not dollar and not unit and (value < 1000 or (1900 <= value <= 2100 and "," not in number)):
        return None
    for scale, suffix in ((1e12, "t"), (1e9, "b"), (1e6, "m"), (1e3, "k")):
        if value >= scale:
            return f"{'$' if dollar else ''}{value / scale:.3g}{suffix}"
    return f"{'$' if dollar else ''}{value:.3g}"


def stem(word: str) -> str:
    """A light suffix stripper, so "sues", "sued" and "sue" or "delays" and "delay" meet."""
    word = word.replace("\u2019", "'").strip("'.-")
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("ation") and len(word) >= 8:
        word = word[:-5]
    elif word.endswith("ing") and len(word) >= 6:
        word = word[:-3]
    elif word.endswith("ed") and len(word) >= 5:
        word = word[:-2]
    if word.endswith("e") and len(word) >= 3:
        word = word[:-1]
    return word


_GENERIC = frozenset(stem(w) for w in GENERIC)
_COMMON = frozenset(stem(w) for w in COMMON_KEYS)


def _keys_of(text: str, *, title: bool) -> list[str]:
    keys: list[str] = []
    previous: str | None = None
    sentence_start = True
    end = 0
    for match in _TOKEN.finditer(text):
        original = match.group()
        raw = original.lower()
        starts = sentence_start
        # Words are a pair only when nothing but space parts them ("AI czar, Jay Clayton" is two names).
        if text[end : match.start()].strip():
            previous = None
        end = match.end()
        sentence_start = bool(re.match(r"\s*[.!?:]", text[end : end + 3]))
        amount = _amount(raw) if raw[0] in "$0123456789" else None
        if amount is not None:
            keys.append(f"a:{amount}")
            previous = None
            continue
        if raw in STOPWORDS or raw[0].isdigit():
            previous = None
            continue
        word = stem(raw)
        if len(word) < 2 or word in _GENERIC or word in STOPWORDS:
            previous = None
            continue
        if previous is not None and previous != word:
            keys.append(f"b:{previous} {word}")
        keys.append(f"{'e' if _named(original, title=title, starts=starts) else 'w'}:{word}")
        previous = word
    return keys


def _named(original: str, *, title: bool, starts: bool) -> bool:
    """A name (organisation, person, place, ticker): all capitals or inner capitals anywhere ("DTCC",
    "BitGo"), or capitalised in running text away from a sentence start (headlines capitalise every
    word, so there only the first two shapes count)."""
    letters = [c for c in original if c.isalpha()]
    if len(letters) >= 2 and all(c.isupper() for c in letters):
        return True
    if any(c.isupper() for c in original[1:]):
        return True
    return not title and not starts and original[:1].isupper()


def _word(key: str) -> str:
    """The key as matched: a word is the same key whether or not this text marked it as a name."""
    return f"w:{key[2:]}" if key.startswith("e:") else key


def _common(key: str) -> bool:
    kind, _, value = key.partition(":")
    if kind in "we":
        return value in _COMMON
    if kind == "b":
        return all(part in _COMMON for part in value.split(" "))
    return False


def _weight(key: str, named: bool = False) -> float:
    kind, _, value = key.partition(":")
    if kind == "a":
        return 2.0
    if kind == "b":
        return 0.25 if any(part in _COMMON for part in value.split(" ")) else 0.5
    if value in _COMMON:
        return 0.25
    return NAMED_WEIGHT if named or kind == "e" else 1.0


def signature(article: Article) -> EventSignature:
    title = _dedupe(_keys_of(article.title, title=True))
    lead = article.standfirst or article.content_text[:TEXT_CHARS]
    in_title = {_word(k) for k in title}
    body = [k for k in _dedupe(_keys_of(lead, title=False)) if _word(k) not in in_title]
    # Keep the most telling keys when there are too many: title first, then the lead's by weight.
    body.sort(key=lambda k: -_weight(k))
    title = title[:MAX_KEYS]
    keys = (*title, *body[: max(0, MAX_KEYS - len(title))])
    headline = article.title.lower()
    return EventSignature(
        story_id=article.id,
        source_id=article.source_id,
        published=article.published.astimezone(UTC),
        keys=keys,
        title_keys=len(title),
        digest=headline.count("!") >= 2 or any(mark in headline for mark in DIGEST_MARKS),
    )


def _dedupe(keys: list[str]) -> list[str]:
    return list(dict.fromkeys(keys))


def lookup_keys(sig: EventSignature, limit: int = LOOKUP_KEYS) -> tuple[str, ...]:
    """Specific words and figures, the title's first, then the lead's; never a common key, never a pair
    (two outlets rarely pick the same two adjacent words)."""
    if sig.digest:
        return ()
    title = [_word(k) for k in sig.keys[: sig.title_keys] if k[0] in "awe" and not _common(k)]
    lead = [_word(k) for k in sig.keys[sig.title_keys :] if k[0] in "awe" and not _common(k)]
    return tuple(title + lead)[:limit]


@dataclass(frozen=True, slots=True)
class Compared:
    """A signature's keys as `same_event` compares them, worked out once per signature: a story's
    own signature meets up to `max_candidates` others in one join, and each comparison used to
    rebuild both sides' key maps and sets."""

    sig: EventSignature
    words: dict[str, str]  # key as matched (`_word`) → key as written (the last one, as a dict keeps)
    title: frozenset[str]  # the title's keys, as matched
    specific_title: frozenset[str]  # those of them not common
    named: frozenset[str]  # keys, as matched, whose key as written marks a name ("e:")
    pairs: tuple[tuple[str, str], ...]  # the word pairs ("b:" keys), as their two words


def compare(sig: EventSignature) -> Compared:
    # `_word` written out: this runs for every candidate of every join.
    words = {("w:" + k[2:] if k.startswith("e:") else k): k for k in sig.keys}
    title = frozenset(("w:" + k[2:] if k.startswith("e:") else k) for k in sig.keys[: sig.title_keys])
    pairs = []
    for k in sig.keys:
        if k.startswith("b:"):
            left, _, right = k[2:].partition(" ")
            pairs.append((left, right))
    return Compared(
        sig=sig,
        words=words,
        title=title,
        specific_title=frozenset(k for k in title if not _common(k)),
        named=frozenset(w for w, k in words.items() if k.startswith("e:")),
        pairs=tuple(pairs),
    )


@lru_cache(maxsize=COMPARED_CACHE)
def compared_signature(text: str) -> Compared:
    """`compare(decode(text))`, remembered for the latest `COMPARED_CACHE` signatures: a story is a
    candidate for every later report under its lookup keys, so a warm processor reads the same
    stored signature again and again. A pure function of the text, so never stale."""
    return compare(decode(text))


def same_event(a: EventSignature, b: EventSignature) -> Tie | None:
    if _apart(a, b):
        return None
    return tie(compare(a), compare(b))


def _apart(a: EventSignature, b: EventSignature) -> bool:
    """Never the same event, whatever their keys: one story, a digest, or outside the window."""
    return a.story_id == b.story_id or a.digest or b.digest or abs(a.published - b.published) > WINDOW


def tie(ca: Compared, cb: Compared) -> Tie | None:
    """`same_event` of two compared signatures (one compared once for all its candidates)."""
    a, b = ca.sig, cb.sig
    if _apart(a, b):
        return None
    shared = ca.words.keys() & cb.words.keys()
    if not shared:
        return None
    a_title, b_title = ca.title, cb.title
    # Each headline's own subject must be in the other story: a story that mentions another event
    # only as background (a thief moving funds, the exploit he came from named in the lead) does
    # not tie with that event's reports through its lead alone.
    if shared.isdisjoint(ca.specific_title) or shared.isdisjoint(cb.specific_title):
        return None
    weights = {}
    for key in shared:
        named = key in ca.named or key in cb.named
        weights[key] = _weight(key, named) + (TITLE_BONUS if key in a_title and key in b_title else 0.0)
    weight = sum(weights.values())
    pairs = (ca.pairs, cb.pairs)
    both = shared & a_title & b_title
    common_both = COMMON_PIECE * sum(1 for k in both if k[0] == "w" and _common(k))
    evidence = _evidence(shared, pairs) + common_both
    if evidence < 2:
        return None
    if _evidence(both, pairs) + common_both < TITLE_EVIDENCE and evidence < 3 and weight < STRONG_WEIGHT:
        return None
    if a.source_id == b.source_id:
        # One outlet rarely reports one event twice, and its house style repeats across stories.
        weight /= 2
    if weight < THRESHOLD:
        return None
    terms = sorted(shared, key=lambda k: (-weights[k], k))
    return Tie(tuple(k.partition(":")[2] for k in terms if not k.startswith("b:")), weight)


def _evidence(shared: set[str], pairs: tuple[tuple[tuple[str, str], ...], ...]) -> int:
    """Independent pieces of shared evidence: each amount, and each run of shared specific words
    that either text joins into a word pair ("near intents", "tom lee", "clarity act" are one name,
    not two words, even where the other text has the words apart). `pairs`: each text's word
    pairs (a pair both texts hold joins the same two words twice, which changes nothing)."""
    # `_common` of a "w:" key is its word in `_COMMON`.
    parent = {w: w for k in shared if k.startswith("w:") and (w := k[2:]) not in _COMMON}
    amounts = sum(1 for k in shared if k.startswith("a:"))
    if len(parent) < 2:
        return len(parent) + amounts  # no pair can join anything

    def root(word: str) -> str:
        while parent[word] != word:
            word = parent[word]
        return word

    for text_pairs in pairs:
        for left, right in text_pairs:
            if left in parent and right in parent:
                parent[root(left)] = root(right)
    return len({root(w) for w in parent}) + amounts


def group(signatures: Iterable[EventSignature], limit: int = LOOKUP_KEYS) -> list[set[str]]:
    """Connected components of `same_event` among lookup-key candidates (at most `limit` keys a
    story); independent of order."""
    sigs = sorted(signatures, key=lambda s: s.story_id)
    parent = {s.story_id: s.story_id for s in sigs}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    compared = {s.story_id: compare(s) for s in sigs}
    index: dict[str, list[EventSignature]] = {}
    for sig in sigs:
        candidates: dict[str, EventSignature] = {}
        for key in lookup_keys(sig, limit):
            for other in index.get(key, ()):
                candidates[other.story_id] = other
            index.setdefault(key, []).append(sig)
        for other in candidates.values():
            if tie(compared[sig.story_id], compared[other.story_id]) is not None:
                ra, rb = find(sig.story_id), find(other.story_id)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, set[str]] = {}
    for sig in sigs:
        groups.setdefault(find(sig.story_id), set()).add(sig.story_id)
    return sorted(groups.values(), key=lambda g: min(g))


def encode(sig: EventSignature) -> str:
    """The signature as compact JSON, for index items."""
    return json.dumps(
        [sig.story_id, sig.source_id, sig.published.isoformat(), sig.title_keys, int(sig.digest), list(sig.keys)],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def decode(text: str) -> EventSignature:
    story_id, source_id, published, title_keys, digest, keys = json.loads(text)
    return EventSignature(story_id, source_id, datetime.fromisoformat(published), tuple(keys), title_keys, bool(digest))
