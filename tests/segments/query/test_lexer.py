"""The lexer: tokens with their offsets, and errors that say what and where."""

from __future__ import annotations

import pytest

from segments.query.ast import QuerySyntaxError
from segments.query.lexer import tokenize


def kinds(text: str) -> list[tuple[str, str, int]]:
    return [(token.kind.value, token.text, token.pos) for token in tokenize(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("   ", []),
        (
            "status:ACTIVE",
            [("FIELD", "status", 0), ("COLON", ":", 6), ("WORD", "ACTIVE", 7)],
        ),
        (
            "  a:1   b:2 ",
            [
                ("FIELD", "a", 2),
                ("COLON", ":", 3),
                ("WORD", "1", 4),
                ("FIELD", "b", 8),
                ("COLON", ":", 9),
                ("WORD", "2", 10),
            ],
        ),
        # Colons are part of an unquoted value: ids, unquoted dates.
        ("id:urn:x:1", [("FIELD", "id", 0), ("COLON", ":", 2), ("WORD", "urn:x:1", 3)]),
        (
            "mixins.a.b:>=2024-05-18T07:27:27Z",
            [
                ("FIELD", "mixins.a.b", 0),
                ("COLON", ":", 10),
                ("OP", ">=", 11),
                ("WORD", "2024-05-18T07:27:27Z", 13),
            ],
        ),
        ("a:<5", [("FIELD", "a", 0), ("COLON", ":", 1), ("OP", "<", 2), ("WORD", "5", 3)]),
        ('a:"x y"', [("FIELD", "a", 0), ("COLON", ":", 1), ("STRING", "x y", 2)]),
        ('a:""', [("FIELD", "a", 0), ("COLON", ":", 1), ("STRING", "", 2)]),
        # Only \" and \\ are escapes; other backslashes stay, so regexes survive quoting.
        (
            r'a:"say \"hi\" \\ \d"',
            [("FIELD", "a", 0), ("COLON", ":", 1), ("STRING", r'say "hi" \ \d', 2)],
        ),
        (
            'a:>"2024-05-18"',
            [("FIELD", "a", 0), ("COLON", ":", 1), ("OP", ">", 2), ("STRING", "2024-05-18", 3)],
        ),
        (
            'id:(a, b,"c d")',
            [
                ("FIELD", "id", 0),
                ("COLON", ":", 2),
                ("LPAREN", "(", 3),
                ("WORD", "a", 4),
                ("COMMA", ",", 5),
                ("WORD", "b", 7),
                ("COMMA", ",", 8),
                ("STRING", "c d", 9),
                ("RPAREN", ")", 14),
            ],
        ),
        (
            "v:(>=10 AND <=20)",
            [
                ("FIELD", "v", 0),
                ("COLON", ":", 1),
                ("LPAREN", "(", 2),
                ("OP", ">=", 3),
                ("WORD", "10", 5),
                ("WORD", "AND", 8),
                ("OP", "<=", 12),
                ("WORD", "20", 14),
                ("RPAREN", ")", 16),
            ],
        ),
        ("code:~AB12", [("FIELD", "code", 0), ("COLON", ":", 4), ("REGEX", "AB12", 6)]),
        # Brackets around the whole pattern only carry its spaces; they are dropped.
        (
            "name.en:~(Golden Seg)",
            [("FIELD", "name.en", 0), ("COLON", ":", 7), ("REGEX", "Golden Seg", 10)],
        ),
        # Brackets that are part of the pattern stay, spaces inside them included.
        ("a:~(x y)+z", [("FIELD", "a", 0), ("COLON", ":", 1), ("REGEX", "(x y)+z", 3)]),
        ("a:~(a)(b)", [("FIELD", "a", 0), ("COLON", ":", 1), ("REGEX", "(a)(b)", 3)]),
        ("a:~(?:a b)", [("FIELD", "a", 0), ("COLON", ":", 1), ("REGEX", "(?:a b)", 3)]),
        ("a:~^(a|b)$", [("FIELD", "a", 0), ("COLON", ":", 1), ("REGEX", "^(a|b)$", 3)]),
        # Escaped brackets, and brackets or spaces in a character class, do not count.
        (
            r"a:~\(x b:1",
            [
                ("FIELD", "a", 0),
                ("COLON", ":", 1),
                ("REGEX", r"\(x", 3),
                ("FIELD", "b", 7),
                ("COLON", ":", 8),
                ("WORD", "1", 9),
            ],
        ),
        ("a:~[ )(]x", [("FIELD", "a", 0), ("COLON", ":", 1), ("REGEX", "[ )(]x", 3)]),
        ("a:~[]) ]", [("FIELD", "a", 0), ("COLON", ":", 1), ("REGEX", "[]) ]", 3)]),
        ('a:~"x y"', [("FIELD", "a", 0), ("COLON", ":", 1), ("REGEX", "x y", 4)]),
        ("a:null", [("FIELD", "a", 0), ("COLON", ":", 1), ("WORD", "null", 2)]),
    ],
)
def test_tokens_carry_kind_text_and_offset(text, expected):
    assert kinds(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("status", "Expected ':' after 'status' at position 6"),
        ("a:1 b", "Expected ':' after 'b' at position 5"),
        ("a(b):1", "Expected ':' after 'a' at position 1"),
        (":x", "Missing field name before ':' at position 0"),
        ("a:1 :x", "Missing field name before ':' at position 4"),
        ("(a:1)", "Unexpected '(' at position 0"),
        (")", "Unbalanced ')' at position 0"),
        (
            "a:1 OR b:2",
            "Unexpected 'OR' at position 4 (conditions are separated by spaces and must all hold)",
        ),
        ("a:", "Empty value for 'a' at position 2"),
        ("a: b:1", "Empty value for 'a' at position 2"),
        ("a:>", "Empty value after '>' at position 3"),
        ("a:>= 5", "Empty value after '>=' at position 4"),
        ("a:=5", "Unknown operator '=' at position 2 (use >, <, >= or <=)"),
        ("a:=>5", "Unknown operator '=>' at position 2 (use >, <, >= or <=)"),
        ("a:!=5", "Unknown operator '!=' at position 2 (use >, <, >= or <=)"),
        ("a:>>5", "Unknown operator '>>' at position 2 (use >, <, >= or <=)"),
        ("a:(>>5)", "Unknown operator '>>' at position 3 (use >, <, >= or <=)"),
        ("a:>(1)", "Unexpected '(' at position 3"),
        ("a:b)", "Unbalanced ')' at position 3"),
        ("a:b(c)", "Unexpected '(' at position 3"),
        ("a:b,c", "Unexpected ',' at position 3 (several values go in brackets, e.g. id:(a,b))"),
        ('a:b"c"', "Unexpected '\"' at position 3"),
        ('a:"b"c', "Unexpected 'c' at position 5"),
        ('a:"abc', "Unbalanced '\"' at position 2"),
        ('a:(x,"abc)', "Unbalanced '\"' at position 5"),
        ('a:"ab\\"', "Unbalanced '\"' at position 2"),
        ("a:(x,y", "Unbalanced '(' at position 2"),
        ("a:(", "Unbalanced '(' at position 2"),
        ("a:(x,(y))", "Unexpected '(' at position 5 (brackets cannot be nested)"),
        ("a:(x))", "Unbalanced ')' at position 5"),
        ("a:~", "Empty regular expression at position 3"),
        ("a:~ b:1", "Empty regular expression at position 3"),
        ("a:~()", "Empty regular expression at position 4"),
        ("a:~(Golden Seg", "Unbalanced '(' at position 3"),
        ("a:~x(y(z)", "Unbalanced '(' at position 4"),
        ("a:~x)", "Unbalanced ')' at position 4"),
        ('a:~"x', "Unbalanced '\"' at position 3"),
    ],
)
def test_errors_name_the_problem_and_its_position(text, message):
    with pytest.raises(QuerySyntaxError) as raised:
        tokenize(text)
    assert raised.value.message == message
    assert str(raised.value) == message


def test_error_keeps_position_and_problem_apart():
    with pytest.raises(QuerySyntaxError) as raised:
        tokenize("a:1 b:(x")
    assert (raised.value.problem, raised.value.position) == ("Unbalanced '('", 6)
