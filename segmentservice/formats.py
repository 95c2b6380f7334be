"""Wire formats every layer shares: instants, localized texts, storable text.

Instants are ISO 8601, UTC, milliseconds, `Z` (2024-05-14T12:00:00.000Z).

Localized values are maps language → text, negotiated on the way in and out (SPEC §7).
Writes: `Content-Language: de` with a plain string stores `{"de": ...}`; `*` or a map
stores the map; a plain string without the header goes to the tenant's default language.
A language the tenant does not allow is refused.
Reads: `Accept-Language` absent or `*` returns maps; a list such as
`fr-CH, fr;q=0.9, en;q=0.8` returns plain strings in the best available language,
falling back along the list, then to the tenant's default language.

Plain functions over plain values: the API, the event payloads, the exports, the importers
and the admin use them alike, so this module imports nothing of theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.utils.dateparse import parse_datetime

from segmentservice.exceptions import ValidationFailed

# --- instants ------------------------------------------------------------------------------------


def format_instant(value: datetime | None) -> str | None:
    """Render an aware datetime as `YYYY-MM-DDTHH:MM:SS.mmmZ` in UTC."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    # Not strftime: its %Y gives "107" for the year 107, which is no ISO 8601 date.
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T"
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond // 1000:03d}Z"
    )


def parse_instant(text: Any) -> datetime | None:
    """An aware UTC datetime from an ISO 8601 string (naive is taken as UTC); None if it is not one."""
    if not isinstance(text, str):
        return None
    try:
        value = parse_datetime(text)
    except ValueError:
        return None
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# --- text a database can store -------------------------------------------------------------------


def unstorable_text(value: Any) -> str | None:
    """What in a decoded JSON value no database column can hold, if anything.

    JSON may spell a NUL character (\\u0000) or a lone UTF-16 surrogate (\\ud800), but
    PostgreSQL stores neither and no text encoding can carry a surrogate: refused here,
    they are a 400 rather than a database error.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                return "a NUL character (\\u0000), which no field accepts"
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "a lone UTF-16 surrogate escape, which is not a character"
    return None


# --- localized values ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalizedInput:
    """A localized value from a request: the texts, and whether it names one language only."""

    values: dict[str, str]
    single_language: bool


def accept_languages(header: str | None) -> list[str] | None:
    """The client's languages, best first; None when it wants whole maps.

    Each tag is followed by its primary subtag (`fr-CH` → `fr-CH`, `fr`) so a
    regional preference falls back to the plain language.
    """
    if not header or not header.strip():
        return None
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, *params = (piece.strip() for piece in part.split(";"))
        if not tag:
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            weighted.append((-quality, position, tag))
    tags = [tag for _, _, tag in sorted(weighted)]
    if not tags or tags == ["*"]:
        return None
    ordered: list[str] = []
    for tag in tags:
        if tag == "*":
            continue
        for candidate in (tag, tag.split("-")[0]):
            if candidate not in ordered:
                ordered.append(candidate)
    return ordered or None


def localize(values: dict[str, str] | None, languages: list[str] | None, default: str) -> Any:
    """The map itself when `languages` is None, else the best text for `languages`."""
    if languages is None:
        return values or {}
    if not values:
        return None
    lowered = {key.lower(): text for key, text in values.items()}
    for language in [*languages, default]:
        if language in values:
            return values[language]
        if language.lower() in lowered:
            return lowered[language.lower()]
    return values[sorted(values)[0]]


def content_language(header: str | None) -> str | None:
    """The single language a request body is written in; None for absent or `*`."""
    if header is None:
        return None
    value = header.strip()
    if not value or value == "*":
        return None
    if "," in value:
        raise ValidationFailed(
            f"Content-Language {value!r} names several languages; send one, or '*' with maps."
        )
    return value


def localized_input(
    value: Any, *, field: str, language: str | None, allowed: list[str], default: str
) -> LocalizedInput:
    """Check and normalize one localized input value.

    `language` is the request's Content-Language (see `content_language`).
    """
    if isinstance(value, str):
        target = language or default
        _check_allowed([target], field=field, allowed=allowed)
        return LocalizedInput(values={target: value}, single_language=True)
    if isinstance(value, dict):
        bad_values = [key for key, text in value.items() if not isinstance(text, str)]
        if bad_values:
            raise ValidationFailed(
                f"{field}: the values for {', '.join(map(str, bad_values))} must be strings."
            )
        _check_allowed(list(value), field=field, allowed=allowed)
        return LocalizedInput(values=dict(value), single_language=False)
    raise ValidationFailed(f"{field}: expected a string or a map of language to text.")


def _check_allowed(languages: list[str], *, field: str, allowed: list[str]) -> None:
    unknown = [lang for lang in languages if lang not in allowed]
    if unknown:
        raise ValidationFailed(
            f"{field}: language(s) {', '.join(unknown)} not allowed for this tenant; "
            f"allowed: {', '.join(allowed)}."
        )
