"""An entry too big for a queue message travels as a claim check (S3 object + pointer) and is
stored whole; a pointer whose object is gone is a permanent reject, described by source and link."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from newsroom.core.claimcheck import KEY_PREFIX, MAX_MESSAGE_BYTES, claim_in
from newsroom.wiring import clients as runtime
from tests.e2e.conftest import Stack
from tests.httpserver import LocalHTTPServer, Reply

MARKER = "FINAL-PARAGRAPH-OF-THE-LONG-READ"
# ~150 KB of HTML, sent twice (description and content:encoded, as many WordPress feeds do): the
# message is over the 240 KB threshold, the stored HTML plus its text under the 300 KB cap.
PARAGRAPHS = 1_850


def _big_feed() -> bytes:
    body = "".join(
        f"<p>Paragraph {i} of a very long bitcoin market report with ether and solana.</p>" for i in range(PARAGRAPHS)
    )
    body += f"<p>{MARKER}</p>"
    item = (
        "<item><title>The very long read on bitcoin liquidity</title>"
        "<link>{base}/long-read</link><guid>long-read-1</guid>"
        "<pubDate>Sun, 31 May 2026 08:00:00 GMT</pubDate>"
        f"<description><![CDATA[{body}]]></description>"
        f"<content:encoded><![CDATA[{body}]]></content:encoded></item>"
    )
    return (
        '<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>Long Reads</title><link>https://longreads.example</link>{item}</channel></rss>"
    ).encode()


@pytest.fixture
def big_source(stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalHTTPServer]:
    with LocalHTTPServer() as server:
        feed = _big_feed().replace(b"{base}", server.base_url.encode())
        server.route("/big.xml", lambda request: Reply(body=feed, headers={"Content-Type": "application/rss+xml"}))
        sources = {
            "sources": [
                {
                    "id": "longreads",
                    "name": "Long Reads",
                    "feed_url": server.url("/big.xml"),
                    "homepage": "https://longreads.example",
                    "role": "original",
                    "rights": "full",
                }
            ]
        }
        path = tmp_path / "big-sources.json"
        path.write_text(json.dumps(sources))
        monkeypatch.setenv("SOURCES_FILE", str(path))
        runtime.reset()
        yield server


def _queued(stack: Stack) -> list[tuple[str, str]]:
    """(message id, body) of what the fetch queued, left on the queue."""
    messages = stack.sqs.receive_message(
        QueueUrl=stack.resources.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
    ).get("Messages", [])
    return [(m["MessageId"], m["Body"]) for m in messages]


def test_an_oversize_entry_is_stored_in_s3_and_processed_whole(stack: Stack, big_source: LocalHTTPServer) -> None:
    summary = stack.run_fetch()
    assert summary["entries"] == 1

    [(_, body)] = _queued(stack)
    assert len(body.encode()) < 1_000  # the queue carries a pointer, not the entry
    claim = claim_in(body)
    assert claim is not None and claim.bucket == stack.resources.entry_bucket
    assert claim.key.startswith(f"{KEY_PREFIX}longreads/")
    stored = stack.s3.get_object(Bucket=claim.bucket, Key=claim.key)["Body"].read()
    assert len(stored) == claim.size > MAX_MESSAGE_BYTES
    assert json.loads(body)["link"].endswith("/long-read")  # a reject could still name it

    report = stack.drain()
    assert (report.processed, report.failed) == (1, 0)
    [article] = runtime.store().list_articles("all", limit=5, cursor=None).items
    full = runtime.store().get_articles([article.id])[0]
    assert MARKER in full.content_html  # cutting the entry to fit a message would have lost it
    assert full.word_count > 10 * PARAGRAPHS


def test_a_pointer_to_a_missing_object_is_a_permanent_reject(stack: Stack, big_source: LocalHTTPServer) -> None:
    stack.run_fetch()
    [(message_id, body)] = _queued(stack)
    claim = claim_in(body)
    assert claim is not None
    stack.s3.delete_object(Bucket=claim.bucket, Key=claim.key)

    # A batch whose every record failed is an invocation error (Lambda retries the batch).
    with pytest.raises(BatchProcessingError):
        stack.drain()
    reject = runtime.rejects().get_reject(message_id)
    assert reject is not None
    assert reject.permanent and reject.error_type == "MessageError"
    assert "is gone" in reject.reason
    assert reject.source_id == "longreads" and reject.link is not None and reject.link.endswith("/long-read")


def test_an_altered_object_is_refused(stack: Stack, big_source: LocalHTTPServer) -> None:
    stack.run_fetch()
    [(message_id, body)] = _queued(stack)
    claim = claim_in(body)
    assert claim is not None
    original = stack.s3.get_object(Bucket=claim.bucket, Key=claim.key)["Body"].read()
    stack.s3.put_object(Bucket=claim.bucket, Key=claim.key, Body=original.replace(MARKER.encode(), b"X" * len(MARKER)))

    with pytest.raises(BatchProcessingError):
        stack.drain()
    reject = runtime.rejects().get_reject(message_id)
    assert reject is not None and reject.permanent and "does not match" in reject.reason
