"""docs/sandbox-fidelity.md names every error code the Salesforce sandbox can answer with.

The codes are read from the sandbox's source, not from a list kept beside it: every literal code
passed to the functions that build an error (`api_error`, `save_error`, `SoqlError`,
`_oauth_error`), every literal `errorCode`/`statusCode`/`error` value of a dict literal, and every
plain-text error body of a `Response`. A new code without a row in the doc's Salesforce section
(with its source, or marked assumed) fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SANDBOX = ROOT / "sandbox" / "salesforce"
DOC = ROOT / "docs" / "sandbox-fidelity.md"

#: Error builders and the position of their code argument.
_BUILDERS = {"api_error": 1, "save_error": 0, "SoqlError": 0, "_oauth_error": 0}
_CODE_KEYS = {"errorCode", "statusCode", "error"}
#: Non-literal code arguments that only pass on a code built elsewhere (and collected there).
_PASS_THROUGH = {"code", "error", "error.code", "error['statusCode']"}


def _name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _codes_in(tree: ast.AST, where: str) -> tuple[set[str], list[str]]:
    codes: set[str] = set()
    unknown: list[str] = []

    def take(node: ast.expr) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            codes.add(node.value)
        elif ast.unparse(node) not in _PASS_THROUGH:
            unknown.append(f"{where}:{node.lineno}: {ast.unparse(node)}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _name(node)
            if name in _BUILDERS and len(node.args) > _BUILDERS[name]:
                take(node.args[_BUILDERS[name]])
            elif (
                name == "Response"
                and len(node.args) > 1
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, int)
                and node.args[0].value >= 400
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
            ):
                codes.add(node.args[1].value)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in _CODE_KEYS:
                    take(value)
    return codes, unknown


def emitted_codes() -> set[str]:
    """Every error code the Salesforce sandbox's source can put in a response."""
    codes: set[str] = set()
    unknown: list[str] = []
    for path in sorted(SANDBOX.glob("*.py")):
        found, odd = _codes_in(ast.parse(path.read_text(encoding="utf-8")), path.name)
        codes |= found
        unknown += odd
    assert unknown == [], f"error codes the collector cannot read: {unknown}"
    return codes


def salesforce_section() -> str:
    """The doc's Salesforce section, up to the next `## ` heading."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index("## Salesforce")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def test_the_collector_finds_codes_from_every_kind_of_source() -> None:
    codes = emitted_codes()
    assert {
        "INVALID_SESSION_ID",  # api_error, server.py
        "UNABLE_TO_LOCK_ROW",  # save_error, store.py
        "MALFORMED_QUERY",  # SoqlError, soql.py
        "PROCESSING_HALTED",  # a dict literal, rest.py
        "INVALIDJOBSTATE",  # bulk.py
        "invalid_grant",  # _oauth_error, oauth.py
        "Bad_OAuth_Token",  # a plain-text Response, oauth.py
    } <= codes


def test_every_emitted_error_code_is_in_the_salesforce_section() -> None:
    section = salesforce_section()
    missing = sorted(code for code in emitted_codes() if f"`{code}`" not in section)
    assert missing == [], f"error codes without a row in docs/sandbox-fidelity.md: {missing}"
