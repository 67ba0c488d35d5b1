"""Check the `members` section of a company or account model: roles and roll-up rules.

An account model scores a company (HubSpot) or account (Salesforce) from its people: `roles`
weight people by title, `rollup` rules add up a member score, an event type or the breadth of
engaged people. Problems are collected in the shared `Ctx`; rule names are unique across the
whole model (`RuleParser.name`). Key names are documented in docs/model-language.md.
"""

from __future__ import annotations

from config.model_conditions import CondParser
from config.model_rules import Fields, RuleParser
from config.yamlpos import Node
from scoring.spec import (
    ACCOUNT_OBJECTS,
    AGGREGATES,
    MEMBER_SCORES,
    MembersSpec,
    RoleSpec,
    RollupSpec,
)
from scoring.types import EVENT_TYPES

MEMBERS_KEYS = ("title", "roles", "default_weight", "rollup")
ROLE_KEYS = ("name", "description", "if", "weight")
ROLLUP_KEYS = (
    "name",
    "description",
    "score",
    "model",
    "event",
    "breadth",
    "where",
    "within_days",
    "decay",
    "points",
    "aggregate",
    "top",
    "max",
    "bands",
)
#: Keys each roll-up kind accepts besides name and description.
ROLLUP_KIND_KEYS: dict[str, tuple[str, ...]] = {
    "score": ("score", "model", "points", "aggregate", "top", "max"),
    "event": ("event", "where", "within_days", "decay", "points", "aggregate", "top", "max"),
    "breadth": ("breadth", "bands"),
}
BREADTH_KEYS = ("within_days", "events")
#: The member property holding a person's job title, per account object.
DEFAULT_TITLE = {"company": "jobtitle", "account": "Title"}


class MembersParser:
    """Parses one model's `members` section with the model's `RuleParser`."""

    def __init__(self, rules: RuleParser) -> None:
        self.rules = rules
        self.ctx = rules.ctx

    def members(self, root: Node, kind: str | None) -> MembersSpec | None:
        ctx = self.ctx
        node = root.child("members")
        if kind is not None and kind not in ACCOUNT_OBJECTS:
            ctx.error(
                root.key_node("members"),
                f"'members' (roll-ups from an account's people) is for company and account "
                f"models; a {kind} model scores people directly",
            )
            return None
        if not ctx.mapping(node, MEMBERS_KEYS, required=("rollup",), what="a members mapping"):
            return None
        value = node.value
        ok = True
        title = DEFAULT_TITLE.get(kind or "", "jobtitle")
        if "title" in value:
            parsed_title = ctx.text(node.child("title"))
            ok = ok and parsed_title is not None
            title = parsed_title or title
        weight = 1.0
        if "default_weight" in value:
            parsed_weight = ctx.number(node.child("default_weight"), minimum=0)
            ok = ok and parsed_weight is not None
            weight = parsed_weight if parsed_weight is not None else weight
        roles: list[RoleSpec] = []
        if "roles" in value:
            people = CondParser(
                ctx,
                self.rules.conds.lists,
                account_refs="a role tests the person's own properties, not 'account.' fields",
            )
            for element in ctx.list_of(node.child("roles"), "roles"):
                role = self._role(element, people)
                ok = ok and role is not None
                if role is not None:
                    roles.append(role)
            self.rules.conds.used_lists |= people.used_lists
        rollups: list[RollupSpec] = []
        elements = ctx.list_of(node.child("rollup"), "roll-up rules") if "rollup" in value else []
        for element in elements:
            rollup = self._rollup(element)
            ok = ok and rollup is not None
            if rollup is not None:
                rollups.append(rollup)
        if not ok or not rollups:
            return None
        return MembersSpec(
            title=title, roles=tuple(roles), default_weight=weight, rollups=tuple(rollups)
        )

    def _role(self, node: Node, people: CondParser) -> RoleSpec | None:
        ctx = self.ctx
        if not ctx.mapping(
            node, ROLE_KEYS, required=("name", "if", "weight"), what="a role mapping"
        ):
            return None
        name = ctx.text(node.child("name"))
        cond = people.parse(node.child("if"))
        weight = ctx.number(node.child("weight"), minimum=0)
        if name is None or cond is None or weight is None:
            return None
        return RoleSpec(name=name, cond=cond, weight=weight)

    def _rollup(self, node: Node) -> RollupSpec | None:
        ctx = self.ctx
        if not ctx.mapping(node, ROLLUP_KEYS, required=("name",), what="a roll-up rule mapping"):
            return None
        value = node.value
        kinds = [k for k in ("score", "event", "breadth") if k in value]
        if len(kinds) != 1:
            ctx.error(
                node,
                "a roll-up rule needs exactly one of 'score' (a member score), 'event' "
                "(an event type) or 'breadth' (people engaged)",
            )
            return None
        kind = kinds[0]
        allowed = ROLLUP_KIND_KEYS[kind]
        ok = True
        for key in value:
            if key in ("name", "description") or key in allowed or key not in ROLLUP_KEYS:
                continue
            ctx.error(
                node.key_node(key),
                f"'{key}' does not apply to a {kind} roll-up (it takes: {', '.join(allowed)})",
            )
            ok = False
        name = self.rules.name(node)
        out: dict[str, object] = {}
        if kind == "breadth":
            parsed = self._breadth(node.child("breadth"))
            if "bands" not in value:
                ctx.error(node, "a breadth roll-up needs 'bands' on the number of people")
                ok = False
            bands = self.rules.bands(node.child("bands")) if "bands" in value else None
            if parsed is None or bands is None:
                ok = False
            else:
                out.update(parsed, bands=bands)
        else:
            body = self._aggregate_body(node, kind)
            if body is None:
                ok = False
            else:
                out.update(body)
        if not ok or name is None:
            return None
        return RollupSpec(name=name, kind=kind, **out)  # type: ignore[arg-type]

    def _breadth(self, node: Node) -> dict[str, object] | None:
        ctx = self.ctx
        if not ctx.mapping(
            node,
            BREADTH_KEYS,
            required=("within_days",),
            what="a breadth mapping {within_days: N, events: [...]}",
        ):
            return None
        days = ctx.number(node.child("within_days"), positive=True)
        events: list[str] = []
        ok = days is not None
        if "events" in node.value:
            for element in ctx.list_of(node.child("events"), "event types"):
                event = self.rules.choice(element, EVENT_TYPES, "event type")
                ok = ok and event is not None
                if event is not None:
                    events.append(event)
        return {"within_days": days, "events": tuple(sorted(set(events)))} if ok else None

    def _aggregate_body(self, node: Node, kind: str) -> dict[str, object] | None:
        ctx, value = self.ctx, node.value
        fields = Fields()
        if kind == "score":
            fields.take(
                "score", self.rules.choice(node.child("score"), MEMBER_SCORES, "member score")
            )
            if "model" in value:
                fields.take("model", ctx.text(node.child("model")))
            if "points" in value:
                fields.take("points", ctx.number(node.child("points"), minimum=0))
        else:
            self._event_body(node, fields)
        self._aggregate(node, fields)
        if "max" in value:
            fields.take("max", ctx.number(node.child("max"), positive=True))
        return fields.values if fields.ok else None

    def _event_body(self, node: Node, fields: Fields) -> None:
        ctx, value = self.ctx, node.value
        fields.take("event", self.rules.choice(node.child("event"), EVENT_TYPES, "event type"))
        if "where" in value:
            fields.take("where", self.rules.conds.parse(node.child("where")))
        if "points" not in value:
            ctx.error(node, "an event roll-up needs 'points' (per occurrence)")
            fields.ok = False
        else:
            fields.take("points", ctx.number(node.child("points")))
        if "within_days" in value:
            fields.take("within_days", ctx.number(node.child("within_days"), positive=True))
        if "decay" in value:
            fields.take("decay", self.rules.decay(node.child("decay")))

    def _aggregate(self, node: Node, fields: Fields) -> None:
        """`aggregate` (default sum) and, for `top_mean`, how many people `top` averages."""
        ctx, value = self.ctx, node.value
        aggregate = "sum"
        if "aggregate" in value:
            text = self.rules.choice(node.child("aggregate"), AGGREGATES, "aggregate")
            fields.ok = fields.ok and text is not None
            aggregate = text or aggregate
        fields.values["aggregate"] = aggregate
        if aggregate == "top_mean":
            if "top" not in value:
                ctx.error(node, "'aggregate: top_mean' needs 'top' (how many people to average)")
                fields.ok = False
            else:
                fields.take("top", ctx.integer(node.child("top"), minimum=1, maximum=1000))
        elif "top" in value:
            ctx.error(node.key_node("top"), "'top' applies to 'aggregate: top_mean' only")
            fields.ok = False
