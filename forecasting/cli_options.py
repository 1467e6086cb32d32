"""Options shared by the commands of every stage, so they read the same everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
