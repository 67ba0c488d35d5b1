"""Placeholder values: what a model declares to mean "no data" (`Select`, `Not provided`).

Web forms and exports fill unanswered fields with their first option or a filler word, which
would otherwise read as data: `Select` is text, so `exists` holds, it counts toward
completeness and `not_in` fires. A model lists such values for any property and per property;
`placeholder_filter` builds the one function both scoring paths (and the model tools' data
checks) run on a record's properties first, which turns each placeholder into None (missing)
before any rule sees it.
Values compare as the rules compare text: case-folded and trimmed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from scoring.coerce import to_text

#: A record's properties as the CRM sent them.
Properties = Mapping[str, object]
#: properties -> the same properties with every placeholder value replaced by None.
PlaceholderFilter = Callable[[Properties], Properties]


def placeholder_filter(
    every: Iterable[str], by_property: Iterable[tuple[str, Iterable[str]]]
) -> PlaceholderFilter | None:
    """The filter of a model: `every` holds the (case-folded) values meaning "no data" in any
    property, `by_property` those of single properties. None when it declares none."""
    common = frozenset(every)
    own = {name: common | frozenset(values) for name, values in by_property}
    if not common and not own:
        return None
    if not common:
        table = tuple(own.items())

        def listed(raw: Properties) -> Properties:
            return _without(raw, ((name, raw.get(name), tokens) for name, tokens in table))

        return listed

    def any_property(raw: Properties) -> Properties:
        return _without(raw, ((n, v, own.get(n, common)) for n, v in raw.items()))

    return any_property


def _without(raw: Properties, checks: Iterable[tuple[str, object, frozenset[str]]]) -> Properties:
    cleaned: dict[str, object] | None = None
    for name, value, tokens in checks:
        if value is None:
            continue
        text = value.strip().casefold() if value.__class__ is str else to_text(value)
        if text in tokens:
            if cleaned is None:
                cleaned = dict(raw)
            cleaned[name] = None
    return raw if cleaned is None else cleaned
