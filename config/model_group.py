"""Several scoring models of one record kind on one connection (one per product line, say).

A run reads each record once (account kinds: with their people, once) and scores it with every
model; each model writes its own output properties, named with its namespace (`pl_a_` writes
`leadsync_pl_a_score`), and a record's changes of all the models go to the CRM as one write.
The first model of the kind keeps the kind's state key (cursor, outbox, ledger, scores); the
others keep their latest results under their own key (`contact:pl_b`, `company:pl_b`), so
`explain` and hysteresis see each model's own history. A people model whose `account.` rules
read another account model than the account kind's first names its state key in `accounts`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from scoring.model import ScoringModel
from scoring.spec import ModelSpec
from scoring.types import OUTPUT_NAMES


@dataclass(frozen=True, slots=True)
class Slot:
    """One model of a group: its namespace and the state key its results are stored under."""

    model: ScoringModel
    namespace: str
    state_kind: str
    #: Where the account results this model's `account.` rules read are stored, when not
    #: under the account kind itself (its first model's): `company:pl_b`.
    accounts: str | None = None

    def namespaced(self, values: Mapping[str, object]) -> dict[str, object]:
        """Output values keyed by this model's names (`score` -> `pl_a_score`); other keys
        (the lifecycle stage) as they are."""
        ns = self.namespace
        return {(ns + k if k in OUTPUT_NAMES else k): v for k, v in values.items()}

    def own(self, outputs: Mapping[str, object]) -> dict[str, object]:
        """This model's output values among a record's outputs, keyed by canonical name."""
        ns = self.namespace
        if not ns:
            return {k: v for k, v in outputs.items() if k in OUTPUT_NAMES}
        return {k[len(ns) :]: v for k, v in outputs.items() if k.startswith(ns)}


def state_kind(kind: str, namespace: str, *, first: bool) -> str:
    """Where a model's results are stored: the kind itself for the kind's first model."""
    return kind if first else f"{kind}:{namespace.rstrip('_') or 'default'}"


class ModelGroup:
    """The models of one kind, for the engine: it reads what any of them reads and scores
    each record with each (`slots`, the first is the kind's main model)."""

    def __init__(self, slots: tuple[Slot, ...]) -> None:
        self.slots = slots
        first = slots[0].model
        self.name = " + ".join(s.model.name for s in slots)
        text = "|".join(f"{s.namespace}={s.model.version}" for s in slots)
        self.version = hashlib.sha256(text.encode()).hexdigest()[:12]
        self.properties = frozenset().union(*(s.model.properties for s in slots))
        self.event_types = frozenset().union(*(s.model.event_types for s in slots))
        self.account_fields = frozenset().union(*(s.model.account_fields for s in slots))
        self.qualify_lifecycle_stage = first.qualify_lifecycle_stage
        self.spec: ModelSpec = first.spec
        self.object = first.object

    @property
    def models(self) -> tuple[ScoringModel, ...]:
        """The group's models, the first first."""
        return tuple(s.model for s in self.slots)

    def slot(self, name: str | None) -> Slot:
        """The slot whose model is named `name` (the first when None); KeyError otherwise."""
        if name is None:
            return self.slots[0]
        for slot in self.slots:
            if name in (slot.model.name, slot.namespace.rstrip("_")):
                return slot
        raise KeyError(name)

    def __repr__(self) -> str:
        return f"ModelGroup({self.name})"
