"""The JSON Schema of scoring-model files, for editors (`leadsync schema`).

The loader (`config.model_parse`) is the authority: it checks everything this schema says and more
(regexes, named lists, bounds, overlapping bands), with located messages. This schema gives
editors completion and early red squiggles; tests check that the example models satisfy it and
that its key lists match the loader's.
"""

from __future__ import annotations

from typing import Any

from config.kinds import SCORED_KINDS
from config.model_members import BREADTH_KEYS, MEMBERS_KEYS, ROLE_KEYS, ROLLUP_KEYS
from config.model_parse import GROUP_KEYS, TOP_KEYS
from config.model_rules import BAND_KEYS, RULE_KEYS
from scoring.spec import AGGREGATES, MEMBER_SCORES, OPERATORS
from scoring.types import EVENT_TYPES

SCHEMA_ID = "https://leadsync.dev/schema/model.json"

_SCALAR: dict[str, Any] = {"type": ["string", "number", "boolean"]}
_LIST_REF: dict[str, Any] = {
    "type": "string",
    "pattern": "^\\$[A-Za-z_][A-Za-z0-9_]*$",
    "description": "a named list from `lists:`, e.g. $free_email",
}
_VALUES: dict[str, Any] = {
    "oneOf": [{"type": "array", "items": {"oneOf": [_SCALAR, _LIST_REF]}, "minItems": 1}, _LIST_REF]
}
_TEXTS: dict[str, Any] = {
    "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]
}
_BOUND: dict[str, Any] = {
    "oneOf": [{"type": "number"}, {"type": "string", "format": "date"}],
    "description": "a number, or a date for date properties",
}
_OPERATOR_ARGS: dict[str, dict[str, Any]] = {
    "eq": {**_SCALAR, "description": "equals (case-insensitive for text)"},
    "neq": {**_SCALAR, "description": "has a value that differs"},
    "in": {**_VALUES, "description": "one of the values (case-insensitive)"},
    "not_in": {**_VALUES, "description": "has a value that is none of these"},
    "contains": {**_TEXTS, "description": "contains any of these texts (case-insensitive)"},
    "not_contains": {**_TEXTS, "description": "has a value that contains none of these"},
    "starts_with": {**_TEXTS, "description": "starts with any of these (case-insensitive)"},
    "ends_with": {**_TEXTS, "description": "ends with any of these (case-insensitive)"},
    "matches": {"type": "string", "description": "regular expression (case-insensitive search)"},
    "exists": {"type": "boolean", "description": "has data (not empty, not N/A)"},
    "missing": {"type": "boolean", "description": "has no data"},
    "gt": _BOUND,
    "gte": _BOUND,
    "lt": _BOUND,
    "lte": _BOUND,
    "between": {"type": "array", "items": _BOUND, "minItems": 2, "maxItems": 2},
    "domain_in": {
        "oneOf": [_TEXTS, _LIST_REF],
        "description": "email or website domain is one of these (or a subdomain)",
    },
    "within_days": {"type": "number", "minimum": 0, "description": "date is at most N days ago"},
    "older_than_days": {"type": "number", "minimum": 0, "description": "date is over N days ago"},
}
assert tuple(_OPERATOR_ARGS) == OPERATORS


def _decay() -> dict[str, Any]:
    return {
        "oneOf": [
            {"const": "none"},
            {"const": False},
            {
                "type": "object",
                "properties": {
                    "half_life_days": {"type": "number", "exclusiveMinimum": 0},
                    "lifespan_days": {"type": "number", "exclusiveMinimum": 0},
                },
                "minProperties": 1,
                "maxProperties": 1,
                "additionalProperties": False,
            },
        ]
    }


def _band() -> dict[str, Any]:
    properties = {key: {"type": "number"} for key in BAND_KEYS}
    return {
        "type": "object",
        "properties": properties,
        "required": ["points"],
        "additionalProperties": False,
    }


def _placeholders() -> dict[str, Any]:
    return {
        "description": "values that mean 'no data' (matched ignoring case and surrounding "
        "spaces): a list for every property, or {all: [...], properties: {property: [...]}}",
        "anyOf": [
            _SCALAR,
            _VALUES,
            {
                "type": "object",
                "properties": {
                    "all": {"anyOf": [_SCALAR, _VALUES]},
                    "properties": {
                        "type": "object",
                        "additionalProperties": {"anyOf": [_SCALAR, _VALUES]},
                    },
                },
                "additionalProperties": False,
            },
        ],
    }


def _members() -> dict[str, Any]:
    """The `members` section of account models: title, roles and roll-up rules."""
    role = {
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "if": {"$ref": "#/$defs/condition"},
        "weight": {"type": "number", "minimum": 0},
    }
    assert tuple(role) == ROLE_KEYS
    breadth = {
        "within_days": {"type": "number", "exclusiveMinimum": 0},
        "events": {"type": "array", "items": {"enum": list(EVENT_TYPES)}, "minItems": 1},
    }
    assert tuple(breadth) == BREADTH_KEYS
    rollup = {
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "score": {"enum": list(MEMBER_SCORES), "description": "roll up this member score"},
        "model": {
            "type": "string",
            "minLength": 1,
            "description": "whose score: a people model's name or output prefix part (pl_b)",
        },
        "event": {"enum": list(EVENT_TYPES), "description": "roll up these member events"},
        "breadth": {
            "type": "object",
            "properties": breadth,
            "required": ["within_days"],
            "additionalProperties": False,
            "description": "people engaged within N days, in bands",
        },
        "where": {"$ref": "#/$defs/condition"},
        "within_days": {"type": "number", "exclusiveMinimum": 0},
        "decay": {"$ref": "#/$defs/decay"},
        "points": {"type": "number", "description": "per event, or a scale on a member score"},
        "aggregate": {"enum": list(AGGREGATES)},
        "top": {"type": "integer", "minimum": 1, "description": "how many top_mean averages"},
        "max": {"type": "number", "exclusiveMinimum": 0},
        "bands": {"type": "array", "items": _band(), "minItems": 1},
    }
    assert tuple(rollup) == ROLLUP_KEYS
    members = {
        "title": {"type": "string", "description": "the member property holding the job title"},
        "roles": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": role,
                "required": ["name", "if", "weight"],
                "additionalProperties": False,
            },
        },
        "default_weight": {"type": "number", "minimum": 0},
        "rollup": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": rollup,
                "required": ["name"],
                "additionalProperties": False,
            },
        },
    }
    assert tuple(members) == MEMBERS_KEYS
    return {
        "type": "object",
        "properties": members,
        "required": ["rollup"],
        "additionalProperties": False,
        "description": "account models: roll-ups of the account's people",
    }


def model_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a model file."""
    test = {
        "description": "a value (eq), a list (in), null (missing) or a mapping of operators",
        "oneOf": [
            _SCALAR,
            {"type": "null"},
            _VALUES,
            {
                "type": "object",
                "properties": _OPERATOR_ARGS,
                "additionalProperties": False,
                "minProperties": 1,
            },
        ],
    }
    rule_properties: dict[str, Any] = {
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "if": {"$ref": "#/$defs/condition"},
        "points": {"type": "number"},
        "property": {"type": "string"},
        "bands": {"type": "array", "items": _band(), "minItems": 1},
        "recency": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "within_days": {"type": "number", "exclusiveMinimum": 0},
                    "points": {"type": "number"},
                },
                "required": ["within_days", "points"],
                "additionalProperties": False,
            },
        },
        "every_days": {"type": "number", "exclusiveMinimum": 0},
        "max": {"type": "number", "exclusiveMinimum": 0},
        "event": {"enum": list(EVENT_TYPES)},
        "where": {"$ref": "#/$defs/condition"},
        "within_days": {"type": "number", "exclusiveMinimum": 0},
        "decay": {"$ref": "#/$defs/decay"},
        "age_from": {"type": "string"},
    }
    assert tuple(rule_properties) == RULE_KEYS
    group_properties: dict[str, Any] = {
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "first_match": {"type": "boolean"},
        "max": {"type": "number", "exclusiveMinimum": 0},
        "rules": {"type": "array", "items": {"$ref": "#/$defs/rule"}, "minItems": 1},
    }
    assert tuple(group_properties) == GROUP_KEYS
    dimension = {
        "type": "object",
        "properties": {
            "max": {"type": "number", "exclusiveMinimum": 0},
            "decay": {"$ref": "#/$defs/decay"},
            "groups": {"type": "array", "items": {"$ref": "#/$defs/group"}},
            "rules": {"type": "array", "items": {"$ref": "#/$defs/rule"}},
        },
        "additionalProperties": False,
    }
    thresholds = {
        "type": "object",
        "additionalProperties": {"type": "number", "minimum": 0, "maximum": 100},
        "minProperties": 1,
    }
    check: dict[str, Any] = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "if": {"$ref": "#/$defs/condition"},
        },
        "required": ["name", "if"],
    }
    top: dict[str, Any] = {
        "name": {"type": "string", "minLength": 1},
        "object": {"enum": list(SCORED_KINDS)},
        "description": {"type": "string"},
        "lists": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": _SCALAR, "minItems": 1},
        },
        "fit": dimension,
        "interest": dimension,
        "combine": {
            "type": "object",
            "properties": {
                "fit": {"type": "number", "minimum": 0},
                "interest": {"type": "number", "minimum": 0},
            },
            "additionalProperties": False,
        },
        "grades": {
            "type": "object",
            "properties": {"fit": thresholds, "interest": thresholds},
            "additionalProperties": False,
        },
        "disqualify": {
            "type": "array",
            "items": {
                **check,
                "properties": {**check["properties"], "reason": {"type": "string"}},
                "additionalProperties": False,
            },
        },
        "overrides": {
            "type": "array",
            "items": {
                **check,
                "properties": {
                    **check["properties"],
                    "grade_at_least": {"type": "string"},
                    "grade_at_most": {"type": "string"},
                },
                "additionalProperties": False,
            },
        },
        "qualify": {
            "type": "object",
            "properties": {
                "enter": {"$ref": "#/$defs/condition"},
                "exit": {"$ref": "#/$defs/condition"},
                "cooldown_days": {"type": "number", "minimum": 0},
                "lifecycle_stage": {
                    "enum": [
                        "subscriber",
                        "lead",
                        "marketingqualifiedlead",
                        "salesqualifiedlead",
                        "opportunity",
                        "customer",
                        "evangelist",
                    ]
                },
            },
            "required": ["enter"],
            "additionalProperties": False,
        },
        "reasons": {
            "type": "object",
            "properties": {
                "top": {"type": "integer", "minimum": 0, "maximum": 20},
                "changes": {"type": "integer", "minimum": 0, "maximum": 20},
            },
            "additionalProperties": False,
        },
        "completeness": {"type": "array", "items": {"type": "string"}},
        "members": _members(),
        "placeholders": _placeholders(),
    }
    assert tuple(top) == TOP_KEYS
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "leadsync scoring model",
        "type": "object",
        "properties": top,
        "required": ["name", "object"],
        "additionalProperties": False,
        "$defs": {
            "condition": {
                "type": "object",
                "minProperties": 1,
                "properties": {
                    "all": {"type": "array", "items": {"$ref": "#/$defs/condition"}},
                    "any": {"type": "array", "items": {"$ref": "#/$defs/condition"}},
                    "not": {"$ref": "#/$defs/condition"},
                },
                "additionalProperties": {"$ref": "#/$defs/test"},
            },
            "test": test,
            "decay": _decay(),
            "rule": {
                "type": "object",
                "properties": rule_properties,
                "required": ["name"],
                "additionalProperties": False,
            },
            "group": {
                "type": "object",
                "properties": group_properties,
                "required": ["name", "rules"],
                "additionalProperties": False,
            },
        },
    }
