"""Progress bars for management commands that can run long (on stderr, so stdout stays data)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm


def add_progress_argument(parser: CommandParser) -> None:
    """`--no-progress`: for scripts that want quiet stderr (verbosity 0 also hides it)."""
    parser.add_argument(
        "--no-progress", action="store_true", help="Do not show a progress bar on stderr."
    )


def progress_bar(command: BaseCommand, options: dict[str, Any], *, total: int | None, unit: str):
    """A tqdm bar on stderr, or a disabled one when asked for quiet."""
    disabled = options.get("no_progress") or options.get("verbosity", 1) == 0
    stream = getattr(command.stderr, "_out", sys.stderr)
    return tqdm(
        total=total,
        unit=f" {unit}",
        file=stream,
        disable=disabled,
        mininterval=0.5,
        dynamic_ncols=True,
        leave=False,
    )
