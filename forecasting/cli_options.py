"""Options shared by the commands of every stage, so they read the same everywhere."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home", help="Folder of the hourly store (default: $AQI_HOME or var/)."
    ),
]
StationsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--stations", "-s", help="Station id (MOENV siteid); repeat for more."
    ),
]


def out_console() -> Console:
    """Console for results: tables keep their width when piped (not cut to 80)."""
    return Console(width=None if sys.stdout.isatty() else 160, soft_wrap=True)


def err_console() -> Console:
    """Console for messages on stderr: one message stays one line when piped."""
    return Console(stderr=True, soft_wrap=True)
