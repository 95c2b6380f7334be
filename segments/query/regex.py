"""Decides whether a `field:~pattern` regular expression is safe and portable.

Django's `__regex` lookup runs PostgreSQL's `~` operator there, and Python's `re` on
SQLite (registered as its REGEXP function, inside this process). A backtracking engine
like Python's can be made to run for hours by a pattern such as `(a+)+b`, so only
patterns without that shape are accepted:

- at most 200 characters;
- no backreferences, lookarounds, atomic groups or possessive quantifiers;
- no group or sub-expression that can repeat (`*`, `+`, `{2,}`, `{3}`...) and itself
  contains a quantifier or an alternation: `(a+)+`, `(a|aa)*`, `(.*)*` are refused
  (`(-\\d+)?` is fine: it matches at most once);
- at most `MAX_VARIABLE_QUANTIFIERS` (3) quantifiers of variable length, one more when
  anchored with `^`: even flat patterns like `a*a*a*a*c` take polynomial time of a high
  degree in Python's engine (four seconds per 200-character value for that one);
- repetition counts of at most 255 (PostgreSQL's limit).

What remains is kept to what both engines read the same way: no inline flags or named
groups; escapes only for punctuation and `\\d \\w \\s \\D \\W \\S \\n \\t \\r \\f \\v` (and
not `\\D \\W \\S` inside brackets, which PostgreSQL refuses); no `[` inside a character
class (PostgreSQL's `[[:alpha:]]` means something else to Python); no `{,n}`.
"""

from __future__ import annotations

import re
import warnings

# The standard library's own regex parser (`sre_parse` before 3.11): it gives the exact
# tree Python will run, which is what can backtrack. Private: tests/test_private_apis.py pins it.
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

from segments.query.ast import QuerySyntaxError

MAX_PATTERN_LENGTH = 200
MAX_VARIABLE_QUANTIFIERS = 3
MAX_REPEAT_COUNT = 255

_ESCAPES = frozenset("dDwWsSntrfv")
_ESCAPES_IN_CLASS = frozenset("dwsntrfv")
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT)


def check_regex(pattern: str, position: int) -> None:
    """Raise QuerySyntaxError unless `pattern` is short, portable and cannot backtrack badly."""
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
    # Anchored at the start, the engine tries one starting point instead of every one.
    anchored = bool(parsed.data) and parsed.data[0] == (sre.AT, sre.AT_BEGINNING)
    if _walk(parsed, position) > MAX_VARIABLE_QUANTIFIERS + anchored:
        raise QuerySyntaxError(
            f"More than {MAX_VARIABLE_QUANTIFIERS} variable quantifiers in a regular expression",
            position,
            hint=f"{MAX_VARIABLE_QUANTIFIERS + 1} if it starts with ^",
        )


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
        i += 1


def _walk(items: sre_parse.SubPattern | list[Any], position: int) -> int:
    """Check every node below `items`; return how many variable quantifiers there are."""
    variable = 0
    for op, av in items:
        if op in _REPEATS:
            low, high, body = av
            if max(low, 0 if high == sre.MAXREPEAT else high) > MAX_REPEAT_COUNT:
                raise QuerySyntaxError(
                    f"Repetition counts above {MAX_REPEAT_COUNT} are not allowed", position
                )
            if high != low:
                variable += 1
            if (high == sre.MAXREPEAT or high > 1) and _repeats_or_branches(body):
                raise QuerySyntaxError(
                    "A repeated group may not contain a quantifier or an alternation",
                    position,
                    hint="nested quantifiers like (a+)+ can take forever to fail",
                )
            variable += _walk(body, position)
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
            variable += _walk(body, position)
        elif op is sre.BRANCH:
            variable += sum(_walk(branch, position) for branch in av[1])
    return variable


def _repeats_or_branches(items: sre_parse.SubPattern | list[Any]) -> bool:
    """Whether anything below `items` is a quantifier or an alternation."""
    for op, av in items:
        if op in _REPEATS or op in (sre.POSSESSIVE_REPEAT, sre.BRANCH):
            return True
        if op is sre.SUBPATTERN and _repeats_or_branches(av[3]):
            return True
        if op is sre.ATOMIC_GROUP and _repeats_or_branches(av):
            return True
    return False
