"""moto's server for the fetch benchmark, optionally without its per-message O(queue depth) cost.

moto's `SendMessage` reads `queue.attributes` for every message, only to learn whether the queue
deduplicates by content; building that dict counts the visible, delayed and in-flight messages
by walking the whole queue, three times. A send into a queue holding 500 messages costs ~30 ms
instead of ~4 ms (measured), so a benchmark that queues 500 entries mostly measures moto. Real SQS
has no such cost. `--flat-send` answers that one question from the queue's own settings for
standard queues, where it is always "no" (content deduplication exists only on FIFO queues);
everything else, GetQueueAttributes included, is moto unchanged.

    python -m benchmarks.moto_server PORT [--flat-send]
"""

from __future__ import annotations

import sys
import threading
from typing import Any


def flatten_send() -> None:
    from moto.sqs import models

    sending = threading.local()
    original_send = models.SQSBackend.send_message
    original_attributes = models.Queue.attributes.fget  # type: ignore[attr-defined]

    def send_message(self: Any, *args: Any, **kwargs: Any) -> Any:
        sending.active = True
        try:
            return original_send(self, *args, **kwargs)
        finally:
            sending.active = False

    def attributes(self: Any) -> dict[str, Any]:
        if getattr(sending, "active", False) and not self.fifo_queue:
            return {}  # a standard queue never has ContentBasedDeduplication
        return original_attributes(self)  # type: ignore[no-any-return]

    models.SQSBackend.send_message = send_message  # type: ignore[method-assign]
    models.Queue.attributes = property(attributes)  # type: ignore[method-assign,assignment]


def main(argv: list[str]) -> None:
    from moto.server import main as moto_main

    if "--flat-send" in argv:
        flatten_send()
    moto_main(["-H", "127.0.0.1", "-p", argv[0]])


if __name__ == "__main__":
    main(sys.argv[1:])
