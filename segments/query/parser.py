"""Turns the lexer's tokens into the frozen tree of `segments.query.ast`.

Grammar (the lexer has already checked the shape of each `field:value`):

    query      := condition*
    condition  := FIELD COLON predicate
    predicate  := REGEX | OP scalar | "(" group ")" | scalar
    group      := range | list
    range      := OP scalar ("AND" OP scalar)*
    list       := scalar ("," scalar)*
    scalar     := WORD | STRING

The unquoted words `null`, `exists` and `missing` are keywords only where a whole value
stands; quoted, or inside brackets or after an operator, they are plain text. Field
names are not checked here: only the compiler knows which ones a resource has.
"""

from __future__ import annotations

from segments.query.ast import (
    OPS_BY_SYMBOL,
    Compare,
    Condition,
    Exists,
    In,
    IsNull,
    Missing,
    Predicate,
    Query,
    QuerySyntaxError,
    Range,
    Regex,
    Value,
)
from segments.query.lexer import Token, TokenKind, tokenize

_KEYWORDS: dict[str, type[IsNull | Exists | Missing]] = {
    "null": IsNull,
    "exists": Exists,
    "missing": Missing,
}
_SCALARS = (TokenKind.WORD, TokenKind.STRING)


def parse_query(
    text: str, *, max_length: int | None = None, max_conditions: int | None = None
) -> Query:
    """Parse a `q` string into a Query; raise QuerySyntaxError naming the problem and offset.

    With `max_length`, a longer text is refused before it is read; with `max_conditions`,
    reading stops at the condition past that many.
    """
    if max_length is not None and len(text) > max_length:
        raise QuerySyntaxError(
            f"Query longer than {max_length} characters (QUERY_MAX_LENGTH)", max_length
        )
    return _Parser(tokenize(text, max_conditions=max_conditions), len(text)).query()


class _Parser:
    def __init__(self, tokens: list[Token], length: int) -> None:
        self.tokens = tokens
        self.length = length
        self.i = 0

    def _next(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def _peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def query(self) -> Query:
        conditions: list[Condition] = []
        while self.i < len(self.tokens):
            field = self._next()
            self._next()  # the colon, which the lexer guarantees
            conditions.append(Condition(field.text, field.pos, self._predicate()))
        return Query(tuple(conditions))

    def _predicate(self) -> Predicate:
        token = self._next()
        if token.kind is TokenKind.REGEX:
            return Regex(token.text, token.pos)
        if token.kind is TokenKind.OP:
            return self._comparison(token)
        if token.kind is TokenKind.LPAREN:
            return self._group(token)
        if token.kind is TokenKind.WORD and token.text in _KEYWORDS:
            return _KEYWORDS[token.text](token.pos)
        return Compare("eq", _value(token), token.pos)

    def _comparison(self, op: Token, *, in_range: bool = False) -> Compare:
        value = self._peek()
        # In `(> AND <2)` the AND is a separator, not the value (quote it to mean the word).
        missing_in_range = in_range and value is not None and _is_and(value)
        if value is None or value.kind not in _SCALARS or missing_in_range:
            pos = value.pos if value is not None else self.length
            raise QuerySyntaxError(f"Empty value after '{op.text}'", pos)
        self.i += 1
        return Compare(OPS_BY_SYMBOL[op.text], _value(value), op.pos)

    def _group(self, lparen: Token) -> Range | In:
        first = self._next()
        self.i -= 1
        if first.kind is TokenKind.RPAREN:  # the lexer guarantees a closing bracket
            raise QuerySyntaxError("Empty brackets", lparen.pos)
        if first.kind is TokenKind.OP:
            return self._range(lparen)
        return self._list(lparen)

    def _range(self, lparen: Token) -> Range:
        parts: list[Compare] = []
        while True:
            op = self._next()
            if op.kind is not TokenKind.OP:
                raise QuerySyntaxError(
                    f"Expected a comparison operator, found {_describe(op)}", op.pos
                )
            parts.append(self._comparison(op, in_range=True))
            after = self._next()
            if after.kind is TokenKind.RPAREN:
                return Range(tuple(parts), lparen.pos)
            if _is_and(after):
                continue
            raise QuerySyntaxError(
                f"Expected 'AND' or ')', found {_describe(after)}",
                after.pos,
                hint="a range is written like (>=10 AND <=20)",
            )

    def _list(self, lparen: Token) -> In:
        values: list[Value] = []
        while True:
            token = self._next()
            if token.kind is TokenKind.OP:
                raise QuerySyntaxError(
                    f"Unexpected operator '{token.text}' in a list of values", token.pos
                )
            if token.kind not in _SCALARS:
                raise QuerySyntaxError("Empty value", token.pos)
            values.append(_value(token))
            after = self._next()
            if after.kind is TokenKind.RPAREN:
                return In(tuple(values), lparen.pos)
            if after.kind is not TokenKind.COMMA:
                raise QuerySyntaxError(f"Expected ',' or ')', found {_describe(after)}", after.pos)


def _value(token: Token) -> Value:
    return Value(token.text, token.kind is TokenKind.STRING, token.pos)


def _is_and(token: Token) -> bool:
    return token.kind is TokenKind.WORD and token.text.upper() == "AND"


def _describe(token: Token) -> str:
    if token.kind is TokenKind.STRING:
        return "a quoted value"
    return f"'{token.text}'"
