"""Check one scoring rule of a model file and normalize it into a `scoring.spec.RuleSpec`.

A rule's keys say its kind (`rule_kind`): `if` a condition, `property` with `bands`, `recency` or
`every_days`, or `event`. `RuleParser` checks the keys that kind takes and parses them (bands,
recency steps, decay), collecting located problems in the shared `Ctx`. Key names are documented
in docs/model-language.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import get_args

from config.model_conditions import CondParser
from config.yamlpos import Ctx, Node, suggest
from scoring.rules import band_text
from scoring.spec import ACCOUNT_OBJECTS, Band, Decay, RuleKind, RuleSpec
from scoring.types import EVENT_TYPES

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
#: Keys of one band: its bounds (min/max inclusive, or gte/gt and lte/lt) and its points.
BAND_KEYS = ("min", "max", "gte", "gt", "lte", "lt", "points")
#: Keys each rule kind accepts besides name and description.
KIND_KEYS: dict[str, tuple[str, ...]] = {
    "condition": ("if", "points", "age_from", "decay"),
    "bands": ("property", "bands"),
    "recency": ("property", "recency"),
    "elapsed": ("property", "every_days", "points", "max"),
    "event": ("event", "where", "points", "bands", "max", "within_days", "decay"),
}
assert set(KIND_KEYS) == set(get_args(RuleKind))


class Fields:
    """The parsed fields of one rule; `ok` turns False when any of them failed."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}
        self.ok = True

    def take(self, key: str, parsed: object) -> None:
        """Keep `parsed` as field `key`; None (it failed) makes the whole rule fail."""
        if parsed is None:
            self.ok = False
        else:
            self.values[key] = parsed


class RuleParser:
    """Parses rules (and the bands, recency steps and decay inside them) of one model.

    Rule names must be unique across the model, so one parser serves the whole model.
    """

    def __init__(self, ctx: Ctx, conds: CondParser, *, record_object: str | None = None) -> None:
        self.ctx = ctx
        self.conds = conds
        self.object = record_object
        self.rule_names: dict[str, Node] = {}

    def rule(self, node: Node, which: str) -> RuleSpec | None:
        """The rule at `node` under dimension `which` (fit or interest), or None when invalid."""
        ctx = self.ctx
        hints = {"disqualify": "a disqualifier goes in the top-level 'disqualify:' list"}
        if not ctx.mapping(node, RULE_KEYS, required=("name",), what="a rule mapping", hints=hints):
            return None
        kind = rule_kind(node.value)
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
        ok = self._keys_apply(node, kind)
        name = self.name(node)
        fields = Fields()
        if kind == "condition":
            self._condition(node, which, fields)
        elif kind == "event":
            self._event(node, fields)
        else:
            self._property(node, kind, fields)
        if not ok or name is None or not fields.ok:
            return None
        return RuleSpec(name=name, kind=kind, **fields.values)  # type: ignore[arg-type]

    def _keys_apply(self, node: Node, kind: str) -> bool:
        allowed = KIND_KEYS[kind]
        ok = True
        for key in node.value:
            if key in ("name", "description") or key in allowed or key not in RULE_KEYS:
                continue  # unknown keys were reported by `mapping`, with a suggestion
            self.ctx.error(
                node.key_node(key),
                f"'{key}' does not apply to a {kind_label(kind)} rule "
                f"(it takes: {', '.join(allowed)})",
            )
            ok = False
        return ok

    def name(self, node: Node) -> str | None:
        """The rule's name, None when missing, invalid or already used by another rule (roll-up
        rules included)."""
        if "name" not in node.value:
            return None
        name = self.ctx.text(node.child("name"))
        if name is None:
            return None
        first = self.rule_names.get(name)
        if first is not None:
            self.ctx.error(
                node.child("name"),
                f"duplicate rule name '{name}' (first used at line {first.line}); "
                "names must be unique because reasons and changes refer to them",
            )
            return None
        self.rule_names[name] = node.child("name")
        return name

    def choice(self, node: Node, choices: tuple[str, ...], what: str) -> str | None:
        """The text at `node` if it is one of `choices`, else None after a did-you-mean."""
        text = self.ctx.text(node)
        if text is not None and text not in choices:
            self.ctx.error(
                node,
                f"unknown {what} '{text}'{suggest(text, choices)}; valid: {', '.join(choices)}",
            )
            return None
        return text

    def _need(self, node: Node, kind: str, key: str, fields: Fields) -> bool:
        if key not in node.value:
            self.ctx.error(node, f"a {kind_label(kind)} rule needs '{key}'")
            fields.ok = False
            return False
        return True

    def _condition(self, node: Node, which: str, fields: Fields) -> None:
        ctx, value = self.ctx, node.value
        fields.take("cond", self.conds.parse(node.child("if")))
        if self._need(node, "condition", "points", fields):
            fields.take("points", ctx.number(node.child("points")))
        if "age_from" in value:
            if which == "fit":
                ctx.error(
                    node.key_node("age_from"), "'age_from' (decay by a date) is for interest rules"
                )
                fields.ok = False
            fields.take("age_from", ctx.text(node.child("age_from")))
        if "decay" in value:
            if "age_from" not in value:
                ctx.error(
                    node.key_node("decay"),
                    "'decay' on a condition rule needs 'age_from' (the date to age from)",
                )
                fields.ok = False
            fields.take("decay", self.decay(node.child("decay")))

    def _event(self, node: Node, fields: Fields) -> None:
        ctx, value = self.ctx, node.value
        event = ctx.text(node.child("event"))
        if event is not None and event not in EVENT_TYPES:
            ctx.error(
                node.child("event"),
                f"unknown event type '{event}'{suggest(event, EVENT_TYPES)}; "
                f"valid: {', '.join(EVENT_TYPES)}",
            )
            event = None
        fields.take("event", event)
        if "where" in value:
            fields.take("where", self.conds.parse(node.child("where")))
        has_points, has_bands = "points" in value, "bands" in value
        if has_points == has_bands:
            ctx.error(
                node,
                "an event rule needs either 'points' (per occurrence) or 'bands' (on the count)",
            )
            fields.ok = False
        elif has_points:
            fields.take("points", ctx.number(node.child("points")))
        else:
            fields.take("bands", self.bands(node.child("bands")))
        if "max" in value:
            fields.take("max", ctx.number(node.child("max"), positive=True))
        if "within_days" in value:
            fields.take("within_days", ctx.number(node.child("within_days"), positive=True))
        if "decay" in value:
            fields.take("decay", self.decay(node.child("decay")))

    def _property(self, node: Node, kind: str, fields: Fields) -> None:
        ctx = self.ctx
        fields.take("property", ctx.text(node.child("property")))
        if kind == "bands":
            if self._need(node, kind, "bands", fields):
                fields.take("bands", self.bands(node.child("bands")))
        elif kind == "recency":
            fields.take("bands", self.recency(node.child("recency")))
        else:
            fields.take("every_days", ctx.number(node.child("every_days"), positive=True))
            if self._need(node, kind, "points", fields):
                fields.take("points", ctx.number(node.child("points")))
            if "max" in node.value:
                fields.take("max", ctx.number(node.child("max"), positive=True))

    def bands(self, node: Node) -> tuple[Band, ...] | None:
        """`[{min, max, points}, ...]` (or half-open `{gte: 1, lt: 2, points}`) as bands that
        neither overlap nor are empty, or None when invalid."""
        ctx = self.ctx
        bands: list[tuple[Band, Node]] = []
        ok = True
        for element in ctx.list_of(node, "bands"):
            band = self._band(element)
            if band is None:
                ok = False
            else:
                bands.append((band, element))
        for i, (band, element) in enumerate(bands):
            for earlier, _ in bands[:i]:
                if _overlap(band, earlier):
                    ctx.error(
                        element,
                        f"band {band_text(band)} overlaps band {band_text(earlier)}"
                        + _touching_hint(band, earlier),
                    )
                    ok = False
                    break
        if not ok or not bands:
            return None
        return tuple(b for b, _ in bands)

    def _band(self, element: Node) -> Band | None:
        ctx = self.ctx
        what = "a band {min, max, points}"
        if not ctx.mapping(element, BAND_KEYS, required=("points",), what=what):
            return None
        v = element.value
        lows = [k for k in ("min", "gte", "gt") if k in v]
        highs = [k for k in ("max", "lte", "lt") if k in v]
        ok = True
        for keys, side in ((lows, "lower"), (highs, "upper")):
            if len(keys) > 1:
                ctx.error(element, f"a band takes one {side} bound, got {' and '.join(keys)}")
                ok = False
        if not lows and not highs:
            ctx.error(
                element,
                "a band needs a lower bound (min/gte/gt), an upper one (max/lte/lt) or both",
            )
            ok = False
        bounds = {k: ctx.number(element.child(k)) for k in (*lows, *highs)}
        points = ctx.number(element.child("points")) if "points" in v else None
        if not ok or points is None or any(b is None for b in bounds.values()):
            return None
        low_key = lows[0] if lows else ""
        high_key = highs[0] if highs else ""
        band = Band(
            points=points,
            min=bounds[low_key] if lows else None,
            max=bounds[high_key] if highs else None,
            min_open=low_key == "gt",
            max_open=high_key == "lt",
        )
        if band.min is not None and band.max is not None:
            if band.min > band.max:
                ctx.error(
                    element,
                    f"impossible bounds: {low_key} {band.min:g} is above {high_key} {band.max:g}",
                )
                return None
            if band.min == band.max and (band.min_open or band.max_open):
                ctx.error(
                    element,
                    f"impossible bounds: {low_key} {band.min:g} and {high_key} {band.max:g} "
                    "hold for no number",
                )
                return None
        return band

    def recency(self, node: Node) -> tuple[Band, ...] | None:
        """`[{within_days, points}, ...]` as bands sorted by days, or None when invalid."""
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

    def decay(self, node: Node) -> Decay | None:
        """`{half_life_days: N}`, `{lifespan_days: N}` or `none`, or None when invalid."""
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


def rule_kind(value: Mapping[str, object]) -> str | None:
    """The kind of rule a rule mapping's keys make it (None: no kind fits)."""
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


def kind_label(kind: str) -> str:
    """How error messages name a rule kind."""
    return {
        "condition": "condition ('if')",
        "bands": "property bands",
        "recency": "property recency",
        "elapsed": "elapsed-time ('every_days')",
        "event": "event",
    }[kind]


def _touching_hint(a: Band, b: Band) -> str:
    """For two closed bands sharing only an edge, how to make them touch instead."""
    for low, high in ((a, b), (b, a)):
        if low.max is not None and low.max == high.min and not (low.max_open or high.min_open):
            return f" at {low.max:g} (end the lower band with 'lt: {low.max:g}' so they touch)"
    return ""


def _overlap(a: Band, b: Band) -> bool:
    """Whether some number lies in both bands."""
    inf = float("inf")
    low, low_open = max(
        ((a.min if a.min is not None else -inf), a.min_open),
        ((b.min if b.min is not None else -inf), b.min_open),
    )
    high, high_closed = min(
        ((a.max if a.max is not None else inf), not a.max_open),
        ((b.max if b.max is not None else inf), not b.max_open),
    )
    # max()/min() on (bound, flag) pick the tighter bound, and at a tie the open one
    return low < high or (low == high and not low_open and high_closed)
