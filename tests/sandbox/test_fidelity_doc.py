"""docs/sandbox-fidelity.md names every error code the sandboxes can answer with.

The codes are read from each sandbox's source, not from a list kept beside it: every literal code
passed to the functions that build an error, every literal code of an error body written as a
dict literal, and every plain-text error body of a `Response` (for HubSpot also the literal
`message` of a dict body handed to one). A new code without a row in the doc's section for its
CRM (with its source, or marked assumed) fails here.

Salesforce: the builders `api_error`, `save_error`, `SoqlError`, `_oauth_error`; the keys
`errorCode`, `statusCode`, `error`. HubSpot: the builders `error` (the `category`),
`rate_limited` (the `policyName`), `_oauth_error` (HubSpot's `status` and RFC 6749's `error`) and
`ValueProblem` (a property value's `code`); the keys `category`, `subCategory`, `errorType`,
`policyName` of dicts that say `"status": "error"` (HubSpot's association types carry a
`category` too). HubSpot's `control.py` is the sandbox's own test API, not an imitation.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "sandbox-fidelity.md"


@dataclass(frozen=True)
class Sandbox:
    """Where one sandbox builds its errors, and the doc section that must name them."""

    directory: Path
    heading: str
    #: Error builders and the positions of their code arguments.
    builders: dict[str, tuple[int, ...]]
    #: Keys whose literal values in a dict literal are codes.
    code_keys: frozenset[str]
    #: Non-literal code arguments that only pass on a code built elsewhere (and collected there).
    pass_through: frozenset[str]
    #: Read `code_keys` only in dicts with `"status": "error"` (HubSpot's error bodies).
    error_dicts_only: bool = False
    #: Also count the literal `message` of a dict body handed to an error `Response` (HubSpot's
    #: bodies without a category).
    dict_messages: bool = False
    #: Modules that are not an imitation of the CRM.
    skip: frozenset[str] = frozenset()


SALESFORCE = Sandbox(
    directory=ROOT / "sandbox" / "salesforce",
    heading="## Salesforce",
    builders={"api_error": (1,), "save_error": (0,), "SoqlError": (0,), "_oauth_error": (0,)},
    code_keys=frozenset({"errorCode", "statusCode", "error"}),
    pass_through=frozenset({"code", "error", "error.code", "error['statusCode']"}),
)

HUBSPOT = Sandbox(
    directory=ROOT / "sandbox" / "hubspot",
    heading="## HubSpot",
    builders={"error": (1,), "rate_limited": (0,), "_oauth_error": (0, 1), "ValueProblem": (1,)},
    code_keys=frozenset({"category", "subCategory", "errorType", "policyName"}),
    pass_through=frozenset({"category", "policy", "status", "error"}),
    error_dicts_only=True,
    dict_messages=True,
    skip=frozenset({"control.py"}),
)


def _name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _literal_text(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
        value = node.value
        return value.decode("utf-8") if isinstance(value, bytes) else value
    return None


def _error_response_body(call: ast.Call) -> ast.expr | None:
    """The body argument of `Response(<literal status >= 400>, body, ...)`, else None."""
    if _name(call) != "Response" or len(call.args) < 2:
        return None
    status = call.args[0]
    if isinstance(status, ast.Constant) and isinstance(status.value, int) and status.value >= 400:
        return call.args[1]
    return None


def _dict_items(node: ast.Dict) -> dict[str, ast.expr]:
    return {
        key.value: value
        for key, value in zip(node.keys, node.values, strict=True)
        if isinstance(key, ast.Constant) and isinstance(key.value, str)
    }


def _codes_in(sandbox: Sandbox, tree: ast.AST, where: str) -> tuple[set[str], list[str]]:
    codes: set[str] = set()
    unknown: list[str] = []

    def take(node: ast.expr) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            codes.add(node.value)
        elif ast.unparse(node) not in sandbox.pass_through:
            unknown.append(f"{where}:{node.lineno}: {ast.unparse(node)}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for position in sandbox.builders.get(_name(node) or "", ()):
                if len(node.args) > position:
                    take(node.args[position])
            body = _error_response_body(node)
            if body is not None and (text := _literal_text(body)):
                codes.add(text)
            elif sandbox.dict_messages and isinstance(body, ast.Dict):
                message = _dict_items(body).get("message")
                text = _literal_text(message) if message is not None else None
                if text is not None:
                    codes.add(text)
        elif isinstance(node, ast.Dict):
            items = _dict_items(node)
            status = items.get("status")
            said_error = status is not None and _literal_text(status) == "error"
            if sandbox.error_dicts_only and not said_error:
                continue
            for key, value in items.items():
                if key in sandbox.code_keys:
                    take(value)
    return codes, unknown


def emitted_codes(sandbox: Sandbox) -> set[str]:
    """Every error code a sandbox's source can put in a response."""
    codes: set[str] = set()
    unknown: list[str] = []
    for path in sorted(sandbox.directory.glob("*.py")):
        if path.name in sandbox.skip:
            continue
        found, odd = _codes_in(sandbox, ast.parse(path.read_text(encoding="utf-8")), path.name)
        codes |= found
        unknown += odd
    assert unknown == [], f"error codes the collector cannot read: {unknown}"
    return codes


def section(heading: str) -> str:
    """The doc's section under `heading`, up to the next `## ` heading (or the end)."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(heading)
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def salesforce_section() -> str:
    """The doc's Salesforce section."""
    return section(SALESFORCE.heading)


def test_the_collector_finds_codes_from_every_kind_of_source() -> None:
    codes = emitted_codes(SALESFORCE)
    assert {
        "INVALID_SESSION_ID",  # api_error, server.py
        "UNABLE_TO_LOCK_ROW",  # save_error, store.py
        "MALFORMED_QUERY",  # SoqlError, soql.py
        "PROCESSING_HALTED",  # a dict literal, rest.py
        "INVALIDJOBSTATE",  # bulk.py
        "invalid_grant",  # _oauth_error, oauth.py
        "Bad_OAuth_Token",  # a plain-text Response, oauth.py
    } <= codes


def test_the_collector_finds_hubspot_codes_from_every_kind_of_source() -> None:
    codes = emitted_codes(HUBSPOT)
    assert {
        "MISSING_SCOPES",  # error(), auth.py
        "VALIDATION_ERROR",  # error() inside errors.validation
        "DAILY",  # rate_limited, limits.py
        "RATE_LIMIT",  # errorType of the 429 body, errors.py
        "crm.associations.NO_ASSOCIATIONS_FOUND",  # subCategory of a dict literal
        "INTERNAL_ERROR",  # category of a 207's dict literal, crm.py
        "BAD_REFRESH_TOKEN",  # _oauth_error's HubSpot status, auth.py
        "invalid_grant",  # _oauth_error's RFC 6749 error, auth.py
        "INVALID_OPTION",  # ValueProblem, store.py
        "<html><body><h1>502 Bad Gateway</h1></body></html>",  # a plain-text Response
        "Method not allowed",  # the message of a dict Response, errors.py
    } <= codes
    # An association type's category is not an error category.
    assert "HUBSPOT_DEFINED" not in codes


@pytest.mark.parametrize("sandbox", [SALESFORCE, HUBSPOT], ids=["salesforce", "hubspot"])
def test_every_emitted_error_code_is_in_its_section(sandbox: Sandbox) -> None:
    text = section(sandbox.heading)
    missing = sorted(code for code in emitted_codes(sandbox) if f"`{code}`" not in text)
    assert missing == [], f"error codes without a row in docs/sandbox-fidelity.md: {missing}"
