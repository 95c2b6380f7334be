"""The regex safety check: portable patterns pass, ones that can backtrack badly do not."""

from __future__ import annotations

import re
import time

import pytest

from segments.query.ast import QuerySyntaxError
from segments.query.regex import check_regex

ACCEPTED = [
    "AB12",
    "Golden Seg",
    "^Gold",
    "ment$",
    "^a.*b$",
    ".*foo.*bar.*",
    r"\d+-\w*",
    r"^\d{4}-\d{2}-\d{2}$",
    r"^[A-Z]+-\d+(-[a-z]+)?$",
    "(ab)+",
    "(?:ab){2,5}",
    "(a|b)*",  # a character class to the engine, not an alternation
    "gold|silver|bronze",
    "colou?r",
    "a{0,255}",
    "a*b*c*d",  # three variable quantifiers: the most allowed
    "^a*b*c*d?",  # four, anchored
    "a+?",
    "[]a]+",
    "[^]a]",
    r"[\d\s-]",
    r"\.\*\(\)",
    r"\\",
    "(?#a comment)x",
    "é+",
]


@pytest.mark.parametrize("pattern", ACCEPTED)
def test_accepts_portable_patterns(pattern):
    check_regex(pattern, 0)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("x" * 201, "Regular expression longer than 200 characters at position 7"),
        ("", "Empty regular expression at position 7"),
        *[
            (
                nested,
                "A repeated group may not contain a quantifier or an alternation at position 7 "
                "(nested quantifiers like (a+)+ can take forever to fail)",
            )
            for nested in [
                "(a+)+",
                "(a*)*",
                "(.*)*",
                "(a|aa)*",
                "(a|aa){2}",
                "(ab?)+",
                "(?:a+)+b",
                "x(y(a+))*",
                "(a{2})+",
                "((ab)+)+",
            ]
        ],
        ("(a)\\1", "Backreferences are not allowed in a regular expression at position 10"),
        ("(?P<n>a)(?P=n)", "Named groups are not allowed in a regular expression at position 7"),
        ("(?P=n)", "Invalid regular expression (unknown group name 'n') at position 11"),
        ("(a)(?(1)b|c)", "Backreferences are not allowed in a regular expression at position 7"),
        ("(?=a)b", "Lookarounds are not allowed in a regular expression at position 7"),
        ("(?!a)b", "Lookarounds are not allowed in a regular expression at position 7"),
        ("(?<=a)b", "Lookarounds are not allowed in a regular expression at position 7"),
        ("(?<!a)b", "Lookarounds are not allowed in a regular expression at position 7"),
        (
            "(?>a+)b",
            "Atomic groups and possessive quantifiers are not allowed in a regular expression "
            "at position 7",
        ),
        (
            "a++b",
            "Atomic groups and possessive quantifiers are not allowed in a regular expression "
            "at position 7",
        ),
        ("(?i)gold", "Inline flags are not allowed in a regular expression at position 7"),
        ("(?i:gold)", "Inline flags are not allowed in a regular expression at position 7"),
        ("(?x)a b", "Inline flags are not allowed in a regular expression at position 7"),
        ("(?P<name>a)", "Named groups are not allowed in a regular expression at position 7"),
        (r"\bgold", "Escape '\\b' is not allowed in a regular expression at position 7"),
        (r"x\Z", "Escape '\\Z' is not allowed in a regular expression at position 8"),
        (r"\x41", "Escape '\\x' is not allowed in a regular expression at position 7"),
        (r"\u00e9", "Escape '\\u' is not allowed in a regular expression at position 7"),
        (r"[\W]", "Escape '\\W' is not allowed in a regular expression at position 8"),
        (
            "[[:alpha:]]",
            "Unescaped '[' inside a character class at position 8 (write \\[)",
        ),
        (
            "[a--b]",
            "Ambiguous character class in a regular expression (possible set difference) "
            "at position 7",
        ),
        ("a{,5}", "Repetition '{,n}' is not portable at position 8 (write {0,n})"),
        ("a{256}", "Repetition counts above 255 are not allowed at position 7"),
        ("a{1,300}", "Repetition counts above 255 are not allowed at position 7"),
        (
            "a*a*a*a*c",
            "More than 3 variable quantifiers in a regular expression at position 7 "
            "(4 if it starts with ^)",
        ),
        (
            "^a*a*a*a*a*c",
            "More than 3 variable quantifiers in a regular expression at position 7 "
            "(4 if it starts with ^)",
        ),
        (
            "a?" * 10 + "a" * 10,
            "More than 3 variable quantifiers in a regular expression at position 7 "
            "(4 if it starts with ^)",
        ),
        ("(abc", "Invalid regular expression (missing ), unterminated subpattern) at position 7"),
        ("ab)", "Invalid regular expression (unbalanced parenthesis) at position 9"),
        ("a**", "Invalid regular expression (multiple repeat) at position 9"),
        ("*a", "Invalid regular expression (nothing to repeat) at position 7"),
        ("[abc", "Invalid regular expression (unterminated character set) at position 7"),
        ("\\", "Invalid regular expression (bad escape (end of pattern)) at position 7"),
    ],
)
def test_refuses_unsafe_or_unportable_patterns(pattern, message):
    with pytest.raises(QuerySyntaxError) as raised:
        check_regex(pattern, 7)
    assert raised.value.message == message


def test_accepted_patterns_fail_fast_on_hostile_input():
    # What an attacker would pair with a pattern: a long run that almost matches.
    hostile = "a" * 200 + "!"
    started = time.perf_counter()
    for pattern in [*ACCEPTED, "a*a*a*c", ".*a.*a.*c", "^a*a*a*a?c"]:
        check_regex(pattern, 0)
        re.search(pattern, hostile)
    assert time.perf_counter() - started < 2
