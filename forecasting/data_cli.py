"""Data commands: ``ingest`` files, ``fetch`` the live API, list ``stations``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from forecasting.cli_options import HomeOption, err_console, out_console
from forecasting.errors import ForecastingError

if TYPE_CHECKING:
    from forecasting.store import IngestSummary

#: Rejections listed one by one before the rest are only counted.
SHOWN_REJECTIONS = 50


def _consoles() -> tuple[Console, Console]:
    """Return (stdout, stderr) consoles, made per command so COLUMNS is honoured."""
    return out_console(), err_console()


def _store(home: Path | None):
    from forecasting.config import get_settings
    from forecasting.store import HourlyStore

    return HourlyStore(get_settings(home).store_dir)


def _names() -> dict[str, str]:
    from forecasting.stations import bundled_registry

    registry = bundled_registry()
    return dict(zip(registry["site_id"], registry["name_zh"], strict=True))


def print_summaries(summaries: Sequence[IngestSummary]) -> None:
    """Print the per-station table, the refused files and the rejections."""
    console, errors = _consoles()
    from forecasting.store import StationCounts

    per_station: dict[str, StationCounts] = {}
    for summary in summaries:
        for site_id, counts in summary.stations.items():
            per_station.setdefault(site_id, StationCounts())
            per_station[site_id] += counts
    names = _names()
    table = Table(title="ingest summary per station")
    table.add_column("station")
    table.add_column("name")
    for name in ("added", "replaced", "unchanged", "flagged", "rejected"):
        table.add_column(name, justify="right")
    total = StationCounts()
    order = sorted(per_station, key=lambda s: (not s.isdigit(), s.zfill(6)))
    for site_id in order:
        counts = per_station[site_id]
        total += counts
        table.add_row(
            site_id,
            names.get(site_id, ""),
            *(
                f"{getattr(counts, n):,}"
                for n in ("added", "replaced", "unchanged", "flagged", "rejected")
            ),
        )
    table.add_section()
    table.add_row(
        "total",
        f"{len(per_station)} stations",
        *(
            f"{getattr(total, n):,}"
            for n in ("added", "replaced", "unchanged", "flagged", "rejected")
        ),
        style="bold",
    )
    if per_station:
        console.print(table)

    refused = [summary for summary in summaries if not summary.ok]
    ok = len(summaries) - len(refused)
    console.print(f"{ok} of {len(summaries)} files stored; {len(refused)} refused")
    for summary in refused:
        errors.print(f"[red]refused[/red] {summary.error}", highlight=False)

    rejections = [r for summary in summaries for r in summary.rejections]
    for rejection in rejections[:SHOWN_REJECTIONS]:
        console.print(f"[yellow]rejected[/yellow] {rejection}", highlight=False)
    if len(rejections) > SHOWN_REJECTIONS:
        console.print(f"... and {len(rejections) - SHOWN_REJECTIONS} more rejections")


def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Files or folders of MOENV data (any supported layout); folders "
            "are read recursively, skipping *.md and hidden files.",
            show_default=False,
        ),
    ] = None,
    home: HomeOption = None,
    sample_data: Annotated[
        bool,
        typer.Option("--sample-data", help="Also ingest the bundled real data."),
    ] = False,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")
    ] = True,
) -> None:
    """Read MOENV files into the hourly store; summary per station.

    Exit code 0 when every file was stored, 2 when any file was refused (its
    rows are then not stored at all; the other files are).
    """
    from forecasting.ingest import ingest_paths, sample_data_files

    _, errors = _consoles()
    chosen = list(paths or [])
    if sample_data:
        chosen += sample_data_files()
    if not chosen:
        errors.print("[red]give at least one PATH, or --sample-data[/red]")
        raise typer.Exit(code=2)
    try:
        store = _store(home)
        summaries = ingest_paths(chosen, store, progress=progress)
    except ForecastingError as exc:
        errors.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(code=2) from None
    print_summaries(summaries)
    if any(not summary.ok for summary in summaries):
        raise typer.Exit(code=2)


def fetch(
    home: HomeOption = None,
    dataset: Annotated[
        str,
        typer.Option(
            help="MOENV dataset id: aqx_p_432 (real-time AQI) or a per-station "
            "hourly dataset such as aqx_p_189."
        ),
    ] = "aqx_p_432",
    base_url: Annotated[
        str | None,
        typer.Option(help="API root (default: $AQI_MOENV_BASE_URL or MOENV's)."),
    ] = None,
    limit: Annotated[int, typer.Option(help="Records per request.")] = 1000,
    max_records: Annotated[
        int | None, typer.Option(help="Stop after this many records.")
    ] = None,
) -> None:
    """Pull the latest records from MOENV's API into the store.

    Needs a key in the environment variable AQI_MOENV_API_KEY.
    """
    import pandas as pd

    from forecasting.moenv_client import fetch_records

    console, errors = _consoles()
    from forecasting.readers import read_aqx_p_432_records, read_station_hourly_records

    try:
        store = _store(home)
        records = fetch_records(
            dataset, limit=limit, max_records=max_records, base_url=base_url
        )
        stamp = pd.Timestamp.now(tz="Asia/Taipei").strftime("%Y-%m-%dT%H:%M")
        source = f"moenv-api:{dataset}@{stamp}"
        reader = (
            read_aqx_p_432_records
            if dataset.lower() == "aqx_p_432"
            else read_station_hourly_records
        )
        result = reader(records, source)
        summary = store.ingest(result, label=source)
    except ForecastingError as exc:
        errors.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(code=2) from None
    console.print(f"fetched {len(records):,} records of {dataset}")
    print_summaries([summary])


def stations(home: HomeOption = None) -> None:
    """List the stations: ids, names, county, position, hours in the store."""
    import pandas as pd

    console, errors = _consoles()

    try:
        store = _store(home)
        registry = store.registry()
        spans = store.time_spans().set_index("site_id")
    except ForecastingError as exc:
        errors.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(code=2) from None

    table = Table(title=f"stations ({len(registry)}; store {store.root})")
    for name in ("id", "Chinese", "English", "county", "lat", "lon"):
        table.add_column(name, justify="right" if name in ("lat", "lon") else "left")
    for name in ("first hour", "last hour", "hours"):
        table.add_column(name, justify="right")
    for row in registry.itertuples(index=False):
        span = spans.loc[row.site_id] if row.site_id in spans.index else None

        def text(value: object, pattern: str = "{}") -> str:
            return "" if value is None or pd.isna(value) else pattern.format(value)

        table.add_row(
            row.site_id,
            text(row.name_zh),
            text(row.name_en),
            text(row.county),
            text(row.latitude, "{:.4f}"),
            text(row.longitude, "{:.4f}"),
            "" if span is None else f"{span['first']:%Y-%m-%d %H:%M}",
            "" if span is None else f"{span['last']:%Y-%m-%d %H:%M}",
            "" if span is None else f"{span['rows']:,}",
        )
    console.print(table)
