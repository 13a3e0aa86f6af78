"""Stored documents: JSON, zlib-compressed into a Binary attribute.

DynamoDB bills a write by the item's size, in 1 KB steps ("Capacity unit consumption for write
operations": https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/
read-write-operations.html), and an item in a transaction twice ("Capacity management for
transactions": https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/
transaction-apis.html). A story's document (HTML and text)
compresses about 2.5 times on the corpus, and a listing entry's summary, about 1.3 KB of JSON
(two write units), to about 0.7 KB (one): `python -m devtools.story_writes` measures both.
Binary values count by their bytes, as strings do ("Item sizes and formats":
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html).

Items written before documents were compressed hold a plain JSON string (`S`): `load_doc` reads
both, so the table needs no migration.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

# zlib's slowest, smallest setting: a story document is at most 400 KB, and level 9 compresses
# it in about a millisecond.
LEVEL = 9


def doc_attr(doc: Any) -> dict[str, bytes]:
    """The attribute value that stores `doc`: compact JSON, UTF-8, zlib-compressed."""
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    return {"B": zlib.compress(text.encode("utf-8"), LEVEL)}


def load_doc(attr: dict[str, Any]) -> Any:
    """The document an attribute value holds: compressed (`B`) or, as stored before, JSON (`S`)."""
    if "B" in attr:
        return json.loads(zlib.decompress(attr["B"]).decode("utf-8"))
    return json.loads(attr["S"])
