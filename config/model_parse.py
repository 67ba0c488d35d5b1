"""Check a model file's YAML tree and normalize it into a `scoring.spec.ModelSpec`.

Every problem is collected in the `Ctx` with its position and key path; the caller fails once at
the end with all of them. Key names are documented in docs/model-language.md.
"""

from __future__ import annotations

from collections.abc import Mapping

from config.kinds import unscored_reason
from config.model_conditions import CondParser, scalar
from config.model_members import MembersParser
from config.model_mentions import property_mentions
from config.model_rules import RuleParser
from config.yamlpos import Ctx, Node, suggest, type_name
from scoring.coerce import to_text
from scoring.model import spec_properties
from scoring.spec import (
    ACCOUNT_OBJECTS,
    DEFAULT_GRADES,
    DEFAULT_TIERS,
    Decay,
    DimensionSpec,
    DisqualifierSpec,
    GroupSpec,
    ModelSpec,
    OverrideSpec,
    QualifySpec,
    RuleSpec,
    Scalar,
)
from scoring.types import RECORD_KINDS

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
    "placeholders",
)
PLACEHOLDER_KEYS = ("all", "properties")
DIMENSION_KEYS = ("max", "decay", "groups", "rules")
GROUP_KEYS = ("name", "description", "first_match", "max", "rules")
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


#: Object -> the prefix under which people rules read that object's properties (a HubSpot
#: contact's `company.industry`): on the object itself such a name is no property at all.
_RELATED_PREFIX = {"company": "company."}


class ModelParser:
    """One pass over a model tree; read `problems` from the `Ctx` afterwards."""

    def __init__(self, ctx: Ctx, *, scored_only: bool = False) -> None:
        self.ctx = ctx
        self.scored_only = scored_only
        self.conds = CondParser(ctx, {})
        self.rules = RuleParser(ctx, self.conds)

    def _own_properties(self, root: Node, kind: str, prefix: str) -> None:
        """Refuse `prefix` names (`company.industry`) in a model of `kind` itself: they never
        fire, the record has its own property instead."""
        for name, node in property_mentions(root):
            if name.casefold().startswith(prefix) and len(name) > len(prefix):
                own = name[len(prefix) :]
                self.ctx.error(
                    node,
                    f"'{prefix}' properties are for contact rules (the contact's {kind}); a "
                    f"{kind} model reads its own properties: write '{own}'",
                )

    def parse(self, root: Node) -> ModelSpec | None:
        ctx = self.ctx
        if not ctx.mapping(root, TOP_KEYS, required=("name", "object"), what="a model mapping"):
            return None
        value = root.value
        lists = self._lists(root.child("lists")) if "lists" in value else {}
        name = ctx.text(root.child("name")) if "name" in value else None
        kind = self._object(root.child("object")) if "object" in value else None
        refusal = None
        if kind in ACCOUNT_OBJECTS:
            refusal = (
                f"'account.' fields are for contact and lead rules; a {kind} model reads its "
                "own properties"
            )
        if kind in _RELATED_PREFIX:
            self._own_properties(root, kind, _RELATED_PREFIX[kind])
        self.conds = CondParser(ctx, lists, account_refs=refusal)
        self.rules = RuleParser(ctx, self.conds, record_object=kind)
        description = ""
        if "description" in value:
            description = ctx.text(root.child("description"), allow_empty=True) or ""
        fit = self._dimension(root, "fit")
        interest = self._dimension(root, "interest")
        members = MembersParser(self.rules).members(root, kind) if "members" in value else None
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
        every: tuple[str, ...] = ()
        by_property: tuple[tuple[str, tuple[str, ...]], ...] = ()
        if "placeholders" in value:
            every, by_property = self._placeholders(root.child("placeholders"))
        if ctx.problems or name is None or kind is None or fit is None or interest is None:
            return None
        if "members" in value and members is None:
            return None
        spec = ModelSpec(
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
            placeholders=every,
            property_placeholders=by_property,
        )
        if by_property and not self._placeholders_read(root.child("placeholders"), spec):
            return None
        return spec

    def _placeholders(
        self, node: Node
    ) -> tuple[tuple[str, ...], tuple[tuple[str, tuple[str, ...]], ...]]:
        """`[values]` (every property) or `{all: [values], properties: {name: [values]}}`."""
        ctx = self.ctx
        if not isinstance(node.value, Mapping):
            return self._placeholder_values(node), ()
        what = "a list of values, or {all: [values], properties: {property: [values]}}"
        if not ctx.mapping(node, PLACEHOLDER_KEYS, what=what):
            return (), ()
        every = self._placeholder_values(node.child("all")) if "all" in node.value else ()
        by_property: list[tuple[str, tuple[str, ...]]] = []
        if "properties" in node.value:
            props = node.child("properties")
            if not isinstance(props.value, Mapping) or not props.value:
                ctx.error(props, "expected a mapping of property names to lists of values")
            else:
                for prop, child in props.items():
                    by_property.append((prop.strip(), self._placeholder_values(child)))
        return every, tuple(sorted(by_property))

    def _placeholder_values(self, node: Node) -> tuple[str, ...]:
        # compared as the scorer reads text (`to_text`): case-folded, trimmed, 10.0 as "10";
        # values that always mean "no data" (N/A, -, unknown) need no declaring but do no harm
        texts = set()
        for item in self.conds.values(node, "placeholders"):
            text = to_text(item)
            if text is not None:
                texts.add(text)
        return tuple(sorted(texts))

    def _placeholders_read(self, node: Node, spec: ModelSpec) -> bool:
        """Check each property with its own placeholders is one the model reads."""
        read = spec_properties(spec)
        props = node.child("properties")
        ok = True
        for name, _ in spec.property_placeholders:
            if name not in read:
                self.ctx.error(
                    props.key_node(name),
                    f"placeholders for '{name}', which no rule reads{suggest(name, read)}",
                )
                ok = False
        return ok

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
        problem = unscored_reason(text) if self.scored_only else None
        if problem:
            self.ctx.error(node, problem)  # the rest of the file is still checked
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
        decay = self.rules.decay(node.child("decay")) if "decay" in value else Decay()
        groups: list[GroupSpec] = []
        if "groups" in value:
            for element in ctx.list_of(node.child("groups"), "groups"):
                group = self._group(element, which)
                if group is not None:
                    groups.append(group)
        rules: list[RuleSpec] = []
        if "rules" in value:
            for element in ctx.list_of(node.child("rules"), "rules"):
                rule = self.rules.rule(element, which)
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
                    rule = self.rules.rule(element, which)
                    if rule is not None:
                        rules.append(rule)
        if name is None or first is None or not rules:
            return None
        return GroupSpec(name=name, rules=tuple(rules), first_match=first, max=cap)

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
