"""`leadsync history`: one record's score changes over time, read from the ledger.

Each ledger row is one attempted write of the record's outputs: the values the CRM held before
(`old_values`), the values leadsync wrote (`new_values`), why the change was material enough to
write, the rules behind the result, the model version and whether the write was applied. The
history shows them oldest first: what moved, the result's reason lines (`+45 Demo form (3d ago)`,
ages as of the write) and what triggered the write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scoring.reasons import reason_line
from scoring.types import Contribution
from sync.run_summary import shown_number
from sync.state.store import StateStore

#: Reason lines shown per write, largest contributions first.
TOP_REASONS = 5

#: Output values shown as "old -> new" when they changed, in this order.
_MOVES = ("score", "fit", "interest", "label", "qualified")


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One attempted write of a record's scores."""

    at: datetime
    run_id: int
    status: str
    old: Mapping[str, Any]
    new: Mapping[str, Any]
    reasons: tuple[str, ...]
    model_version: str
    error: str | None
    why: tuple[str, ...] = ()

    def moves(self) -> list[str]:
        """ "name old -> new" for each shown output that changed (or was set the first time)."""
        out = []
        # a model group's write holds each model's outputs under its namespace (pl_a_score)
        spaces = sorted(
            {key[: -len(name)] for key in self.new for name in _MOVES if key.endswith(name)}
        )
        for space in spaces:
            for name in _MOVES:
                key = space + name
                before, after = self.old.get(key), self.new.get(key)
                if key in self.new and _shown(before) != _shown(after):
                    out.append(f"{key} {_shown(before)} -> {_shown(after)}")
        return out

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable form."""
        return {
            "at": self.at.isoformat(),
            "run_id": self.run_id,
            "status": self.status,
            "old": dict(self.old),
            "new": dict(self.new),
            "reasons": list(self.reasons),
            "why": list(self.why),
            "model_version": self.model_version,
            "error": self.error,
        }


def _shown(value: object) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return "yes" if text == "true" else "no"
    return str(shown_number(value))


def why_lines(
    contributions: Sequence[Mapping[str, Any]], top: int = TOP_REASONS
) -> tuple[str, ...]:
    """The result's reason lines from the contributions stored with a write, largest first."""
    fields = ("rule", "dimension", "points", "detail", "group", "age_days")
    items = []
    for raw in contributions:
        try:
            item = Contribution(**{k: raw[k] for k in fields if k in raw})
        except TypeError:
            continue  # a row from an older layout without rule or points
        if round(item.points):
            items.append(item)
    items.sort(key=lambda c: -abs(c.points))
    return tuple(reason_line(c, 1) for c in items[:top])


def record_history(
    store: StateStore, connection: str, kind: str, record_id: str
) -> list[HistoryEntry]:
    """The record's ledger rows as history entries, oldest first."""
    entries = []
    for row in store.ledger(connection, kind, record_id=record_id):
        reasons = row.extra.get("reasons") or []
        entries.append(
            HistoryEntry(
                at=row.created_at,
                run_id=row.run_id,
                status=row.status,
                old=row.old_values,
                new=row.new_values,
                reasons=tuple(str(r) for r in reasons),
                model_version=str(row.extra.get("model_version") or ""),
                error=row.error,
                why=why_lines(row.contributions),
            )
        )
    return entries


def render(entries: Sequence[HistoryEntry], record_id: str) -> str:
    """Text for the terminal: one block per write, newest last."""
    if not entries:
        return f"no score changes recorded for {record_id} (never written, or pruned by retention)"
    lines = [f"score history of {record_id}: {len(entries)} write(s)"]
    for entry in entries:
        moves = ", ".join(entry.moves()) or "no visible change"
        lines.append(
            f"{entry.at.isoformat(timespec='seconds')}  run {entry.run_id}  {entry.status}"
            f"  model {entry.model_version}  {moves}"
        )
        if entry.why:
            lines.append("    why: " + " | ".join(entry.why))
        if entry.reasons:
            lines.append("    written because: " + " | ".join(entry.reasons))
        if entry.error:
            lines.append(f"    error: {entry.error}")
    return "\n".join(lines)
