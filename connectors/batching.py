"""Finding the records at fault when a CRM refuses a whole write request: the one place that
splits batches.

One bad value can make the CRM refuse every record of its batch with a 400 (HubSpot's batch
update does; a Salesforce request the API cannot parse does too). Halving the batch until the
records at fault stand alone gets every other record written, at about `2 * log2(n)` extra
calls per bad record in a batch of `n`. Other refusals (404, 409, ...) say nothing about one
record, so they are not split: every record of the batch gets the refusal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from connectors.errors import RequestRejected

T = TypeVar("T")
R = TypeVar("R")

__all__ = ["isolate_rejected"]


def isolate_rejected(
    send: Callable[[Sequence[T]], list[R]],
    items: Sequence[T],
    refused: Callable[[T, RequestRejected], R],
) -> list[R]:
    """`send(items)`, one result per item in order; when the CRM refuses the request whole
    with a 400, the halves are sent on their own until the items at fault stand alone, and
    `refused(item, error)` is the result of each of those (and of every item of a batch
    refused for any other status)."""
    try:
        return send(items)
    except RequestRejected as exc:
        if exc.status != 400 or len(items) == 1:
            return [refused(item, exc) for item in items]
        middle = len(items) // 2
        return isolate_rejected(send, items[:middle], refused) + isolate_rejected(
            send, items[middle:], refused
        )
