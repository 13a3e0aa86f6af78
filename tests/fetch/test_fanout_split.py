"""`fanout.split_message`: a message's sources sent back in the messages asked for; what SQS
refuses leaves the whole message to be received again, never a source dropped."""

from __future__ import annotations

import json
from typing import Any

import pytest

from newsroom.fetch.fanout import raw_sources_of, split_message


class FakeSQS:
    def __init__(self, *, refuse: set[str] | None = None, fail: bool = False) -> None:
        self.sent: list[str] = []
        self.refuse, self.fail = refuse or set(), fail

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        if self.fail:
            raise ConnectionError("SQS unreachable")
        failed = [{"Id": e["Id"], "Message": "refused"} for e in Entries if e["Id"] in self.refuse]
        self.sent.extend(e["MessageBody"] for e in Entries if e["Id"] not in self.refuse)
        return {"Failed": failed}


BACK = {0: [[{"id": "a"}], [{"id": "b"}, {"id": "d"}]], 3: [[{"id": "c"}]]}
DISPATCHED = {0: "2026-12-03T20:00:00Z", 3: "2026-12-03T20:05:00Z"}


def test_each_group_goes_back_in_a_message_of_its_own() -> None:
    sqs = FakeSQS()

    assert split_message(sqs, "q", BACK, DISPATCHED) == set()

    assert [raw_sources_of(body) for body in sqs.sent] == [
        ([{"id": "a"}], "2026-12-03T20:00:00Z"),
        ([{"id": "b"}, {"id": "d"}], "2026-12-03T20:00:00Z"),
        ([{"id": "c"}], "2026-12-03T20:05:00Z"),
    ]


@pytest.mark.parametrize(
    ("sqs", "unsent"), [(FakeSQS(refuse={"2"}), {3}), (FakeSQS(refuse={"1"}), {0}), (FakeSQS(fail=True), {0, 3})]
)
def test_a_message_whose_split_sqs_refused_is_received_again(sqs: FakeSQS, unsent: set[int]) -> None:
    assert split_message(sqs, "q", BACK, DISPATCHED) == unsent


def test_with_no_fetch_queue_the_message_is_received_again() -> None:
    sqs = FakeSQS()
    assert split_message(sqs, "", BACK, DISPATCHED) == {0, 3}
    assert sqs.sent == []


def test_ten_a_call_in_order() -> None:
    many = {0: [[{"id": str(i)}] for i in range(23)]}
    sqs = FakeSQS(refuse={"9"})  # the tenth of each call

    assert split_message(sqs, "q", many, {0: ""}) == {0}

    assert [json.loads(body)["sources"][0]["id"] for body in sqs.sent] == [
        str(i) for i in range(23) if i not in (9, 19)
    ]
