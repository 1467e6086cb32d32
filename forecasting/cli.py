"""The ``aqi-forecast`` command line.

Each command is a thin shell around one stage's public function; the work and
its checks live in the stage, so notebooks and the service call the same code.
Stages are imported inside the commands so that ``--help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forecasting.config import get_settings

app = typer.Typer(
    help="Forecast Taiwan's hourly AQI from MOENV data: ingest, train, serve.",
    no_args_is_help=True,
    add_completion=False,
)

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="Folder of the hourly store (default: $AQI_HOME or var/)."),
]
StationsOption = Annotated[
    list[str] | None,
    typer.Option("--stations", "-s", help="Station ids (MOENV siteid); repeat for more."),
]


def main() -> None:
    """Entry point used by ``python -m forecasting``."""
    app()
