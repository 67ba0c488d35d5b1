"""Checks across a connection's people and account models, once every model is loaded.

- Which account model a people model's `account.` rules read: the account kind's only model,
  or, when it has several, the one the people entry names with `account_model` (a model's name
  or its output prefix part, `pl_b`); several without `account_model` is a located error,
  since either answer would be a guess.
- Which people scores an account model's `score` roll-ups read: a rule's `model` names the
  people model (its name or output prefix part) whose outputs it reads; without it, the
  unprefixed outputs, so such a rule is refused when every model of a member kind is
  prefixed. Each problem is located at the account model's own entry.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from config.account_links import ACCOUNT_LINKS, ACCOUNT_MEMBERS
from config.errors import Problem
from config.model_group import Slot
from config.settings import ConnectionSettings, ObjectSettings
from scoring.model import ScoringModel
from scoring.rollup import with_namespaces
from scoring.spec import RollupSpec

#: (path under the config root, message) -> a located problem (`LoadedConfig.problem`).
Locate = Callable[[tuple[str | int, ...], str], Problem]
Slots = dict[tuple[str, str], list[Slot]]


@dataclass(frozen=True)
class Entry:
    """One loaded `objects` entry: its place in the config and the slot of its model."""

    conn_index: int
    obj_index: int
    conn: ConnectionSettings
    obj: ObjectSettings
    slot: Slot

    def path(self, key: str) -> tuple[str | int, ...]:
        """The config path of one of this entry's keys."""
        return ("connections", self.conn_index, "objects", self.obj_index, key)


def _names(slots: Sequence[Slot]) -> str:
    return ", ".join(
        s.model.name + (f" ({s.namespace.rstrip('_')})" if s.namespace else "") for s in slots
    )


def choose_accounts(entries: Sequence[Entry], slots: Slots, locate: Locate) -> list[Problem]:
    """Set each people slot's `accounts` (the account model its `account.` rules read) in
    `slots`; the problems of `account_model` keys that cannot be followed."""
    problems = []
    for entry in entries:
        obj, conn, model = entry.obj, entry.conn, entry.slot.model
        link = ACCOUNT_LINKS.get((conn.crm, obj.kind))
        named = obj.account_model
        if named is not None and link is None:
            people = " and ".join(k for (crm, k) in ACCOUNT_LINKS if crm == conn.crm)
            problems.append(
                locate(
                    entry.path("account_model"),
                    f"account_model is for {conn.crm} {people} models whose rules read "
                    f"account. fields, not {obj.kind} models; remove it",
                )
            )
            continue
        if link is None or not model.account_fields:
            if named is not None:
                problems.append(
                    locate(
                        entry.path("account_model"),
                        f"model {model.name!r} has no account. rules, so it reads no account "
                        "model's results; remove account_model",
                    )
                )
            continue
        account_kind = link[1]
        found = slots.get((conn.name, account_kind), [])
        if named is None:
            if len(found) > 1:
                problems.append(
                    locate(
                        entry.path("account_model"),
                        f"model {model.name!r} reads account. fields and {conn.name} scores "
                        f"{account_kind} records with {len(found)} models ({_names(found)}): "
                        f"say whose results it reads with account_model: {found[0].model.name} "
                        "(a model's name or its output prefix part)",
                    )
                )
            continue
        chosen = next((s for s in found if named in (s.model.name, s.namespace.rstrip("_"))), None)
        if chosen is None:
            known = (
                f"its {account_kind} models: {_names(found)}"
                if found
                else f"it scores no {account_kind} records"
            )
            problems.append(
                locate(
                    entry.path("account_model"),
                    f"{conn.name} has no {account_kind} model {named!r}; {known}",
                )
            )
            continue
        if chosen is not found[0]:
            _set_accounts(slots, conn.name, entry, chosen.state_kind)
    return problems


def _set_accounts(slots: Slots, connection: str, entry: Entry, accounts: str) -> None:
    kind_slots = slots[(connection, entry.obj.kind)]
    at = kind_slots.index(entry.slot)
    kind_slots[at] = dataclasses.replace(entry.slot, accounts=accounts)


def member_score_sources(entries: Sequence[Entry], slots: Slots, locate: Locate) -> list[Problem]:
    """Resolve whose scores each account model's `score` roll-ups read, in `slots` (see
    `resolve_sources`); the problems, each located at the account model's entry."""
    problems = []
    for entry in entries:
        kind, conn = entry.obj.kind, entry.conn
        model, messages = resolve_sources(entry.slot.model, conn, kind, slots)
        problems += [locate(entry.path("model"), message) for message in messages]
        if model is not entry.slot.model:
            kind_slots = slots[(conn.name, kind)]
            at = kind_slots.index(entry.slot)
            kind_slots[at] = dataclasses.replace(kind_slots[at], model=model)
    return problems


def resolve_sources(
    model: ScoringModel, conn: ConnectionSettings, kind: str, slots: Slots
) -> tuple[ScoringModel, list[str]]:
    """`model` (an account model of `conn`'s `kind`) with its `score` roll-ups reading the
    people model each rule's `model` names (its name or output prefix part, among `slots` of
    the member kinds), else the unprefixed outputs; the same model when all read those. And
    what cannot be resolved: a `model` naming no people model, one naming models that write
    under different prefixes, a rule without `model` when every model of a member kind has an
    output prefix (each person would count 0)."""
    spec, plan = model.spec.members, model.rollup
    if spec is None or plan is None:
        return model, []
    namespaces, messages = [], []
    for index, rule in enumerate(spec.rollups):
        found, message = _source(conn, kind, index, rule, slots) if rule.score else ("", None)
        if message is not None:
            messages.append(message)
        namespaces.append(found)
    if not any(namespaces):
        return model, messages
    return dataclasses.replace(model, rollup=with_namespaces(plan, namespaces)), messages


def _source(
    conn: ConnectionSettings, kind: str, index: int, rule: RollupSpec, slots: Slots
) -> tuple[str, str | None]:
    """The output namespace whose `rule.score` the roll-up reads, and what is wrong if any."""
    kinds = ACCOUNT_MEMBERS.get((conn.crm, kind), ())
    people = [s for k in kinds for s in slots.get((conn.name, k), [])]
    where = f"roll-up {rule.name!r} (members.rollup[{index}])"
    if rule.model is None:
        prefixed = [
            k
            for k in kinds
            if (conn.name, k) in slots and all(s.namespace for s in slots[(conn.name, k)])
        ]
        if not prefixed:
            return "", None
        return "", (
            f"{where} reads each person's {rule.score}, which no {' or '.join(prefixed)} "
            "model writes unprefixed: each has an output_prefix; name whose scores it reads "
            f"with model: on the roll-up ({_names(people)}), or leave the output_prefix out "
            "of one of them"
        )
    chosen = [s for s in people if rule.model in (s.model.name, s.namespace.rstrip("_"))]
    spaces = sorted({s.namespace for s in chosen})
    if not chosen:
        known = (
            f"its {' and '.join(kinds)} models: {_names(people)}"
            if people
            else f"it scores no {' or '.join(kinds)} records"
        )
        return "", (
            f"{where} reads the {rule.score} of model {rule.model!r}, but {conn.name} has no "
            f"{' or '.join(kinds)} model {rule.model!r}; {known}"
        )
    if len(spaces) > 1:
        prefixes = ", ".join(f"leadsync_{ns}" if ns else "none" for ns in spaces)
        return "", (
            f"{where}: model {rule.model!r} is ambiguous: it names {_names(chosen)}, which "
            f"write under different output prefixes ({prefixes}); name one by its prefix part"
        )
    return spaces[0], None
