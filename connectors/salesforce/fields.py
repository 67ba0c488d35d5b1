"""leadsync's output fields in Salesforce: API names, Tooling metadata and value encoding.

Canonical output `scored_at` is `Leadsync_Scored_At__c`; each output type maps to one custom
field type: number -> Number(5, 0), enumeration -> restricted Picklist, bool -> Checkbox,
text -> LongTextArea(32768), string -> Text(255), datetime -> DateTime.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from connectors.base import OutputField

SOBJECTS: dict[str, str] = {"lead": "Lead", "contact": "Contact", "account": "Account"}
LONG_TEXT = 32768
TOOLING_TYPES: dict[str, str] = {
    "number": "Number",
    "enumeration": "Picklist",
    "bool": "Checkbox",
    "text": "LongTextArea",
    "string": "Text",
    "datetime": "DateTime",
}


def sobject_of(kind: str) -> str:
    """The Salesforce object of a record kind; ValueError for kinds it does not serve."""
    try:
        return SOBJECTS[kind]
    except KeyError:
        raise ValueError(
            f"the Salesforce connector reads {sorted(SOBJECTS)}, not {kind!r}"
        ) from None


def api_name(canonical: str) -> str:
    """`scored_at` -> `Leadsync_Scored_At__c`."""
    return "Leadsync_" + "_".join(part.capitalize() for part in canonical.split("_")) + "__c"


def output_keys(names: Sequence[str], namespaces: Sequence[str] = ()) -> dict[str, str]:
    """Output keys a connection writes or reads back, each with its canonical output name:
    leadsync's own of `names` (`score`) and each further model's (`pl_a_score`, whose field is
    `Leadsync_Pl_A_Score__c`)."""
    return {ns + name: name for ns in ("", *namespaces) for name in names}


def tooling_metadata(output: OutputField) -> dict[str, Any]:
    """The Tooling API `CustomField.Metadata` that creates an output field."""
    metadata: dict[str, Any] = {
        "label": f"Leadsync {output.label}"[:40],
        "description": output.description,
        "inlineHelpText": output.description,
        "type": TOOLING_TYPES[output.type],
    }
    if output.type == "number":
        metadata.update(precision=5, scale=0)
    elif output.type == "enumeration":
        metadata["valueSet"] = {
            "restricted": True,
            "valueSetDefinition": {
                "sorted": False,
                "value": [picklist_value(v) for v in output.options],
            },
        }
    elif output.type == "bool":
        metadata["defaultValue"] = "false"
    elif output.type == "text":
        metadata.update(length=LONG_TEXT, visibleLines=5)
    elif output.type == "string":
        metadata["length"] = 255
    return metadata


def picklist_value(value: str) -> dict[str, Any]:
    """One picklist value as Tooling `CustomField.Metadata` names it (`valueName`, not the
    Metadata API's `fullName`)."""
    return {"valueName": value, "label": value, "default": False}


def picklist_entries(metadata: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The value entries of a Picklist field's Tooling metadata, as read."""
    value_set = metadata.get("valueSet") or {}
    definition = value_set.get("valueSetDefinition") or {}
    return [dict(v) for v in definition.get("value") or [] if isinstance(v, Mapping)]


def picklist_values(metadata: Mapping[str, Any]) -> list[str]:
    """The value names of a Picklist field's Tooling metadata."""
    return [str(v["valueName"]) for v in picklist_entries(metadata) if v.get("valueName")]


def encode(canonical: str, value: object, *, max_length: int = LONG_TEXT) -> Any:
    """A JSON value for a REST write of one output."""
    if value is None:
        return None
    if canonical in ("fit", "interest", "score"):
        return round(float(str(value)))
    if canonical == "qualified":
        return value if isinstance(value, bool) else str(value).lower() in ("true", "1", "yes")
    if canonical == "scored_at":
        if isinstance(value, datetime):
            return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return str(value)
    text = str(value)
    return text[:max_length]


def held(canonical: str, sent: Any, stored: Any) -> bool:
    """Whether a value read back from Salesforce (`stored`, as the REST API returns it) is the
    value `encode` sent: numbers by value (`85` and `85.0`), a cleared checkbox as false,
    datetimes to the second (`...Z` and `....000+0000`), text with line breaks and surrounding
    blanks normalised and an empty string as null, as Salesforce stores them."""
    if canonical in ("fit", "interest", "score"):
        return _number(sent) == _number(stored)
    if canonical == "qualified":
        return bool(sent) == (stored is True)
    if canonical == "scored_at":
        return _moment(sent) == _moment(stored)
    return _text(sent) == _text(stored)


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(str(value))
    except ValueError:
        return None


def _moment(value: Any) -> datetime | str | None:
    if value is None or value == "":
        return None
    text = str(value)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).replace("\r\n", "\n").strip()
    return text or None


def encode_csv(canonical: str, value: object, *, max_length: int = LONG_TEXT) -> str:
    """A Bulk API 2.0 CSV cell: `#N/A` clears a field (an empty cell would leave it as is)."""
    encoded = encode(canonical, value, max_length=max_length)
    if encoded is None or encoded == "":
        return "#N/A"
    if isinstance(encoded, bool):
        return "true" if encoded else "false"
    return str(encoded)
