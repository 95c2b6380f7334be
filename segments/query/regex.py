"""Decides whether a `field:~pattern` regular expression is valid and portable, and runs it.

Django's `__regex` lookup runs PostgreSQL's `~` operator there, and SQLite's REGEXP
function elsewhere, which Django implements with Python's backtracking `re`: a pattern
such as `a*a*a*c` took a minute against a long name there. So on SQLite, `search` is
registered as REGEXP instead (see `segments.lookups`): it runs the pattern in RE2, whose
time is linear in the text whatever the pattern. PostgreSQL answers a `~` match with
its own automaton, also without backtracking (patterns with backreferences would
backtrack, and are refused), and its statement timeout bounds any query.

A pattern is accepted when:

- it has at most 200 characters;
- Python's parser reads it (so the message names the problem and its place) and RE2
  compiles it (RE2 refuses what cannot run in linear time, and programs past its
  memory budget);
- it has no backreferences, lookarounds, atomic groups or possessive quantifiers, and
  no repetition count above 255 (PostgreSQL's limit).

What remains is kept to what both engines read the same way: no inline flags, named
groups or comments; escapes only for punctuation and `\\d \\w \\s \\D \\W \\S \\n \\t \\r \\f \\v`
(and not `\\D \\W \\S` inside brackets, which PostgreSQL refuses); no `[` inside a
character class (PostgreSQL's `[[:alpha:]]` means something else to Python); no `{,n}`,
and no `{` before a digit but as a whole count (`a{0` is text to Python, an unfinished
count to PostgreSQL).
On SQLite, `\\d \\w \\s` keep the Unicode meaning Python's `re` gives them (RE2's own are
ASCII only), so a pattern matches there what it matched before RE2.
"""

from __future__ import annotations

import functools
import re
import warnings

# The standard library's own regex parser (`sre_parse` before 3.11): its tree says what
# the pattern asks for, with positions for the messages. Private: tests/test_private_apis.py
# pins it.
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import re2

from segments.query.ast import QuerySyntaxError

MAX_PATTERN_LENGTH = 200
MAX_REPEAT_COUNT = 255

_ESCAPES = frozenset("dDwWsSntrfv")
_DIGITS = frozenset("0123456789")
# A whole repetition count: {m}, {m,} or {m,n}.
_BOUND = re.compile(r"\{[0-9]+(?:,[0-9]*)?\}")
_ESCAPES_IN_CLASS = frozenset("dwsntrfv")
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT)
# Python's Unicode classes, written for RE2 (inside brackets): \d is a decimal digit, \w
# a letter, a number or `_`, \s whatever str.isspace() calls a space.
_UNICODE_CLASSES = {
    "d": r"\p{Nd}",
    "w": r"\p{L}\p{N}_",
    "s": r"\t\n\v\f\r \x{1c}-\x{1f}\x{85}\p{Z}",
}


def check_regex(pattern: str, position: int) -> None:
    """Raise QuerySyntaxError unless `pattern` is short, valid and portable."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise QuerySyntaxError(
            f"Regular expression longer than {MAX_PATTERN_LENGTH} characters", position
        )
    if not pattern:
        raise QuerySyntaxError("Empty regular expression", position)
    _check_text(pattern, position)
    try:
        with warnings.catch_warnings():
            # Python warns about sets it may read differently in future ("[[", "--", "&&").
            warnings.simplefilter("error", FutureWarning)
            parsed = sre_parse.parse(pattern)
    except re.error as exc:
        raise QuerySyntaxError(
            f"Invalid regular expression ({exc.msg})", position + (exc.pos or 0)
        ) from None
    except OverflowError:
        # Python's parser refuses counts past its own limit (about four billion) this way.
        raise _too_many_repeats(position) from None
    except FutureWarning as exc:
        # e.g. "Possible set difference at position 2": keep the what, report our own where.
        what = re.sub(r" at position \d+$", "", str(exc)).lower()
        raise QuerySyntaxError(
            f"Ambiguous character class in a regular expression ({what})", position
        ) from None
    if parsed.state.flags & ~sre.SRE_FLAG_UNICODE:
        raise QuerySyntaxError("Inline flags are not allowed in a regular expression", position)
    if parsed.state.groupdict:
        raise QuerySyntaxError("Named groups are not allowed in a regular expression", position)
    _walk(parsed, position)
    try:
        _compiled(pattern)
    except re2.error as exc:
        problem = exc.args[0].decode() if isinstance(exc.args[0], bytes) else str(exc)
        raise QuerySyntaxError(f"Invalid regular expression ({problem})", position) from None


def search(pattern: str | None, value: object) -> bool | None:
    """Whether `pattern` occurs in `value`, in RE2: SQLite's REGEXP (`value REGEXP pattern`).

    Like Django's own REGEXP, NULL gives NULL and other values are matched as text.
    """
    if pattern is None or value is None:
        return None
    return _compiled(pattern).search(value if isinstance(value, str) else str(value)) is not None


def re2_pattern(pattern: str) -> str:
    """`pattern` in RE2's syntax, with Python's Unicode `\\d \\w \\s` (and their negations)."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            escaped = pattern[i + 1]
            body = _UNICODE_CLASSES.get(escaped.lower())
            if body is not None:
                if in_class:
                    out.append(body)  # \D \W \S are refused inside brackets
                else:
                    out.append(f"[{body}]" if escaped.islower() else f"[^{body}]")
            elif not escaped.isascii():
                out.append(escaped)  # Python reads \« as «; RE2 refuses the escape
            else:
                out.append(char + escaped)
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            # `]` right after `[` or `[^` is a literal, not the end of the class.
            end = i + (2 if pattern[i + 1 : i + 2] == "^" else 1)
            if pattern[end : end + 1] == "]":
                end += 1
            out.append(pattern[i:end])
            i = end
            continue
        out.append(char)
        i += 1
    return "".join(out)


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re2._Regexp:
    options = re2.Options()
    options.log_errors = False  # a refused pattern is the caller's error, not a log line
    return re2.compile(re2_pattern(pattern), options)


def _too_many_repeats(position: int) -> QuerySyntaxError:
    return QuerySyntaxError(f"Repetition counts above {MAX_REPEAT_COUNT} are not allowed", position)


def _check_text(pattern: str, position: int) -> None:
    """Refuse escapes and bracket forms the two engines read differently."""
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            escaped = pattern[i + 1]
            allowed = _ESCAPES_IN_CLASS if in_class else _ESCAPES
            if escaped.isalnum() and escaped not in allowed:
                problem = (
                    "Backreferences are not allowed in a regular expression"
                    if escaped.isdigit() and escaped != "0"
                    else f"Escape '\\{escaped}' is not allowed in a regular expression"
                )
                raise QuerySyntaxError(problem, position + i)
            i += 2
            continue
        if in_class:
            if char == "[":
                raise QuerySyntaxError(
                    "Unescaped '[' inside a character class", position + i, hint="write \\["
                )
            in_class = char != "]"
        elif char == "[":
            in_class = True
            # `]` right after `[` or `[^` is a literal, not the end of the class.
            i += 2 if pattern[i + 1 : i + 2] == "^" else 1
            if pattern[i : i + 1] == "]":
                i += 1
            continue
        elif char == "{" and pattern[i + 1 : i + 2] == ",":
            raise QuerySyntaxError(
                "Repetition '{,n}' is not portable", position + i, hint="write {0,n}"
            )
        elif char == "{" and pattern[i + 1 : i + 2] in _DIGITS and not _BOUND.match(pattern, i):
            # Python reads `a{0` as text; PostgreSQL reads a count it cannot finish.
            raise QuerySyntaxError(
                "Unescaped '{' before a digit that does not begin a repetition count",
                position + i,
                hint="write \\{",
            )
        i += 1


def _walk(items: sre_parse.SubPattern | list[Any], position: int) -> None:
    """Check every node below `items` for what the two engines do not share."""
    for op, av in items:
        if op in _REPEATS:
            low, high, body = av
            if max(low, 0 if high == sre.MAXREPEAT else high) > MAX_REPEAT_COUNT:
                raise _too_many_repeats(position)
            _walk(body, position)
        elif op in (sre.POSSESSIVE_REPEAT, sre.ATOMIC_GROUP):
            raise QuerySyntaxError(
                "Atomic groups and possessive quantifiers are not allowed in a regular expression",
                position,
            )
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            raise QuerySyntaxError("Lookarounds are not allowed in a regular expression", position)
        elif op in (sre.GROUPREF, sre.GROUPREF_EXISTS):
            raise QuerySyntaxError(
                "Backreferences are not allowed in a regular expression", position
            )
        elif op is sre.SUBPATTERN:
            _group, add_flags, del_flags, body = av
            if add_flags or del_flags:
                raise QuerySyntaxError(
                    "Inline flags are not allowed in a regular expression", position
                )
            _walk(body, position)
        elif op is sre.BRANCH:
            for branch in av[1]:
                _walk(branch, position)
