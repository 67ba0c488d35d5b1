"""`isolate_rejected`: the one place a batch the CRM refused whole is split."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from connectors.batching import isolate_rejected
from connectors.errors import RequestRejected


class Crm:
    """Refuses any request holding a bad item with `status`; records what was sent."""

    def __init__(self, bad: set[int], status: int = 400) -> None:
        self.bad, self.status = bad, status
        self.sent: list[list[int]] = []

    def send(self, items: Sequence[int]) -> list[str]:
        self.sent.append(list(items))
        if self.bad & set(items):
            raise RequestRejected("refused", self.status, "INVALID")
        return [f"ok {i}" for i in items]


def refused(item: int, exc: RequestRejected) -> str:
    return f"{exc.code} {exc.status} {item}"


@pytest.mark.parametrize(
    ("bad", "status", "results", "sent"),
    [
        (set(), 400, ["ok 1", "ok 2", "ok 3", "ok 4"], [[1, 2, 3, 4]]),
        (
            {3},
            400,
            ["ok 1", "ok 2", "INVALID 400 3", "ok 4"],
            [[1, 2, 3, 4], [1, 2], [3, 4], [3], [4]],
        ),
        (
            {1, 4},
            400,
            ["INVALID 400 1", "ok 2", "ok 3", "INVALID 400 4"],
            [[1, 2, 3, 4], [1, 2], [1], [2], [3, 4], [3], [4]],
        ),
        # a refusal that is not about the content is not split: every item carries it
        ({3}, 404, [f"INVALID 404 {i}" for i in (1, 2, 3, 4)], [[1, 2, 3, 4]]),
    ],
)
def test_a_refused_batch_is_halved_until_the_bad_items_stand_alone(bad, status, results, sent):
    crm = Crm(bad, status)
    assert isolate_rejected(crm.send, [1, 2, 3, 4], refused) == results
    assert crm.sent == sent
