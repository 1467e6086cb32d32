"""``aqi-forecast train``: train every station from the store and register it."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from forecasting.cli_options import HomeOption, StationsOption
from forecasting.errors import ForecastingError

console = Console()
errors = Console(stderr=True)


def train(
    home: HomeOption = None,
    stations: StationsOption = None,
    end: Annotated[
        str | None,
        typer.Option(
            "--end", help="Last hour of data to train on, e.g. 2026-08-01T23:00+08:00."
        ),
    ] = None,
    alias: Annotated[
        str, typer.Option("--alias", help="Registry alias to set on the new version.")
    ] = "champion",
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1, help="Stations trained in parallel.")
    ] = 2,
    network: Annotated[
        bool,
        typer.Option(
            "--network",
            help="Experimental: add the 5 nearest stations' features (slower; the "
            "service reads one station's history, see README).",
        ),
    ] = False,
) -> None:
    """Train per-station LightGBM ensembles (horizons 1..12), log them to MLflow,
    register them and point ALIAS at the new version."""
    from features import FeatureSpec
    from forecasting.config import get_settings
    from forecasting.store import HourlyStore
    from training.train import run_training

    recipe = {"spec": FeatureSpec(network_k=5)} if network else {}
    settings = get_settings(home)
    try:
        if not settings.store_dir.exists():
            raise_missing(settings.store_dir)
        result = run_training(
            HourlyStore(settings.store_dir),
            stations=stations or None,
            end=end,
            alias=alias,
            n_jobs=jobs,
            settings=settings,
            **recipe,
        )
    except ForecastingError as exc:
        errors.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc

    first, last = result.span
    console.print(f"MLflow run [bold]{result.run_id}[/] ({settings.mlflow_uri})")
    console.print(
        f"registered {settings.registered_model} version {result.version}"
        f" as [bold]{alias}[/]"
    )
    console.print(
        f"data {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M}; "
        f"{len(result.bundle.stations)} stations trained, "
        f"{len(result.skipped)} skipped"
    )
    for site, why in result.skipped.items():
        console.print(f"  [yellow]skipped station {site}: {why}[/]")

    table = Table(title="validation MAE (network mean) beside persistence")
    for column in ("horizon", "model MAE", "persistence MAE", "skill"):
        table.add_column(column, justify="right")
    for horizon, row in result.horizon_table().iterrows():
        table.add_row(
            str(horizon),
            f"{row['val_mae']:.2f}",
            f"{row['persistence_mae']:.2f}",
            f"{row['skill']:+.1%}",
        )
    console.print(table)
    seconds = result.seconds
    console.print(
        f"features {seconds['features']:.1f} s, fit {seconds['fit']:.1f} s, "
        f"MLflow logging {seconds['mlflow']:.1f} s"
    )


def raise_missing(store_dir: object) -> None:
    """Raise the error for a home without a store."""
    from forecasting.errors import StoreError

    raise StoreError(
        f"no hourly store at {store_dir}; run `aqi-forecast ingest` (or "
        "`make run`) first, or pass --home"
    )
