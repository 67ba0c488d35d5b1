"""Properties that version a record's engagement, kept beside its stored scoring.

Some engagement costs one call per record (HubSpot's Events API: one contact a call), while the
record itself carries counters that move whenever that engagement grows (HubSpot's
`hs_analytics_num_page_views`, `num_conversion_events`). A connector that can say which
properties those are lets the engine keep their values in each record's input snapshot; on the
next read, `ReadHints.stored` hands the snapshots back, and a record whose counters did not move
since gets the stored events instead of new calls.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol, runtime_checkable


@runtime_checkable
class EngagementGates(Protocol):
    """A connector whose records carry counters of their costly engagement."""

    def engagement_gates(self, kind: str, event_types: Collection[str]) -> frozenset[str]:
        """The properties (carried in each record's `properties`) whose values move whenever
        the `event_types` engagement of a `kind` record grows; empty when none does."""
        ...
