"""Localized values in requests and responses: see `segmentservice.formats` (SPEC §7)."""

from segmentservice.formats import (
    LocalizedInput,
    accept_languages,
    content_language,
    localize,
    localized_input,
)

__all__ = ["LocalizedInput", "accept_languages", "content_language", "localize", "localized_input"]
