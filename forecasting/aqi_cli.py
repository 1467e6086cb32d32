"""The ``aqi-forecast aqi`` command: the official AQI of stored hours, as a CSV."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from forecasting.cli_options import HomeOption, StationsOption, err_console
from forecasting.errors import ForecastingError, ValidationError

if TYPE_CHECKING:
    import pandas as pd

    from forecasting.store import HourlyStore

logger = logging.getLogger(__name__)

#: Hourly items the AQI needs from the store.
HOURLY_ITEMS = ["pm2_5", "pm10", "o3", "co", "so2", "no2"]
#: History read before ``--start`` so that the longest window (SO2, 24 h) is whole.
WARM_UP_HOURS = 24

#: Columns of the CSV, in order.
CSV_COLUMNS = [
    "site_id",
    "time",
    "aqi",
    "pollutant",
    "status",
    "status_en",
    "color",
    "pm2_5_avg",
    "pm10_avg",
    "o3_8hr",
    "co_8hr",
    "so2_avg",
    "si_pm2_5",
    "si_pm10",
    "si_o3_8hr",
    "si_o3",
    "si_co",
    "si_so2",
    "si_no2",
]
#: Columns holding whole numbers, written without a decimal point.
_WHOLE = ["aqi", "pm10_avg", "o3_8hr", "so2_avg"] + CSV_COLUMNS[12:]

StartOption = Annotated[
    str | None,
    typer.Option(
        "--start", help="First hour (hour ending, Asia/Taipei), e.g. 2026-08-01T01:00."
    ),
]
EndOption = Annotated[
    str | None,
    typer.Option("--end", help="Last hour (hour ending, Asia/Taipei), inclusive."),
]


def _hour(text: str | None, option: str) -> pd.Timestamp | None:
    """Parse an optional hour given on the command line; naive means Asia/Taipei."""
    from forecasting.hours import parse_hour

    return None if text is None else parse_hour(text, option)


def aqi_table(
    store: HourlyStore,
    stations: list[str] | None = None,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Compute the official AQI of the stored station-hours in a range.

    Reads :data:`WARM_UP_HOURS` before ``start`` so the moving values at ``start``
    see their whole windows, then keeps the hours from ``start`` to ``end``.

    Returns
    -------
    pandas.DataFrame
        The output of :func:`forecasting.aqi.compute_aqi` for every stored
        station-hour in the range, sorted by ``site_id`` and ``time``.

    Raises
    ------
    StoreError
        When the store holds no station at all.
    UnknownStationError
        When a requested station has no data in the store.
    ValidationError
        When ``start`` is after ``end``.
    """
    import pandas as pd

    from forecasting.aqi import compute_aqi
    from forecasting.errors import StoreError, UnknownStationError

    known = store.station_ids()
    if not known:
        raise StoreError(
            f"the store at {store.root} holds no data; load some first with "
            "`aqi-forecast ingest PATH...` (or `aqi-forecast run` for the bundled data)"
        )
    unknown = sorted(set(stations or []) - set(known))
    if unknown:
        raise UnknownStationError(
            f"--stations {', '.join(unknown)}: no data in the store at {store.root}; "
            f"stored stations are {', '.join(sorted(known, key=_numeric_first))}"
        )
    if start is not None and end is not None and start > end:
        raise ValidationError(
            f"--start {start} is after --end {end}; swap them or widen the range"
        )

    read_from = None if start is None else start - pd.Timedelta(hours=WARM_UP_HOURS)
    hourly = store.read(stations or None, read_from, end, columns=HOURLY_ITEMS)
    result = compute_aqi(hourly)
    if start is not None:
        result = result.loc[result["time"] >= start]
    return result.reset_index(drop=True)


def _numeric_first(site_id: str) -> tuple[int, str]:
    return (int(site_id), "") if site_id.isdigit() else (10**9, site_id)


def write_aqi_csv(table: pd.DataFrame, out: Path) -> None:
    """Write an AQI table as CSV (:data:`CSV_COLUMNS`), replacing ``out`` whole.

    The file is written beside ``out`` and renamed over it, so a failure never
    leaves a half-written file. ``time`` is ISO 8601 with its offset
    (``2026-08-01T13:00:00+08:00``).

    Raises
    ------
    OSError
        When the folder of ``out`` cannot be written.
    """
    frame = table.loc[:, CSV_COLUMNS].copy()
    stamps = frame["time"].dt.strftime("%Y-%m-%dT%H:%M:%S%z")
    frame["time"] = stamps.str[:-2] + ":" + stamps.str[-2:]
    for column in _WHOLE:
        frame[column] = frame[column].round().astype("Int64")

    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            frame.to_csv(stream, index=False)
        # mkstemp makes the file private; give it the mode a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def aqi(
    out: Annotated[
        Path, typer.Option("--out", help="CSV file to write (replaced if it exists).")
    ],
    home: HomeOption = None,
    stations: StationsOption = None,
    start: StartOption = None,
    end: EndOption = None,
) -> None:
    """Write the official MOENV AQI of every stored station-hour to a CSV file.

    Columns: site_id, time (ISO 8601, +08:00), aqi, pollutant, status, status_en,
    color, the moving values and every sub-index. Blank aqi means no AQI.
    """

    from forecasting.config import get_settings
    from forecasting.store import HourlyStore

    console = err_console()
    try:
        settings = get_settings(home)
        store = HourlyStore(settings.store_dir)
        table = aqi_table(store, stations, _hour(start, "--start"), _hour(end, "--end"))
        write_aqi_csv(table, out)
    except ForecastingError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(code=2) from None
    except OSError as exc:
        console.print(f"[red]cannot write {out}: {exc.strerror or exc}[/red]")
        raise typer.Exit(code=2) from None

    if table.empty:
        console.print(f"[yellow]no stored hours in that range; wrote {out}[/yellow]")
        return
    with_aqi = int(table["aqi"].notna().sum())
    console.print(
        f"wrote {len(table):,} station-hours ({table['site_id'].nunique()} stations, "
        f"{table['time'].min():%Y-%m-%d %H:%M} to {table['time'].max():%Y-%m-%d %H:%M}"
        f", {with_aqi:,} with an AQI) to {out}"
    )
