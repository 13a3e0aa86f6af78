"""Two processors handle an original and its copy at the same moment: one cluster, the right original.

Two threads share one in-memory DynamoDB (`devtools.memory_dynamodb`), which applies each request
atomically, as DynamoDB does, and nothing more; each call spends a millisecond "on the network",
so the two processors interleave between a read and the conditional transaction that depends on
it, the race under test. Each round races the original against a copy in two threads released
by a barrier: an unmarked copy (found only through the fingerprint index, whose claims are
conditional puts just before the story's transaction, a claim whose story is not written yet
being a write in progress that the other waits for) or a marked one (keyed by the original's URL, so
both write the same story item).
"""

from __future__ import annotations

import os
import random
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from devtools.memory_dynamodb import MemoryDynamoDB
from devtools.template import create_table
from newsroom.core.models import RawEntry, Source, SourceRole
from newsroom.process.build import Decision, Outcome, ProcessingContext
from newsroom.process.ingest import ingest
from newsroom.store.dynamo import DynamoStore
from newsroom.store.table import ConflictError

ROUNDS = int(os.environ.get("CLUSTER_RACE_ROUNDS", "100"))
SOURCES = (
    Source(id="orig", name="Orig News", feed_url="https://orig.news/feed", homepage="https://orig.news"),
    Source(
        id="agg",
        name="Agg Wire",
        feed_url="https://agg.example/feed",
        homepage="https://agg.example",
        role=SourceRole.AGGREGATOR,
    ),
)
VOCABULARY = (  # noqa: SIM905 - a paragraph of words reads better than a long list
    "bitcoin ether market traders exchange regulators approval token fund price rally launch network "
    "wallet stablecoin lending protocol custody bank charter report analysts quarter billion million "
    "investors shares futures volume liquidity security breach upgrade validators developers chain "
    "payments firm policy court ruling filing treasury reserve issuer yields demand supply week day"
).split()


class ConflictCountingStore(DynamoStore):
    """Counts the optimistic writes that lost a race (so the test proves it raced at all)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.conflicts = 0
        for name in ("claim_fingerprints", "create_article", "replace_article"):
            setattr(self, name, self._counting(getattr(self, name)))

    def _counting(self, write: Callable[..., None]) -> Callable[..., None]:
        def counted(*args: Any, **kwargs: Any) -> None:
            try:
                write(*args, **kwargs)
            except ConflictError:
                self.conflicts += 1
                raise

        return counted


def _story(round_no: int) -> str:
    rng = random.Random(round_no)
    sentences = [
        " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(12, 20))).capitalize() + "." for _ in range(8)
    ]
    return "".join(f"<p>{' '.join(sentences[i : i + 2])}</p>" for i in range(0, 8, 2))


def _pair(round_no: int, now: datetime) -> tuple[RawEntry, RawEntry, str]:
    body = _story(round_no)
    original = RawEntry(
        source_id="orig",
        guid=f"orig-{round_no}",
        link=f"https://orig.news/story-{round_no}",
        title=f"Story number {round_no}",
        content_html=body,
        published=now - timedelta(hours=2),
        fetched_at=now,
    )
    if round_no % 2:
        kind = "marked"
        copy_body = body + f'<p>Read original article on <a href="{original.link}">orig.news</a></p>'
    else:
        kind = "unmarked"
        copy_body = body + "<p>Follow Agg Wire for more stories like this one, every day.</p>"
    copy = RawEntry(
        source_id="agg",
        guid=f"agg-{round_no}",
        link=f"https://agg.example/{round_no}?utm_source=x",
        title=f"Story number {round_no} | Agg Wire",
        content_html=copy_body,
        published=now - timedelta(hours=1),
        fetched_at=now,
    )
    return original, copy, kind


def _process(
    barrier: threading.Barrier,
    decisions: list[Decision | BaseException],
    slot: int,
    entry: RawEntry,
    store: DynamoStore,
    ctx: ProcessingContext,
) -> None:
    barrier.wait()
    try:
        decisions[slot] = ingest(entry, store, ctx)
    except BaseException as exc:  # reported by the test, with the round
        decisions[slot] = exc


def test_original_and_copy_racing_end_in_one_cluster_with_the_right_original() -> None:
    dynamodb = MemoryDynamoDB(latency=0.001)
    now = datetime.now(UTC).replace(microsecond=0)
    ctx = ProcessingContext.build(
        SOURCES,
        site_name="CryptoCompass",
        desk_name="Desk",
        editorial_image_base_url="https://cdn.example/e",
        max_body_bytes=180_000,
        now=now,
    )
    outcomes: Counter[str] = Counter()
    conflicts = 0
    for round_no in range(ROUNDS):
        # A table per round, so each round starts from nothing.
        table = f"race{round_no}"
        create_table(dynamodb, table)
        stores = [ConflictCountingStore(dynamodb, table, b"k") for _ in range(2)]
        original, copy, kind = _pair(round_no, now)
        entries = (original, copy) if round_no % 4 < 2 else (copy, original)
        barrier = threading.Barrier(2)
        decisions: list[Decision | BaseException] = [ConflictError("not run")] * 2

        threads = [
            threading.Thread(target=_process, args=(barrier, decisions, slot, entry, stores[slot], ctx))
            for slot, entry in enumerate(entries)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        done = [d for d in decisions if isinstance(d, Decision)]
        assert len(done) == 2, (round_no, decisions)
        ids = {d.article.id for d in done}
        assert len(ids) == 1, (round_no, kind, [d.outcome for d in done])
        assert sorted(d.outcome is Outcome.CREATED for d in done) == [False, True], (round_no, kind)
        stored = stores[0].get_article(ids.pop())
        assert stored is not None
        assert stored.article.source_id == "orig", (round_no, kind)
        assert stored.article.url == original.link
        assert stored.article.attribution is None
        assert [(c.source_id, c.url) for c in stored.article.copies] == [("agg", copy.link)], (round_no, kind)
        # One story in the listings: nothing was stored twice.
        assert [a.id for a in stores[0].list_articles("all", limit=10, cursor=None).items] == [stored.article.id]
        outcomes[f"{kind}:{'+'.join(sorted(d.outcome.value for d in done))}"] += 1
        conflicts += sum(store.conflicts for store in stores)
        dynamodb.delete_table(TableName=table)
    # The race really happened: some writes lost and were re-decided, in both kinds of round.
    assert conflicts > 0, outcomes
    assert {key.split(":")[0] for key in outcomes} == {"marked", "unmarked"}
