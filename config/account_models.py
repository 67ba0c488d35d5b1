"""Checks across a connection's people and account models, once every model is loaded.

- Which account model a people model's `account.` rules read: the account kind's only model,
  or, when it has several, the one the people entry names with `account_model` (a model's name
  or its output prefix part, `pl_b`); several without `account_model` is a located error,
  since either answer would be a guess.
- Which people scores an account model's `score` roll-ups read: the unprefixed outputs, so
  every account model of a kind whose member kinds are all prefixed is refused, each located at
  its own entry.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from config.account_links import ACCOUNT_LINKS, ACCOUNT_MEMBERS
from config.errors import Problem
from config.model_group import Slot
from config.settings import ConnectionSettings, ObjectSettings

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


def unwritten_member_scores(
    entries: Sequence[Entry], slots: Slots, locate: Locate
) -> list[Problem]:
    """Account models whose `score` roll-ups read a member score that no model of a member
    kind writes unprefixed (every one has an `output_prefix`), so each person would count 0;
    one problem per such account model, at its entry."""
    problems = []
    for entry in entries:
        conn = entry.conn
        members = ACCOUNT_MEMBERS.get((conn.crm, entry.obj.kind), ())
        spec = entry.slot.model.spec.members
        if spec is None:
            continue
        reads = [r for r in spec.rollups if r.kind == "score"]
        prefixed = [
            kind
            for kind in members
            if (conn.name, kind) in slots and all(s.namespace for s in slots[(conn.name, kind)])
        ]
        if reads and prefixed:
            problems.append(
                locate(
                    entry.path("model"),
                    f"roll-up {reads[0].name!r} reads each person's {reads[0].score}, which "
                    f"no {' or '.join(prefixed)} model writes: each has an output_prefix; "
                    "leave the output_prefix out of one of them (its scores are the ones "
                    "rolled up)",
                )
            )
    return problems
