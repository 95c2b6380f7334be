"""The regex check (valid, portable patterns pass) and RE2, which runs them on SQLite."""

from __future__ import annotations

import re
import time

import pytest

from segments.query.ast import QuerySyntaxError
from segments.query.regex import check_regex, re2_pattern, search

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
    "a*b*c*d",
    "^a*b*c*d?",
    # Patterns that make a backtracking engine take forever to fail; RE2 does not backtrack.
    "a*a*a*a*c",
    "^a*a*a*a*a*c",
    "a?" * 10 + "a" * 10,
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
    "a+?",
    "[]a]+",
    "[^]a]",
    r"[\d\s-]",
    r"\.\*\(\)",
    r"\\",
    "é+",
    # A brace that begins no count is text to both.
    "a{x}",
    "{a",
    "a{",
    "a{}",
    r"a\{0",
]


@pytest.mark.parametrize("pattern", ACCEPTED)
def test_accepts_portable_patterns(pattern):
    check_regex(pattern, 0)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("x" * 201, "Regular expression longer than 200 characters at position 7"),
        ("", "Empty regular expression at position 7"),
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
        *(
            (
                p,
                f"Unescaped '{{' before a digit that does not begin a repetition count at position {7 + p.index('{')} (write \\{{)",
            )
            for p in ("{0", "a{0", "a{1,2", "a{1,x}", "x{9")
        ),
        ("a{256}", "Repetition counts above 255 are not allowed at position 7"),
        ("a{1,300}", "Repetition counts above 255 are not allowed at position 7"),
        ("a{99999999999}", "Repetition counts above 255 are not allowed at position 7"),
        ("a{1,99999999999}", "Repetition counts above 255 are not allowed at position 7"),
        ("(?#a comment)x", "Invalid regular expression (invalid perl operator: (?#) at position 7"),
        (
            "((a{1,200}){1,200})",
            "Invalid regular expression (invalid repetition size: {1,200}) at position 7",
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
    hostile = "a" * 100_000 + "!"
    started = time.perf_counter()
    for pattern in [*ACCEPTED, "a*a*a*c", ".*a.*a.*c", "^a*a*a*a?c", "(x+x+)+y"]:
        check_regex(pattern, 0)
        search(pattern, hostile)
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("b", "abc", True),
        ("^b", "abc", False),
        ("x", None, None),
        (None, "x", None),
        ("^1", 15, True),  # numbers out of a JSON path are matched as text
        ("^1.5$", 1.5, True),
    ],
)
def test_search_is_sqlite_regexp(pattern, value, expected):
    assert search(pattern, value) is expected


@pytest.mark.parametrize(
    ("pattern", "translated"),
    [
        ("ab", "ab"),
        (r"\d+", r"[\p{Nd}]+"),
        (r"\D", r"[^\p{Nd}]"),
        (r"\w\W", r"[\p{L}\p{N}_][^\p{L}\p{N}_]"),
        (r"[\d\s-]", r"[\p{Nd}\t\n\v\f\r \x{1c}-\x{1f}\x{85}\p{Z}-]"),
        (r"[^]\w]", r"[^]\p{L}\p{N}_]"),
        (r"\\d", r"\\d"),
        (r"\.\*", r"\.\*"),
        ("\\«", "«"),
    ],
)
def test_re2_pattern_gives_the_classes_their_unicode_meaning(pattern, translated):
    assert re2_pattern(pattern) == translated


@pytest.mark.parametrize(
    "sample", ["abc", "٣", "١٢٣", "x_y", "Größé", "a\u00a0b", "a\u2028b", "\x1c", "a\x85", "\t"]
)
@pytest.mark.parametrize(
    "pattern", [r"\d", r"^\d+$", r"\w", r"^\w+$", r"\s", r"\S", r"\D", r"\W", r"[\w\s]+$"]
)
def test_re2_reads_the_classes_as_python_does(pattern, sample):
    assert search(pattern, sample) == bool(re.search(pattern, sample))
