"""Turns a `q` string into tokens that remember their character offsets.

The language is small but context-sensitive: after `field:` a value may contain colons
(`id:urn:x:1`, unquoted dates), and after `~` a regular expression may contain brackets
and spaces (`name.en:~(Golden Seg)`). So the lexer has modes — field, value, bracket
group, regex — and checks the shape of each condition as it goes; the parser then only
decides what a bracket group means (a range or a list of values).

Token kinds:
    FIELD   the dotted name before the colon            `metadata.createdAt`
    COLON   the separator after it                      `:`
    OP      a comparison operator                       `>` `<` `>=` `<=`
    WORD    an unquoted value (or AND inside brackets)  `ACTIVE` `2024-05-18T07:27:27Z`
    STRING  a double-quoted value, unescaped            `"a b"` → `a b`
    REGEX   a pattern after `~`, outer brackets removed `~(Golden Seg)` → `Golden Seg`
    LPAREN, RPAREN, COMMA inside `field:(...)`
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from segments.query.ast import QuerySyntaxError
from segments.query.limits import too_many_conditions


class TokenKind(StrEnum):
    """What a token is."""

    FIELD = "FIELD"
    COLON = "COLON"
    OP = "OP"
    WORD = "WORD"
    STRING = "STRING"
    REGEX = "REGEX"
    LPAREN = "LPAREN"
    RPAREN = "RPAREN"
    COMMA = "COMMA"


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind, its text (unescaped for strings) and its offset in the input."""

    kind: TokenKind
    text: str
    pos: int


OPERATORS = frozenset({">", "<", ">=", "<="})
_OPERATOR_CHARS = frozenset("<>=!")
# Characters that end an unquoted field name or value.
_DELIMITERS = frozenset(':(),"')
_VALUE_DELIMITERS = frozenset('(),"')


def tokenize(text: str, *, max_conditions: int | None = None) -> list[Token]:
    """Split `text` into tokens; raise QuerySyntaxError naming the first problem and its offset.

    With `max_conditions`, a condition past that many is refused where it starts.
    """
    return _Lexer(text, max_conditions).run()


class _Lexer:
    def __init__(self, text: str, max_conditions: int | None = None) -> None:
        self.text = text
        self.i = 0
        self.tokens: list[Token] = []
        self.max_conditions = max_conditions
        self.conditions = 0

    # --- helpers ---------------------------------------------------------------------------

    def _peek(self) -> str:
        return self.text[self.i] if self.i < len(self.text) else ""

    def _at_boundary(self) -> bool:
        return self.i >= len(self.text) or self.text[self.i].isspace()

    def _skip_space(self) -> None:
        while self.i < len(self.text) and self.text[self.i].isspace():
            self.i += 1

    def _emit(self, kind: TokenKind, text: str, pos: int) -> None:
        self.tokens.append(Token(kind, text, pos))

    def _unexpected(self, char: str, pos: int) -> QuerySyntaxError:
        if char == ")":
            return QuerySyntaxError("Unbalanced ')'", pos)
        if char == ",":
            return QuerySyntaxError(
                "Unexpected ','", pos, hint="several values go in brackets, e.g. id:(a,b)"
            )
        return QuerySyntaxError(f"Unexpected '{char}'", pos)

    def _read_run(self, stop: frozenset[str]) -> str:
        start = self.i
        while self.i < len(self.text):
            char = self.text[self.i]
            if char.isspace() or char in stop:
                break
            self.i += 1
        return self.text[start : self.i]

    # --- modes -----------------------------------------------------------------------------

    def run(self) -> list[Token]:
        while True:
            self._skip_space()
            if self.i >= len(self.text):
                return self.tokens
            if self.conditions == self.max_conditions:
                raise too_many_conditions(self.max_conditions, self.i)
            self.conditions += 1
            self._condition()

    def _condition(self) -> None:
        start = self.i
        char = self._peek()
        if char == ":":
            raise QuerySyntaxError("Missing field name before ':'", start)
        if char in _DELIMITERS:
            raise self._unexpected(char, start)
        name = self._read_run(_DELIMITERS)
        if self._peek() != ":":
            if name.upper() in {"AND", "OR", "NOT"}:
                raise QuerySyntaxError(
                    f"Unexpected '{name}'",
                    start,
                    hint="conditions are separated by spaces and must all hold",
                )
            raise QuerySyntaxError(f"Expected ':' after '{name}'", self.i)
        self._emit(TokenKind.FIELD, name, start)
        self._emit(TokenKind.COLON, ":", self.i)
        self.i += 1
        self._value(name)

    def _value(self, field: str) -> None:
        start = self.i
        char = self._peek()
        if self._at_boundary():
            raise QuerySyntaxError(f"Empty value for '{field}'", start)
        if char == "~":
            self.i += 1
            self._regex()
        elif char == "(":
            self._group()
        elif char in _OPERATOR_CHARS:
            self._operator()
            if self._at_boundary():
                raise QuerySyntaxError(f"Empty value after '{self.tokens[-1].text}'", self.i)
            if self._peek() in _VALUE_DELIMITERS and self._peek() != '"':
                raise self._unexpected(self._peek(), self.i)
            self._scalar(_VALUE_DELIMITERS)
        elif char in _VALUE_DELIMITERS and char != '"':
            raise self._unexpected(char, start)
        else:
            self._scalar(_VALUE_DELIMITERS)
        if not self._at_boundary():
            raise self._unexpected(self._peek(), self.i)

    def _operator(self) -> None:
        start = self.i
        while self._peek() and self._peek() in _OPERATOR_CHARS:
            self.i += 1
        op = self.text[start : self.i]
        if op not in OPERATORS:
            raise QuerySyntaxError(f"Unknown operator '{op}'", start, hint="use >, <, >= or <=")
        self._emit(TokenKind.OP, op, start)

    def _scalar(self, stop: frozenset[str]) -> None:
        """A quoted string or an unquoted word, at the current position."""
        start = self.i
        if self._peek() == '"':
            self._emit(TokenKind.STRING, self._string(), start)
        else:
            self._emit(TokenKind.WORD, self._read_run(stop), start)

    def _string(self) -> str:
        """Read a double-quoted string; only `\\"` and `\\\\` are escapes, so regexes survive."""
        start = self.i
        self.i += 1
        chars: list[str] = []
        while self.i < len(self.text):
            char = self.text[self.i]
            if char == "\\" and self.i + 1 < len(self.text) and self.text[self.i + 1] in '"\\':
                chars.append(self.text[self.i + 1])
                self.i += 2
            elif char == '"':
                self.i += 1
                return "".join(chars)
            else:
                chars.append(char)
                self.i += 1
        raise QuerySyntaxError("Unbalanced '\"'", start)

    def _group(self) -> None:
        """`(...)` after a colon: values, commas and operators up to the closing bracket."""
        open_pos = self.i
        self._emit(TokenKind.LPAREN, "(", open_pos)
        self.i += 1
        while True:
            self._skip_space()
            char = self._peek()
            pos = self.i
            if not char:
                raise QuerySyntaxError("Unbalanced '('", open_pos)
            if char == ")":
                self._emit(TokenKind.RPAREN, ")", pos)
                self.i += 1
                return
            if char == "(":
                raise QuerySyntaxError("Unexpected '('", pos, hint="brackets cannot be nested")
            if char == ",":
                self._emit(TokenKind.COMMA, ",", pos)
                self.i += 1
            elif char in _OPERATOR_CHARS:
                self._operator()
            else:
                self._scalar(_VALUE_DELIMITERS)

    def _regex(self) -> None:
        """The pattern after `~`: quoted, or raw up to a space outside brackets."""
        start = self.i
        if self._peek() == '"':
            pattern = self._string()
            self._emit(TokenKind.REGEX, pattern, start + 1)
            return
        if self._at_boundary():
            raise QuerySyntaxError("Empty regular expression", start)
        outer_close = self._scan_regex()
        pattern = self.text[start : self.i]
        # `~(Golden Seg)`: brackets around the whole pattern only allow the space in it.
        # (Not `(?:...)`, `(?=...)`...: those brackets are part of the pattern.)
        if pattern.startswith("(") and outer_close == self.i - 1 and pattern[1:2] != "?":
            pattern, start = pattern[1:-1], start + 1
            if not pattern:
                raise QuerySyntaxError("Empty regular expression", start)
        self._emit(TokenKind.REGEX, pattern, start)

    def _scan_regex(self) -> int | None:
        """Advance over a raw pattern; return where the bracket opened at its start closes."""
        start = self.i
        opened: list[int] = []
        outer_close: int | None = None
        in_class = False
        while self.i < len(self.text):
            char = self.text[self.i]
            if char == "\\":
                self.i += 2
                continue
            if in_class:
                in_class = char != "]"
            elif char == "[":
                in_class = True
                # `]` right after `[` or `[^` is a literal, not the end of the class.
                self.i += 2 if self.text[self.i + 1 : self.i + 2] == "^" else 1
                if self.text[self.i : self.i + 1] == "]":
                    self.i += 1
                continue
            elif char == "(":
                opened.append(self.i)
            elif char == ")":
                if not opened:
                    raise QuerySyntaxError("Unbalanced ')'", self.i)
                if opened.pop() == start:
                    outer_close = self.i
            elif char.isspace() and not opened:
                break
            self.i += 1
        if opened:
            raise QuerySyntaxError("Unbalanced '('", opened[0])
        self.i = min(self.i, len(self.text))
        return outer_close
