"""Just enough SOQL for the Salesforce sandbox, parsed strictly.

    SELECT <field>[, <field>...] FROM <object>
    [WHERE <field> <op> <literal> [AND <field> <op> <literal>...]]
    [ORDER BY <field> [ASC|DESC][, <field> [ASC|DESC]...]]
    [LIMIT <n>]

`op` is one of = != <> < <= > >=; a literal is an unquoted ISO datetime
(2026-01-05T09:00:00Z, +01:00 or .000 allowed), a 'quoted string', a number,
true, false or null. Keywords are case-insensitive and field names are
matched without case, as Salesforce does. Anything else (OR, parentheses,
IN, LIKE, date literals such as LAST_N_DAYS:7, subqueries, OFFSET) is a
MALFORMED_QUERY: a client relying on it should fail here before production.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

_DATETIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2})"
_TOKEN = re.compile(rf"\s*(?:(?P<datetime>{_DATETIME})|(?P<string>'(?:[^'\\]|\\.)*')"
                    r"|(?P<number>-?\d+(?:\.\d+)?)|(?P<op><=|>=|!=|<>|=|<|>)|(?P<comma>,)"
                    r"|(?P<word>[A-Za-z_][A-Za-z0-9_.]*)|(?P<other>\S))")
OPERATORS = frozenset({"=", "!=", "<>", "<", "<=", ">", ">="})


class SoqlError(ValueError):
    """A query Salesforce would refuse; `code` is its errorCode."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any  # int (epoch ms) for datetimes, str, float, bool or None


@dataclass(frozen=True)
class Query:
    sobject: str
    fields: tuple[str, ...]
    where: tuple[Condition, ...]
    order: tuple[tuple[str, bool], ...]  # (field, descending)
    limit: int | None


def datetime_ms(text: str) -> int:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return int(moment.timestamp() * 1000)


@dataclass
class _Token:
    kind: str
    text: str
    column: int


def _tokens(soql: str) -> list[_Token]:
    found, at = [], 0
    while at < len(soql):
        matched = _TOKEN.match(soql, at)
        if matched is None or matched.lastgroup is None:
            break  # only whitespace remains
        found.append(_Token(matched.lastgroup, matched.group(matched.lastgroup),
                            matched.start(matched.lastgroup)))
        at = matched.end()
    return found


class _Parser:
    def __init__(self, soql: str, schemas: Mapping[str, Mapping[str, str]]) -> None:
        self.soql, self.schemas = soql, schemas
        self.tokens, self.at = _tokens(soql), 0
        self.schema: Mapping[str, str] = {}
        self.sobject = ""

    def fail(self, token: _Token | None = None) -> SoqlError:
        token = token or (self.tokens[self.at] if self.at < len(self.tokens) else None)
        column = token.column if token else len(self.soql)
        what = f"unexpected token: '{token.text}'" if token else "unexpected end of query"
        return SoqlError("MALFORMED_QUERY", f"\n{self.soql}\n{' ' * column}^\n"
                         f"ERROR at Row:1:Column:{column + 1}\n{what}")

    def peek_word(self, *words: str) -> bool:
        token = self.tokens[self.at] if self.at < len(self.tokens) else None
        return token is not None and token.kind == "word" and token.text.upper() in words

    def take(self, kind: str, word: str | None = None) -> _Token:
        token = self.tokens[self.at] if self.at < len(self.tokens) else None
        if token is None or token.kind != kind or (word and token.text.upper() != word):
            raise self.fail()
        self.at += 1
        return token

    def field(self) -> str:
        token = self.take("word")
        canonical = self.schema.get(token.text.lower())
        if canonical is None:
            raise SoqlError("INVALID_FIELD", f"\n{self.soql}\n{' ' * token.column}^\nERROR at "
                            f"Row:1:Column:{token.column + 1}\nNo such column '{token.text}' on "
                            f"entity '{self.sobject}'. If you are attempting to use a custom "
                            "field, be sure to append the '__c' after the custom field name.")
        return canonical

    def literal(self, field: str) -> Any:
        token = self.tokens[self.at] if self.at < len(self.tokens) else None
        if token is None:
            raise self.fail()
        self.at += 1
        if token.kind == "word" and token.text.lower() not in ("true", "false", "null"):
            raise self.fail(token)  # a date literal (TODAY, LAST_N_DAYS:7) or a field
        kind = self.schemas[self.sobject][field]
        if token.text.lower() != "null" and (kind == "datetime") != (token.kind == "datetime"):
            wanted = "dateTime and should not" if kind == "datetime" else f"{kind} and should"
            raise SoqlError("INVALID_FIELD", f"value of filter criterion for field '{field}' "
                            f"must be of type {wanted} be enclosed in quotes")
        if token.kind == "datetime":
            return datetime_ms(token.text)
        if token.kind == "string":
            return re.sub(r"\\(.)", r"\1", token.text[1:-1])
        if token.kind == "number":
            return float(token.text)
        if token.kind == "word":
            return {"true": True, "false": False, "null": None}[token.text.lower()]
        raise self.fail(token)

    def parse(self) -> Query:
        self.take("word", "SELECT")
        start = self.at
        while self.at < len(self.tokens) and not self.peek_word("FROM"):
            self.at += 1
        names_end = self.at
        if names_end == start:
            raise self.fail()
        self.take("word", "FROM")
        sobject = self.take("word")
        known = {name.lower(): name for name in self.schemas}
        if sobject.text.lower() not in known:
            raise SoqlError("INVALID_TYPE", f"\n{self.soql}\n{' ' * sobject.column}^\nERROR at "
                            f"Row:1:Column:{sobject.column + 1}\nsObject type '{sobject.text}' "
                            "is not supported.")
        self.sobject = known[sobject.text.lower()]
        self.schema = {name.lower(): name for name in self.schemas[self.sobject]}
        after_from, self.at = self.at, start
        fields = [self.field()]
        while self.at < names_end:
            self.take("comma")
            if self.at == names_end:  # "SELECT Id, FROM": a comma with no field after it
                raise self.fail()
            fields.append(self.field())
        self.at = after_from
        where = []
        if self.peek_word("WHERE"):
            self.at += 1
            while True:
                field = self.field()
                op = self.take("op").text
                where.append(Condition(field, "!=" if op == "<>" else op, self.literal(field)))
                if not self.peek_word("AND"):
                    break
                self.at += 1
        order = []
        if self.peek_word("ORDER"):
            self.at += 1
            self.take("word", "BY")
            while True:
                field = self.field()
                descending = self.peek_word("DESC")
                if self.peek_word("ASC", "DESC"):
                    self.at += 1
                order.append((field, descending))
                if self.at >= len(self.tokens) or self.tokens[self.at].kind != "comma":
                    break
                self.at += 1
        limit = None
        if self.peek_word("LIMIT"):
            self.at += 1
            token = self.take("number")
            if not token.text.isdigit():
                raise self.fail(token)
            limit = int(token.text)
        if self.at < len(self.tokens):
            raise self.fail()
        return Query(self.sobject, tuple(dict.fromkeys(fields)), tuple(where), tuple(order), limit)


def parse(soql: str, schemas: Mapping[str, Mapping[str, str]]) -> Query:
    """The query, or SoqlError (MALFORMED_QUERY, INVALID_TYPE, INVALID_FIELD).

    `schemas` maps each object name to its fields and their types ("id",
    "string", "boolean", "datetime", "picklist"); relationship fields such as
    Account.Name are listed under their dotted name.
    """
    return _Parser(soql, schemas).parse()
