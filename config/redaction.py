"""Keep configured secret values out of every text leadsync produces.

`load_config` hands every secret of the configuration it validated to `remember_secrets`: each
`SecretStr` of `Settings` (tokens, client secrets, refresh tokens, session ids, webhook URLs, the
state URL), the password inside the state URL, and the lines of a Salesforce private key file.
The places where text leaves the process (log lines, a run's stored error, dead-letter and
ledger errors, `/readyz`, the command line's error messages) pass it through `redact`, which
writes `<secret>` for each of them, whatever exception or CRM reply the text came from.

Each value is also matched in the forms an exception or a log line quotes it in (`repr`, JSON
and URL escapes). Values shorter than `MIN_LENGTH` characters are not matched: they would mask
ordinary words, and no CRM issues credentials that short.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, unquote, urlsplit

from pydantic import BaseModel, SecretStr

#: What a secret value is replaced with.
MASK = "<secret>"
#: The shortest value matched.
MIN_LENGTH = 8
#: A private key file's lines shorter than this (its `-----BEGIN ...-----` frame aside) are left.
_KEY_LINE = 16


class Redactor:
    """The secret values of this process and `redact`, which masks them in a text; thread-safe.

    Values are only ever added: a secret remembered once stays masked for the process's life.
    """

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def remember(self, values: Iterable[str]) -> None:
        """Mask `values` (and their quoted forms) from now on."""
        forms = {
            form for value in values if len(value.strip()) >= MIN_LENGTH for form in _forms(value)
        }
        with self._lock:
            if forms <= self._values:
                return
            self._values |= forms
            # longest first, so a value containing another is masked whole
            ordered = sorted(self._values, key=lambda v: (-len(v), v))
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def redact(self, text: str) -> str:
        """`text` with every remembered secret value written `MASK`."""
        pattern = self._pattern
        return text if pattern is None else pattern.sub(MASK, text)


def _forms(value: str) -> set[str]:
    """`value` as a text may quote it: as is, inside `repr` or JSON, URL-encoded."""
    value = value.strip()
    return {
        value,
        repr(value)[1:-1],
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        quote(value, safe=""),
        quote_plus(value, safe=""),
    }


#: The process's secrets: `load_config` fills it, every output path reads it.
_PROCESS = Redactor()


def remember_secrets(values: Iterable[str]) -> None:
    """Mask `values` in everything `redact` is given from now on, in this process."""
    _PROCESS.remember(values)


def redact(text: str) -> str:
    """`text` with every secret value this process knows written `<secret>`."""
    return _PROCESS.redact(text)


def redact_optional(text: str | None) -> str | None:
    """`redact` for an optional text (None stays None)."""
    return None if text is None else _PROCESS.redact(text)


def secret_values(settings: BaseModel) -> list[str]:
    """Every secret value of a validated configuration: its `SecretStr` values wherever they
    are, the password of a URL among them (the state URL's), and the lines of the private key
    files it names (the key as a whole may reach a text with its line breaks escaped)."""
    values: list[str] = []
    for value in _walk(settings):
        if isinstance(value, SecretStr):
            secret = value.get_secret_value()
            values.append(secret)
            values.extend(_url_password(secret))
    for path in _key_files(settings):
        values.extend(_key_lines(path))
    return values


def _walk(node: Any) -> Iterable[Any]:
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from _walk(getattr(node, name))
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _walk(item)
    else:
        yield node


def _url_password(text: str) -> list[str]:
    try:
        password = urlsplit(text).password
    except ValueError:
        return []
    return [password, unquote(password)] if password else []


def _key_files(node: Any) -> Iterable[Path]:
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            value = getattr(node, name)
            if name == "private_key_file" and isinstance(value, Path):
                yield value
            else:
                yield from _key_files(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _key_files(item)


def _key_lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    lines = [line.strip() for line in text.splitlines()]
    body = [line for line in lines if len(line) >= _KEY_LINE and not line.startswith("-----")]
    return [text.strip(), *body] if body else []
