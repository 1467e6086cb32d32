"""Lags and windows over a sorted complete grid that never cross stations.

A complete grid (:func:`features.grid.complete_grid`) holds each station's hours
as one run of consecutive rows. :class:`StationRuns` knows where each run starts,
so one NumPy pass per column gives every station's lags and window sums at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


class StationRuns:
    """Where each station's run of hours starts on a sorted complete grid.

    Parameters
    ----------
    sites:
        The grid's ``site_id`` column (sorted by station, then time).
    """

    def __init__(self, sites: pd.Series) -> None:
        values = sites.to_numpy()
        starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
        lengths = np.diff(np.r_[starts, len(values)])
        self.start = np.repeat(starts, lengths)
        self.position = np.arange(len(values)) - self.start
        self.index = sites.index

    def lag(self, values: pd.Series, hours: int) -> pd.Series:
        """The value ``hours`` rows (hours) earlier at the same station."""
        array = values.to_numpy(dtype="float64")
        out = np.full(len(array), np.nan)
        if hours < len(array):
            out[hours:] = array[: len(array) - hours] if hours else array
        out[self.position < hours] = np.nan
        return pd.Series(out, index=self.index)

    def window_sum(
        self, values: pd.Series, window: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Sum and count of the non-NaN values of the last ``window`` hours
        (this one included); both 0 for ``window`` 0."""
        array = values.to_numpy(dtype="float64")
        present = ~np.isnan(array)
        sums = np.r_[0.0, np.cumsum(np.where(present, array, 0.0))]
        counts = np.r_[0, np.cumsum(present)]
        end = np.arange(len(array)) + 1
        begin = np.maximum(end - max(window, 0), self.start)
        return sums[end] - sums[begin], counts[end] - counts[begin]

    def mean(self, values: pd.Series, window: int, min_periods: int) -> pd.Series:
        """Mean of the non-NaN values of the last ``window`` hours (this one
        included), NaN when fewer than ``min_periods`` are present."""
        total, count = self.window_sum(values, window)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(count >= min_periods, total / count, np.nan)
        return pd.Series(out, index=self.index)

    def rolling(self, values: pd.Series, window: int) -> pd.Series:
        """NaN-tolerant rolling mean: at least half the window present."""
        return self.mean(values, window, max(1, window // 2))

    def ffill(self, values: pd.Series, limit: int) -> pd.Series:
        """Carry the last non-NaN value forward at most ``limit`` hours."""
        out = values.astype("float64")
        for hours in range(1, limit + 1):
            out = out.fillna(self.lag(values, hours))
        return out
