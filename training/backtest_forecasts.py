"""Forecasts of a bundle at many issue hours, for backtests.

``ForecastBundle.forecast`` takes a list of issue hours and forecasts them all
from one feature build (features for hour t read only rows at or before t). The
backtest calls it one day of issue hours at a time, giving it only the rows from
``history_hours`` before the day's first issue hour to its last: the progress bar
moves, memory stays flat, and no forecast is even handed a row after its chunk.
"""

from __future__ import annotations

import logging

import pandas as pd

logger = logging.getLogger(__name__)

#: Issue hours per call of ``ForecastBundle.forecast``.
CHUNK_HOURS = 24


def _progress(enabled: bool):
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]backtest[/bold] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=not enabled,
    )


def forecast_issue_hours(
    bundle,
    hourly: pd.DataFrame,
    issue_hours: pd.DatetimeIndex,
    progress: bool = True,
    chunk_hours: int = CHUNK_HOURS,
) -> pd.DataFrame:
    """Return the bundle's forecasts at every issue hour, each from data <= it.

    Parameters
    ----------
    bundle:
        A :class:`training.bundle.ForecastBundle`.
    hourly:
        Hourly frame of the stations, possibly running past the last issue hour.
    issue_hours:
        The hours to issue forecasts at, ascending.
    progress:
        Show a progress bar of issue hours.
    chunk_hours:
        Issue hours per call of the bundle.

    Returns
    -------
    pandas.DataFrame
        The bundle's forecast rows for all issue hours, concatenated (empty with
        no columns when nothing could be forecast).

    Raises
    ------
    ValidationError
        From ``ForecastBundle.forecast`` for a malformed history.
    """
    lead = pd.Timedelta(hours=int(bundle.history_hours) + 1)
    hourly = hourly.sort_values(["time", "site_id"], kind="stable", ignore_index=True)
    times = hourly["time"]
    parts = []
    with _progress(progress) as bar:
        task = bar.add_task("issue hours", total=len(issue_hours))
        for first in range(0, len(issue_hours), chunk_hours):
            chunk = issue_hours[first : first + chunk_hours]
            lo = times.searchsorted(chunk[0] - lead, side="left")
            hi = times.searchsorted(chunk[-1], side="right")
            window = hourly.iloc[lo:hi]
            if not window.empty:
                parts.append(bundle.forecast(window, issued_at=list(chunk)))
            bar.advance(task, len(chunk))
    parts = [part for part in parts if not part.empty]
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, ignore_index=True)
