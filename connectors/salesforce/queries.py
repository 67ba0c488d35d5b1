"""SOQL text built from parts: literals, select lists, subqueries and id filters.

One place builds every query the connector sends (record reads, activity reads, setup), so a
reader of another object (accounts with their contacts) composes the same way:

    select("Account", ["Id", "Name"], where=[id_filter("Id", ids)], order="Id")
    subquery(["Id", "Email"], "Contacts", where="Email != null", order="Id")
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

__all__ = [
    "MAX_PARENT_RELATIONSHIPS",
    "id_filter",
    "quote",
    "select",
    "soql_datetime",
    "subquery",
]

#: Parent relationships one field path may climb: SOQL allows "no more than five levels" in a
#: child-to-parent path, the queried object being the first (`Contact.Account.Owner.FirstName`
#: is three levels), so `A.B.C.D.Field` is the deepest name a model may read.
MAX_PARENT_RELATIONSHIPS = 4


def soql_datetime(moment: datetime) -> str:
    """A SOQL datetime literal in whole seconds (Salesforce stores no milliseconds)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def quote(text: str) -> str:
    """A SOQL string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def id_filter(field: str, ids: Iterable[str]) -> str:
    """`field IN ('a', 'b')`."""
    return f"{field} IN ({', '.join(quote(i) for i in ids)})"


def _columns(columns: Iterable[str]) -> str:
    seen: dict[str, str] = {}
    for name in columns:
        seen.setdefault(name.lower(), name)  # SOQL refuses a field selected twice
    return ", ".join(seen.values())


def _where(filters: Sequence[str]) -> str:
    kept = [f for f in filters if f]
    return f" WHERE {' AND '.join(kept)}" if kept else ""


def select(sobject: str, columns: Iterable[str], *, where: Sequence[str] = (), order: str) -> str:
    """`SELECT columns FROM sobject [WHERE f1 AND f2 ...] ORDER BY order` (empty filters dropped).

    Filters holding `OR` must come parenthesized.
    """
    return f"SELECT {_columns(columns)} FROM {sobject}{_where(where)} ORDER BY {order}"


def subquery(columns: Iterable[str], relationship: str, *, where: str, order: str) -> str:
    """A child-relationship subquery for a select list: `(SELECT ... FROM Tasks ...)`."""
    return f"(SELECT {_columns(columns)} FROM {relationship}{_where([where])} ORDER BY {order})"
