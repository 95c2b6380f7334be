"""The segments app: segments, their customer and item assignments, and referenced records."""

from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    """Configuration of the segments app."""

    name = "segments"
    verbose_name = "Customer segments"

    def ready(self) -> None:
        """Install the index-friendly JSON path lookup, RE2 as SQLite's REGEXP, and the C
        parser for PostgreSQL's timestamps."""
        from segments.lookups import lookups_register, sqlite_regexp_register
        from segmentservice.db import timestamp_loader_register

        lookups_register()
        sqlite_regexp_register()
        timestamp_loader_register()
