"""Check a model file's YAML tree and normalize it into a `scoring.spec.ModelSpec`.

Every problem is collected in the `Ctx` with its position and key path; the caller fails once at
the end with all of them. Key names are documented in docs/model-language.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import get_args

from config.model_conditions import CondParser, scalar
from config.yamlpos import Ctx, Node, suggest, type_name
from scoring.spec import (
    ACCOUNT_OBJECTS,
    AGGREGATES,
    DEFAULT_GRADES,
    DEFAULT_TIERS,
    MEMBER_SCORES,
    Band,
    Decay,
    DimensionSpec,
    DisqualifierSpec,
    GroupSpec,
    MembersSpec,
    ModelSpec,
    OverrideSpec,
    QualifySpec,
    RoleSpec,
    RollupSpec,
    RuleKind,
    RuleSpec,
    Scalar,
)
from scoring.types import EVENT_TYPES, RECORD_KINDS

TOP_KEYS = (
    "name",
    "object",
    "description",
    "lists",
    "fit",
    "interest",
    "combine",
    "grades",
    "disqualify",
    "overrides",
    "qualify",
    "reasons",
    "completeness",
    "members",
)
DIMENSION_KEYS = ("max", "decay", "groups", "rules")
GROUP_KEYS = ("name", "description", "first_match", "max", "rules")
RULE_KEYS = (
    "name",
    "description",
    "if",
    "points",
    "property",
    "bands",
    "recency",
    "every_days",
    "max",
    "event",
    "where",
    "within_days",
    "decay",
    "age_from",
)
#: Keys each rule kind accepts besides name and description.
KIND_KEYS: dict[str, tuple[str, ...]] = {
    "condition": ("if", "points", "age_from", "decay"),
    "bands": ("property", "bands"),
    "recency": ("property", "recency"),
    "elapsed": ("property", "every_days", "points", "max"),
    "event": ("event", "where", "points", "bands", "max", "within_days", "decay"),
}
MEMBERS_KEYS = ("title", "roles", "default_weight", "rollup")
ROLE_KEYS = ("name", "description", "if", "weight")
ROLLUP_KEYS = (
    "name",
    "description",
    "score",
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
    "score": ("score", "points", "aggregate", "top", "max"),
    "event": ("event", "where", "within_days", "decay", "points", "aggregate", "top", "max"),
    "breadth": ("breadth", "bands"),
}
BREADTH_KEYS = ("within_days", "events")
#: The member property holding a person's job title, per account object.
DEFAULT_TITLE = {"company": "jobtitle", "account": "Title"}
QUALIFY_FIELDS = ("fit", "interest", "score", "grade", "fit_grade", "tier", "label")
#: HubSpot's default contact lifecycle stages, earliest first (`qualify.lifecycle_stage`).
LIFECYCLE_STAGES = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
)
_MISPLACED = {
    "disqualify": "'disqualify' belongs at the top level of the model, not under fit/interest",
    "overrides": "'overrides' belongs at the top level of the model, not under fit/interest",
    "qualify": "'qualify' belongs at the top level of the model",
    "grades": "'grades' belongs at the top level of the model",
}
assert set(KIND_KEYS) == set(get_args(RuleKind))


class ModelParser:
    """One pass over a model tree; read `problems` from the `Ctx` afterwards."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.conds = CondParser(ctx, {})
        self.rule_names: dict[str, Node] = {}
        self.object: str | None = None

    def parse(self, root: Node) -> ModelSpec | None:
        ctx = self.ctx
        if not ctx.mapping(root, TOP_KEYS, required=("name", "object"), what="a model mapping"):
            return None
        value = root.value
        lists = self._lists(root.child("lists")) if "lists" in value else {}
        name = ctx.text(root.child("name")) if "name" in value else None
        kind = self._object(root.child("object")) if "object" in value else None
        self.object = kind
        refusal = None
        if kind in ACCOUNT_OBJECTS:
            refusal = (
                f"'account.' fields are for contact and lead rules; a {kind} model reads its "
                "own properties"
            )
        self.conds = CondParser(ctx, lists, account_refs=refusal)
        description = ""
        if "description" in value:
            description = ctx.text(root.child("description"), allow_empty=True) or ""
        fit = self._dimension(root, "fit")
        interest = self._dimension(root, "interest")
        members = self._members(root, kind) if "members" in value else None
        if (
            not any((d.rules or d.groups) for d in (fit, interest) if d is not None)
            and "fit" not in value
            and "interest" not in value
            and "members" not in value
        ):
            ctx.error(root, "a model needs 'fit' or 'interest' rules")
        weights = self._combine(root.child("combine")) if "combine" in value else (0.5, 0.5)
        grades, tiers = self._grades(root.child("grades")) if "grades" in value else (None, None)
        spec_grades = grades or DEFAULT_GRADES
        spec_tiers = tiers or DEFAULT_TIERS
        letters = [g for g, _ in spec_grades]
        disqualify = self._disqualify(root.child("disqualify")) if "disqualify" in value else ()
        overrides = (
            self._overrides(root.child("overrides"), letters) if "overrides" in value else ()
        )
        qualify = (
            self._qualify(root.child("qualify"), spec_grades, spec_tiers)
            if "qualify" in value
            else None
        )
        top, changes = self._reasons(root.child("reasons")) if "reasons" in value else (5, 3)
        completeness: tuple[str, ...] = ()
        if "completeness" in value:
            completeness = self._names(root.child("completeness"))
        if ctx.problems or name is None or kind is None or fit is None or interest is None:
            return None
        if "members" in value and members is None:
            return None
        return ModelSpec(
            name=name,
            object=kind,
            description=description,
            fit=fit,
            interest=interest,
            weights=weights,
            grades=spec_grades,
            tiers=spec_tiers,
            disqualify=disqualify,
            overrides=overrides,
            qualify=qualify,
            reasons_top=top,
            changes_top=changes,
            completeness=completeness,
            members=members,
        )

    def _object(self, node: Node) -> str | None:
        text = self.ctx.text(node)
        if text is None:
            return None
        if text not in RECORD_KINDS:
            self.ctx.error(
                node,
                f"unknown object '{text}'{suggest(text, RECORD_KINDS)}; "
                f"valid: {', '.join(RECORD_KINDS)}",
            )
            return None
        return text

    def _lists(self, node: Node) -> dict[str, tuple[Scalar, ...]]:
        out: dict[str, tuple[Scalar, ...]] = {}
        if not isinstance(node.value, Mapping):
            self.ctx.error(
                node, f"expected a mapping of list names to values, got {type_name(node.value)}"
            )
            return out
        for name, child in node.items():
            values: list[Scalar] = []
            for element in self.ctx.list_of(child, "values"):
                item = scalar(element.value)
                if item is None or (isinstance(element.value, str) and not element.value.strip()):
                    self.ctx.error(element, f"expected a value, got {type_name(element.value)}")
                    continue
                values.append(item)
            out[name] = tuple(values)
        return out

    def _names(self, node: Node) -> tuple[str, ...]:
        names = []
        for element in self.ctx.list_of(node, "property names"):
            text = self.ctx.text(element)
            if text:
                names.append(text)
        return tuple(names)

    def _dimension(self, root: Node, which: str) -> DimensionSpec | None:
        if which not in root.value:
            return DimensionSpec()
        node = root.child(which)
        ctx = self.ctx
        allowed = DIMENSION_KEYS if which == "interest" else ("max", "groups", "rules")
        hints = dict(_MISPLACED)
        if which == "fit":
            hints["decay"] = "decay applies to interest only; fit does not fade with time"
        if not ctx.mapping(node, allowed, hints=hints, what=f"a mapping for '{which}'"):
            return None
        value = node.value
        maximum = ctx.number(node.child("max"), positive=True) if "max" in value else 100.0
        decay = self._decay(node.child("decay")) if "decay" in value else Decay()
        groups: list[GroupSpec] = []
        if "groups" in value:
            for element in ctx.list_of(node.child("groups"), "groups"):
                group = self._group(element, which)
                if group is not None:
                    groups.append(group)
        rules: list[RuleSpec] = []
        if "rules" in value:
            for element in ctx.list_of(node.child("rules"), "rules"):
                rule = self._rule(element, which)
                if rule is not None:
                    rules.append(rule)
        if maximum is None or decay is None:
            return None
        return DimensionSpec(max=maximum, rules=tuple(rules), groups=tuple(groups), decay=decay)

    def _group(self, node: Node, which: str) -> GroupSpec | None:
        ctx = self.ctx
        if not ctx.mapping(node, GROUP_KEYS, required=("name", "rules"), what="a group mapping"):
            return None
        value = node.value
        name = ctx.text(node.child("name")) if "name" in value else None
        first = ctx.boolean(node.child("first_match")) if "first_match" in value else False
        cap = ctx.number(node.child("max"), positive=True) if "max" in value else None
        rules: list[RuleSpec] = []
        if "rules" in value:
            elements = node.child("rules")
            if isinstance(elements.value, list) and not elements.value:
                ctx.error(elements, "empty group: add at least one rule or remove the group")
            else:
                for element in ctx.list_of(elements, "rules"):
                    rule = self._rule(element, which)
                    if rule is not None:
                        rules.append(rule)
        if name is None or first is None or not rules:
            return None
        return GroupSpec(name=name, rules=tuple(rules), first_match=first, max=cap)

    def _rule(self, node: Node, which: str) -> RuleSpec | None:
        ctx = self.ctx
        hints = {"disqualify": "a disqualifier goes in the top-level 'disqualify:' list"}
        if not ctx.mapping(node, RULE_KEYS, required=("name",), what="a rule mapping", hints=hints):
            return None
        value = node.value
        kind = _kind(value)
        if kind is None:
            ctx.error(node, "a rule needs 'if' (a condition), 'property' or 'event'")
            return None
        if kind == "event" and which == "fit":
            ctx.error(node.child("event"), "event rules belong under 'interest', not 'fit'")
            return None
        if kind == "event" and self.object in ACCOUNT_OBJECTS:
            ctx.error(
                node.child("event"),
                f"an event rule can never fire on a {self.object}: a {self.object} has no "
                "activity of its own; roll its people's events up with a 'members.rollup' "
                "rule (event: ..., aggregate: ...)",
            )
            return None
        allowed = KIND_KEYS[kind]
        ok = True
        for key in value:
            if key in ("name", "description") or key in allowed or key not in RULE_KEYS:
                continue  # unknown keys were reported above, with a suggestion
            ctx.error(
                node.key_node(key),
                f"'{key}' does not apply to a {_kind_label(kind)} rule "
                f"(it takes: {', '.join(allowed)})",
            )
            ok = False
        name = self._rule_name(node)
        parsed = self._rule_body(node, kind, which)
        if not ok or name is None or parsed is None:
            return None
        return RuleSpec(name=name, kind=kind, **parsed)  # type: ignore[arg-type]

    def _rule_body(self, node: Node, kind: str, which: str) -> dict[str, object] | None:
        ctx = self.ctx
        value = node.value
        out: dict[str, object] = {}
        ok = True

        def need(key: str) -> bool:
            if key not in value:
                ctx.error(node, f"a {_kind_label(kind)} rule needs '{key}'")
                return False
            return True

        def take(key: str, parsed: object) -> None:
            nonlocal ok
            if parsed is None:
                ok = False
            else:
                out[key] = parsed

        if kind == "condition":
            take("cond", self.conds.parse(node.child("if")))
            if need("points"):
                take("points", ctx.number(node.child("points")))
            else:
                ok = False
            if "age_from" in value:
                if which == "fit":
                    ctx.error(
                        node.key_node("age_from"),
                        "'age_from' (decay by a date) is for interest rules",
                    )
                    ok = False
                take("age_from", ctx.text(node.child("age_from")))
            if "decay" in value:
                if "age_from" not in value:
                    ctx.error(
                        node.key_node("decay"),
                        "'decay' on a condition rule needs 'age_from' (the date to age from)",
                    )
                    ok = False
                take("decay", self._decay(node.child("decay")))
        elif kind == "event":
            take("event", self._choice(node.child("event"), EVENT_TYPES, "event type"))
            if "where" in value:
                take("where", self.conds.parse(node.child("where")))
            has_points, has_bands = "points" in value, "bands" in value
            if has_points == has_bands:
                ctx.error(
                    node,
                    "an event rule needs either 'points' (per occurrence) "
                    "or 'bands' (on the count)",
                )
                ok = False
            elif has_points:
                take("points", ctx.number(node.child("points")))
            else:
                take("bands", self._bands(node.child("bands")))
            if "max" in value:
                take("max", ctx.number(node.child("max"), positive=True))
            if "within_days" in value:
                take("within_days", ctx.number(node.child("within_days"), positive=True))
            if "decay" in value:
                take("decay", self._decay(node.child("decay")))
        else:
            take("property", ctx.text(node.child("property")))
            if kind == "bands":
                if need("bands"):
                    take("bands", self._bands(node.child("bands")))
                else:
                    ok = False
            elif kind == "recency":
                take("bands", self._recency(node.child("recency")))
            else:
                take("every_days", ctx.number(node.child("every_days"), positive=True))
                if need("points"):
                    take("points", ctx.number(node.child("points")))
                else:
                    ok = False
                if "max" in value:
                    take("max", ctx.number(node.child("max"), positive=True))
        return out if ok else None

    def _members(self, root: Node, kind: str | None) -> MembersSpec | None:
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
                self.conds.lists,
                account_refs="a role tests the person's own properties, not 'account.' fields",
            )
            for element in ctx.list_of(node.child("roles"), "roles"):
                role = self._role(element, people)
                ok = ok and role is not None
                if role is not None:
                    roles.append(role)
            self.conds.used_lists |= people.used_lists
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
        name = self._rule_name(node)
        out: dict[str, object] = {}
        if kind == "breadth":
            parsed = self._breadth(node.child("breadth"))
            if "bands" not in value:
                ctx.error(node, "a breadth roll-up needs 'bands' on the number of people")
                ok = False
            bands = self._bands(node.child("bands")) if "bands" in value else None
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

    def _rule_name(self, node: Node) -> str | None:
        """The rule's name, reported when another rule already has it."""
        if "name" not in node.value:
            return None
        name = self.ctx.text(node.child("name"))
        if name is None:
            return None
        if name in self.rule_names:
            first = self.rule_names[name]
            self.ctx.error(
                node.child("name"),
                f"duplicate rule name '{name}' (first used at line {first.line}); "
                "names must be unique because reasons and changes refer to them",
            )
            return None
        self.rule_names[name] = node.child("name")
        return name

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
                event = self._choice(element, EVENT_TYPES, "event type")
                ok = ok and event is not None
                if event is not None:
                    events.append(event)
        return {"within_days": days, "events": tuple(sorted(set(events)))} if ok else None

    def _choice(self, node: Node, choices: tuple[str, ...], what: str) -> str | None:
        """The text at `node` if it is one of `choices`, else None after a did-you-mean."""
        text = self.ctx.text(node)
        if text is not None and text not in choices:
            self.ctx.error(
                node,
                f"unknown {what} '{text}'{suggest(text, choices)}; valid: {', '.join(choices)}",
            )
            return None
        return text

    def _aggregate_body(self, node: Node, kind: str) -> dict[str, object] | None:
        ctx = self.ctx
        value = node.value
        out: dict[str, object] = {}
        ok = True
        if kind == "score":
            score = self._choice(node.child("score"), MEMBER_SCORES, "member score")
            ok = score is not None
            out["score"] = score
            if "points" in value:
                scale = ctx.number(node.child("points"), minimum=0)
                ok = ok and scale is not None
                out["points"] = scale
        else:
            event = self._choice(node.child("event"), EVENT_TYPES, "event type")
            ok = event is not None
            out["event"] = event
            if "where" in value:
                where = self.conds.parse(node.child("where"))
                ok = ok and where is not None
                out["where"] = where
            if "points" not in value:
                ctx.error(node, "an event roll-up needs 'points' (per occurrence)")
                ok = False
            else:
                points = ctx.number(node.child("points"))
                ok = ok and points is not None
                out["points"] = points
            if "within_days" in value:
                days = ctx.number(node.child("within_days"), positive=True)
                ok = ok and days is not None
                out["within_days"] = days
            if "decay" in value:
                decay = self._decay(node.child("decay"))
                ok = ok and decay is not None
                out["decay"] = decay
        aggregate = "sum"
        if "aggregate" in value:
            text = self._choice(node.child("aggregate"), AGGREGATES, "aggregate")
            ok = ok and text is not None
            aggregate = text or aggregate
        out["aggregate"] = aggregate
        if aggregate == "top_mean":
            if "top" not in value:
                ctx.error(node, "'aggregate: top_mean' needs 'top' (how many people to average)")
                ok = False
            else:
                top = ctx.integer(node.child("top"), minimum=1, maximum=1000)
                ok = ok and top is not None
                out["top"] = top
        elif "top" in value:
            ctx.error(node.key_node("top"), "'top' applies to 'aggregate: top_mean' only")
            ok = False
        if "max" in value:
            cap = ctx.number(node.child("max"), positive=True)
            ok = ok and cap is not None
            out["max"] = cap
        return out if ok else None

    def _bands(self, node: Node) -> tuple[Band, ...] | None:
        ctx = self.ctx
        bands: list[tuple[Band, Node]] = []
        ok = True
        for element in ctx.list_of(node, "bands"):
            if not ctx.mapping(
                element,
                ("min", "max", "points"),
                required=("points",),
                what="a band {min, max, points}",
            ):
                ok = False
                continue
            v = element.value
            low = ctx.number(element.child("min")) if "min" in v else None
            high = ctx.number(element.child("max")) if "max" in v else None
            points = ctx.number(element.child("points")) if "points" in v else None
            if "min" not in v and "max" not in v:
                ctx.error(element, "a band needs 'min', 'max' or both")
                ok = False
            if points is None or ("min" in v and low is None) or ("max" in v and high is None):
                ok = False
                continue
            if low is not None and high is not None and low > high:
                ctx.error(element, f"impossible bounds: min {low:g} is above max {high:g}")
                ok = False
                continue
            bands.append((Band(points=points, min=low, max=high), element))
        for i, (band, element) in enumerate(bands):
            for earlier, _ in bands[:i]:
                if _overlap(band, earlier):
                    ctx.error(
                        element, f"band {_band_text(band)} overlaps band {_band_text(earlier)}"
                    )
                    ok = False
                    break
        if not ok or not bands:
            return None
        return tuple(b for b, _ in bands)

    def _recency(self, node: Node) -> tuple[Band, ...] | None:
        ctx = self.ctx
        bands: list[Band] = []
        ok = True
        for element in ctx.list_of(node, "recency steps"):
            if not ctx.mapping(
                element,
                ("within_days", "points"),
                required=("within_days", "points"),
                what="{within_days, points}",
            ):
                ok = False
                continue
            days = (
                ctx.number(element.child("within_days"), positive=True)
                if "within_days" in element.value
                else None
            )
            points = ctx.number(element.child("points")) if "points" in element.value else None
            if days is None or points is None:
                ok = False
                continue
            if any(b.max == days for b in bands):
                ctx.error(element, f"within_days {days:g} is listed twice")
                ok = False
                continue
            bands.append(Band(points=points, max=days))
        if not ok or not bands:
            return None
        return tuple(sorted(bands, key=lambda b: b.max or 0.0))

    def _decay(self, node: Node) -> Decay | None:
        ctx = self.ctx
        value = node.value
        if value is False or (isinstance(value, str) and value.strip().casefold() == "none"):
            return Decay()
        if not ctx.mapping(
            node,
            ("half_life_days", "lifespan_days"),
            what="a decay mapping ({half_life_days: N} or {lifespan_days: N}) or 'none'",
        ):
            return None
        if len(value) != 1:
            ctx.error(node, "decay takes exactly one of 'half_life_days' or 'lifespan_days'")
            return None
        key = next(iter(value))
        days = ctx.number(node.child(key), positive=True)
        if days is None:
            return None
        return Decay("half_life" if key == "half_life_days" else "linear", days)

    def _combine(self, node: Node) -> tuple[float, float]:
        ctx = self.ctx
        if not ctx.mapping(
            node, ("fit", "interest"), what="a mapping {fit: weight, interest: weight}"
        ):
            return (0.5, 0.5)
        w_fit = ctx.number(node.child("fit"), minimum=0) if "fit" in node.value else 0.0
        w_int = ctx.number(node.child("interest"), minimum=0) if "interest" in node.value else 0.0
        if w_fit is None or w_int is None:
            return (0.5, 0.5)
        if w_fit + w_int <= 0:
            ctx.error(node, "weights must not all be 0")
            return (0.5, 0.5)
        total = w_fit + w_int
        return (w_fit / total, w_int / total)

    def _grades(
        self, node: Node
    ) -> tuple[tuple[tuple[str, float], ...] | None, tuple[tuple[str, float], ...] | None]:
        ctx = self.ctx
        if not ctx.mapping(
            node, ("fit", "interest"), what="a mapping {fit: {...}, interest: {...}}"
        ):
            return None, None
        fit = self._thresholds(node.child("fit"), "grade") if "fit" in node.value else None
        tiers = (
            self._thresholds(node.child("interest"), "tier") if "interest" in node.value else None
        )
        return fit, tiers

    def _thresholds(self, node: Node, what: str) -> tuple[tuple[str, float], ...] | None:
        ctx = self.ctx
        if not isinstance(node.value, Mapping) or not node.value:
            ctx.error(
                node,
                f"expected a mapping of {what} names to lowest scores, "
                "e.g. {A: 75, B: 50, C: 25, D: 0}",
            )
            return None
        out: list[tuple[str, float]] = []
        seen: dict[float, str] = {}
        ok = True
        for name, child in node.items():
            threshold = ctx.number(child, minimum=0, maximum=100)
            if threshold is None:
                ok = False
                continue
            if not name.strip() or not name.isalnum():
                ctx.error(node.key_node(name), f"{what} names are letters or digits, got '{name}'")
                ok = False
            if threshold in seen:
                ctx.error(
                    child,
                    f"{what}s '{seen[threshold]}' and '{name}' "
                    f"have the same threshold {threshold:g}",
                )
                ok = False
            seen[threshold] = name
            out.append((name.strip(), threshold))
        if ok and 0.0 not in seen:
            ctx.error(node, f"the lowest {what} must start at 0 so every score gets one")
            ok = False
        if not ok:
            return None
        return tuple(sorted(out, key=lambda item: -item[1]))

    def _disqualify(self, node: Node) -> tuple[DisqualifierSpec, ...]:
        ctx = self.ctx
        out: list[DisqualifierSpec] = []
        hints = {
            "points": "disqualifiers take no points: they force the score to 0 (remove 'points')"
        }
        for element in ctx.list_of(node, "disqualifiers"):
            if not ctx.mapping(
                element,
                ("name", "if", "reason", "description"),
                required=("name", "if"),
                hints=hints,
                what="a disqualifier mapping",
            ):
                continue
            v = element.value
            name = ctx.text(element.child("name")) if "name" in v else None
            cond = self.conds.parse(element.child("if")) if "if" in v else None
            reason = ctx.text(element.child("reason")) if "reason" in v else name
            if name and cond is not None and reason and "points" not in v:
                out.append(DisqualifierSpec(name=name, cond=cond, reason=reason))
        return tuple(out)

    def _overrides(self, node: Node, letters: list[str]) -> tuple[OverrideSpec, ...]:
        ctx = self.ctx
        out: list[OverrideSpec] = []
        keys = ("name", "if", "grade_at_least", "grade_at_most", "description")
        for element in ctx.list_of(node, "overrides"):
            if not ctx.mapping(element, keys, required=("name", "if"), what="an override mapping"):
                continue
            v = element.value
            name = ctx.text(element.child("name")) if "name" in v else None
            cond = self.conds.parse(element.child("if")) if "if" in v else None
            bounds: dict[str, str | None] = {"grade_at_least": None, "grade_at_most": None}
            ok = True
            for key in bounds:
                if key in v:
                    letter = ctx.text(element.child(key))
                    if letter is not None and letter not in letters:
                        ctx.error(
                            element.child(key),
                            f"unknown grade '{letter}'{suggest(letter, letters)}; "
                            f"grades: {', '.join(letters)}",
                        )
                        letter = None
                    ok = ok and letter is not None
                    bounds[key] = letter
            low, high = bounds["grade_at_least"], bounds["grade_at_most"]
            if low is None and high is None and ok:
                ctx.error(element, "an override needs 'grade_at_least' or 'grade_at_most'")
                ok = False
            if low is not None and high is not None and letters.index(low) < letters.index(high):
                ctx.error(element, f"impossible bounds: at least {low} but at most {high}")
                ok = False
            if ok and name and cond is not None:
                out.append(OverrideSpec(name=name, cond=cond, at_least=low, at_most=high))
        return tuple(out)

    def _qualify(
        self,
        node: Node,
        grades: tuple[tuple[str, float], ...],
        tiers: tuple[tuple[str, float], ...],
    ) -> QualifySpec | None:
        ctx = self.ctx
        if not ctx.mapping(
            node,
            ("enter", "exit", "cooldown_days", "lifecycle_stage"),
            required=("enter",),
            what="a qualify mapping",
        ):
            return None
        letters = [g for g, _ in grades]
        digits = [t for t, _ in tiers]
        labels = [g + t for g in letters for t in digits]
        fields = CondParser(
            ctx,
            self.conds.lists,
            fields=QUALIFY_FIELDS,
            field_values={"grade": letters, "tier": digits, "label": labels},
        )
        v = node.value
        enter = fields.parse(node.child("enter")) if "enter" in v else None
        exit_cond = fields.parse(node.child("exit")) if "exit" in v else None
        cooldown = (
            ctx.number(node.child("cooldown_days"), minimum=0) if "cooldown_days" in v else 0.0
        )
        stage = (
            self._lifecycle_stage(node.child("lifecycle_stage")) if "lifecycle_stage" in v else None
        )
        self.conds.used_lists |= fields.used_lists
        if enter is None or cooldown is None or ("exit" in v and exit_cond is None):
            return None
        if "lifecycle_stage" in v and stage is None:
            return None
        return QualifySpec(
            enter=enter, exit=exit_cond, cooldown_days=cooldown, lifecycle_stage=stage
        )

    def _lifecycle_stage(self, node: Node) -> str | None:
        text = self.ctx.text(node)
        if text is None:
            return None
        stage = text.lower()
        if stage not in LIFECYCLE_STAGES:
            self.ctx.error(
                node,
                f"unknown lifecycle stage {text!r}{suggest(stage, LIFECYCLE_STAGES)};"
                f" valid: {', '.join(LIFECYCLE_STAGES)}",
            )
            return None
        return stage

    def _reasons(self, node: Node) -> tuple[int, int]:
        ctx = self.ctx
        if not ctx.mapping(node, ("top", "changes"), what="a mapping {top: N, changes: N}"):
            return 5, 3
        top = ctx.integer(node.child("top"), maximum=20) if "top" in node.value else 5
        changes = ctx.integer(node.child("changes"), maximum=20) if "changes" in node.value else 3
        return top if top is not None else 5, changes if changes is not None else 3


def _kind(value: Mapping[str, object]) -> str | None:
    if "event" in value:
        return "event"
    if "property" in value:
        if "recency" in value:
            return "recency"
        if "every_days" in value:
            return "elapsed"
        return "bands"
    if "if" in value:
        return "condition"
    return None


def _kind_label(kind: str) -> str:
    return {
        "condition": "condition ('if')",
        "bands": "property bands",
        "recency": "property recency",
        "elapsed": "elapsed-time ('every_days')",
        "event": "event",
    }[kind]


def _overlap(a: Band, b: Band) -> bool:
    inf = float("inf")
    a_lo, a_hi = a.min if a.min is not None else -inf, a.max if a.max is not None else inf
    b_lo, b_hi = b.min if b.min is not None else -inf, b.max if b.max is not None else inf
    return a_lo <= b_hi and b_lo <= a_hi


def _band_text(band: Band) -> str:
    low = f"{band.min:g}" if band.min is not None else ""
    high = f"{band.max:g}" if band.max is not None else ""
    return f"{low}-{high}" if high else f"{low}+"
