"""A parser for the SOQL subset the sandbox understands.

    SELECT field, Parent.field, (SELECT ... FROM ChildRelationship ...), COUNT()
    FROM Object
    [WHERE condition]          AND / OR / NOT, parentheses; = != <> < <= > >=; IN / NOT IN
                               (lists or a semi-join `IN (SELECT Id FROM X ...)`); LIKE;
                               string, number, true/false, null, date and datetime literals,
                               date literals such as TODAY and LAST_N_DAYS:30
    [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST], ...]
    [LIMIT n] [OFFSET n]

As in Salesforce, AND and OR cannot be mixed at one level without parentheses, datetime
literals are unquoted (`2026-01-31T10:00:00Z`), and keywords are case-insensitive. Anything else
raises `SoqlError("MALFORMED_QUERY", ...)` with a message shaped like Salesforce's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

KEYWORDS = frozenset(
    {
        "SELECT",
        "FROM",
        "WHERE",
        "AND",
        "OR",
        "NOT",
        "IN",
        "LIKE",
        "ORDER",
        "BY",
        "ASC",
        "DESC",
        "NULLS",
        "FIRST",
        "LAST",
        "LIMIT",
        "OFFSET",
        "TRUE",
        "FALSE",
        "NULL",
        "INCLUDES",
        "EXCLUDES",
        "GROUP",
        "HAVING",
        "WITH",
        "FOR",
        "TYPEOF",
        "USING",
    }
)

#: Relative date literals and how many days (or units) they reach back or forward.
DATE_LITERALS = frozenset(
    {
        "TODAY",
        "YESTERDAY",
        "TOMORROW",
        "LAST_WEEK",
        "THIS_WEEK",
        "LAST_MONTH",
        "THIS_MONTH",
        "LAST_90_DAYS",
        "THIS_YEAR",
        "LAST_YEAR",
    }
)
DATE_N_LITERALS = frozenset({"LAST_N_DAYS", "NEXT_N_DAYS", "N_DAYS_AGO", "LAST_N_MONTHS"})

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2})
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),:])
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    """,
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "'": "'", '"': '"', "\\": "\\"}


class SoqlError(Exception):
    """A query Salesforce would refuse: `code` is its errorCode, `message` its message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Token:
    """One lexical token and its 1-based column."""

    kind: str
    text: str
    column: int

    @property
    def upper(self) -> str:
        """The token text in upper case (keywords compare this way)."""
        return self.text.upper()


@dataclass(frozen=True)
class FieldRef:
    """A field path such as `Email` or `Account.Industry`, with its column for messages."""

    path: tuple[str, ...]
    column: int

    @property
    def text(self) -> str:
        """The path as written."""
        return ".".join(self.path)


@dataclass(frozen=True)
class Literal:
    """A value: kind is string, number, boolean, null, datetime, date or dateliteral."""

    kind: str
    value: Any


@dataclass
class Compare:
    """`field op value`."""

    field: FieldRef
    op: str
    value: Literal


@dataclass
class InList:
    """`field [NOT] IN (values)` or a semi-join `field [NOT] IN (SELECT Id FROM ...)`."""

    field: FieldRef
    values: list[Literal]
    negate: bool = False
    subquery: Query | None = None


@dataclass
class Like:
    """`field LIKE 'pattern'` with `%` and `_` wildcards."""

    field: FieldRef
    pattern: str


@dataclass
class Junction:
    """`AND` or `OR` of conditions."""

    op: str
    items: list[Condition]


@dataclass
class Negation:
    """`NOT condition`."""

    item: Condition


Condition = Compare | InList | Like | Junction | Negation


@dataclass
class OrderKey:
    """One `ORDER BY` key."""

    field: FieldRef
    descending: bool = False
    nulls_last: bool = False


@dataclass
class SubQuery:
    """A parent-to-child subquery in the select list."""

    relationship: str
    query: Query


@dataclass
class Query:
    """A parsed SELECT statement."""

    sobject: str
    fields: list[FieldRef] = field(default_factory=list)
    subqueries: list[SubQuery] = field(default_factory=list)
    count_only: bool = False
    where: Condition | None = None
    order: list[OrderKey] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None
    text: str = ""


def tokenize(text: str) -> list[Token]:
    """Split a query into tokens; unknown characters are a MALFORMED_QUERY."""
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{text[position]}'")
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, match.group(), position + 1))
        position = match.end()
    return tokens


def _unquote(text: str) -> str:
    body = text[1:-1]
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            nxt = body[index + 1]
            if nxt not in _ESCAPES and nxt not in "%_":
                raise SoqlError(
                    "MALFORMED_QUERY",
                    f"Invalid string literal '{text}'. Illegal character sequence '\\{nxt}' "
                    "in string literal.",
                )
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    def peek(self, offset: int = 0) -> Token | None:
        position = self.index + offset
        return self.tokens[position] if position < len(self.tokens) else None

    def next(self) -> Token:
        token = self.peek()
        if token is None:
            raise SoqlError("MALFORMED_QUERY", "unexpected end of query")
        self.index += 1
        return token

    def at_keyword(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "ident" and token.upper in words

    def expect_keyword(self, word: str) -> Token:
        token = self.next()
        if token.kind != "ident" or token.upper != word:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{token.text}'")
        return token

    def expect(self, text: str) -> Token:
        token = self.next()
        if token.text != text:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{token.text}'")
        return token

    # SELECT ... FROM ...
    def query(self, *, nested: bool = False) -> Query:  # noqa: PLR0912  one branch per SOQL clause
        self.expect_keyword("SELECT")
        fields: list[FieldRef] = []
        subqueries: list[SubQuery] = []
        count_only = False
        while True:
            token = self.peek()
            if token is not None and token.text == "(" and not nested:
                self.next()
                inner = self.query(nested=True)
                self.expect(")")
                subqueries.append(SubQuery(inner.sobject, inner))
            elif self.at_keyword("COUNT") and (self.peek(1) or Token("", "", 0)).text == "(":
                self.next()
                self.expect("(")
                self.expect(")")
                count_only = True
            else:
                fields.append(self.field_ref())
            token = self.peek()
            if token is not None and token.text == ",":
                self.next()
                continue
            break
        self.expect_keyword("FROM")
        source = self.next()
        if source.kind != "ident" or source.upper in KEYWORDS:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{source.text}'")
        query = Query(source.text, fields, subqueries, count_only, text=self.text)
        if count_only and (fields or subqueries):
            raise SoqlError("MALFORMED_QUERY", "COUNT() cannot be combined with other fields")
        if self.at_keyword("WHERE"):
            self.next()
            query.where = self.condition()
        if self.at_keyword("ORDER"):
            self.next()
            self.expect_keyword("BY")
            query.order = self.order_keys()
        if self.at_keyword("LIMIT"):
            self.next()
            query.limit = self.integer()
        if self.at_keyword("OFFSET"):
            self.next()
            query.offset = self.integer()
            if query.offset > 2000:
                raise SoqlError("NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed is 2000")
        token = self.peek()
        if token is not None and not (nested and token.text == ")"):
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{token.text}'")
        return query

    def integer(self) -> int:
        token = self.next()
        if token.kind != "number" or not token.text.isdigit():
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{token.text}'")
        return int(token.text)

    def field_ref(self) -> FieldRef:
        token = self.next()
        if token.kind != "ident" or token.upper in KEYWORDS:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{token.text}'")
        return FieldRef(tuple(token.text.split(".")), token.column)

    def order_keys(self) -> list[OrderKey]:
        keys: list[OrderKey] = []
        while True:
            key = OrderKey(self.field_ref())
            if self.at_keyword("ASC", "DESC"):
                key.descending = self.next().upper == "DESC"
            if self.at_keyword("NULLS"):
                self.next()
                word = self.next()
                if word.upper not in ("FIRST", "LAST"):
                    raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{word.text}'")
                key.nulls_last = word.upper == "LAST"
            keys.append(key)
            token = self.peek()
            if token is None or token.text != ",":
                return keys
            self.next()

    # WHERE ...
    def condition(self) -> Condition:
        first = self.unary()
        if not self.at_keyword("AND", "OR"):
            return first
        op = (self.peek() or Token("", "", 0)).upper
        items = [first]
        while self.at_keyword("AND", "OR"):
            token = self.next()
            if token.upper != op:
                raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{token.text}'")
            items.append(self.unary())
        return Junction(op, items)

    def unary(self) -> Condition:
        if self.at_keyword("NOT"):
            self.next()
            return Negation(self.unary())
        token = self.peek()
        if token is not None and token.text == "(":
            self.next()
            inner = self.condition()
            self.expect(")")
            return inner
        return self.predicate()

    def predicate(self) -> Condition:
        ref = self.field_ref()
        if self.at_keyword("LIKE"):
            self.next()
            value = self.literal()
            if value.kind != "string":
                raise SoqlError("MALFORMED_QUERY", "LIKE needs a quoted string")
            return Like(ref, value.value)
        negate = False
        if self.at_keyword("NOT"):
            self.next()
            negate = True
            if not self.at_keyword("IN"):
                raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{self.next().text}'")
        if self.at_keyword("IN"):
            self.next()
            self.expect("(")
            if self.at_keyword("SELECT"):
                inner = self.query(nested=True)
                self.expect(")")
                return InList(ref, [], negate, inner)
            values = [self.literal()]
            while (self.peek() or Token("", "", 0)).text == ",":
                self.next()
                values.append(self.literal())
            self.expect(")")
            return InList(ref, values, negate)
        token = self.next()
        if token.kind != "op":
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{token.text}'")
        op = "!=" if token.text == "<>" else token.text
        return Compare(ref, op, self.literal())

    def literal(self) -> Literal:
        token = self.next()
        if token.kind == "string":
            return Literal("string", _unquote(token.text))
        if token.kind == "number":
            return Literal("number", float(token.text))
        if token.kind == "datetime":
            if "." in token.text:
                # Salesforce documents only whole seconds in datetime literals.
                raise SoqlError(
                    "MALFORMED_QUERY",
                    f"line 1:{token.column} no viable alternative at character '.'",
                )
            return Literal("datetime", token.text)
        if token.kind == "date":
            return Literal("date", token.text)
        if token.kind == "ident":
            word = token.upper
            if word in ("TRUE", "FALSE"):
                return Literal("boolean", word == "TRUE")
            if word == "NULL":
                return Literal("null", None)
            if word in DATE_LITERALS:
                return Literal("dateliteral", (word, 0))
            if word in DATE_N_LITERALS:
                self.expect(":")
                return Literal("dateliteral", (word, self.integer()))
        raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{token.text}'")


def parse(text: str) -> Query:
    """Parse one SOQL statement."""
    if not text.strip():
        raise SoqlError("MALFORMED_QUERY", "empty query")
    return _Parser(text).query()
