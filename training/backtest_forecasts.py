"""Forecasts of a bundle at many issue hours, for backtests.

A bundle forecasts from a history frame as of one ``issued_at``. A backtest needs
hundreds of issue hours; calling the bundle once per hour gives the right answer
(each call sees only rows at or before its ``issued_at``) but repeats the
per-booster overhead every hour.
"""

from __future__ import annotations

import logging

import pandas as pd

logger = logging.getLogger(__name__)


def _progress(total: int, enabled: bool, label: str):
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=not enabled,
        transient=False,
    )


def forecast_issue_hours(
    bundle,
    hourly: pd.DataFrame,
    issue_hours: pd.DatetimeIndex,
    progress: bool = True,
) -> pd.DataFrame:
    """Return the bundle's forecasts at every issue hour, each from data <= it.

    Parameters
    ----------
    bundle:
        A ``training.bundle.ForecastBundle``.
    hourly:
        Hourly frame of the stations, possibly running past the last issue hour;
        each forecast is given only the rows at or before its ``issued_at``.
    issue_hours:
        The hours to issue forecasts at.
    progress:
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        The bundle's forecast rows for all issue hours, concatenated.
    """
    history_hours = int(getattr(bundle, "history_hours", 24 * 7))
    hourly = hourly.sort_values(["time", "site_id"], kind="stable")
    times = hourly["time"]
    parts = []
    with _progress(len(issue_hours), progress, "forecasting") as bar:
        task = bar.add_task("issue hours", total=len(issue_hours))
        for issued_at in issue_hours:
            first = issued_at - pd.Timedelta(hours=history_hours)
            lo = times.searchsorted(first, side="right")
            hi = times.searchsorted(issued_at, side="right")
            window = hourly.iloc[lo:hi]
            if not window.empty:
                parts.append(bundle.forecast(window, issued_at=issued_at))
            bar.advance(task)
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, ignore_index=True)
