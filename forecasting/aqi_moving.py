"""MOENV's moving values from hourly concentrations, for whole histories at once.

The rules are those of ``tests/data/RULES.md`` §4 (a copy of ``shared/aqi/RULES.md``).
A value published at hour T covers the hours ending T-n+1 ... T; only valid hours
enter a mean, and an hour absent from the input counts as invalid.

How it is computed: every station gets a contiguous block of a 1-D hourly grid
(first to last hour of that station), each row is scattered to its grid cell, and
window sums are differences of cumulative sums, read back only at the input rows.
Concentrations are held as integers in thousandths (:data:`SCALE`), so sums are
exact and every cut is an integer division: 12.3 never becomes 12.2999... and
truncates to 12.2.
"""

from __future__ import annotations

import logging
import time as clock
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.errors import ValidationError

logger = logging.getLogger(__name__)

#: Concentrations are stored as integer multiples of 1/SCALE (three decimals is the
#: finest any MOENV source publishes).
SCALE = 1000

#: Hourly inputs of the moving values, and the moving values they give.
HOURLY_INPUTS = ("pm2_5", "pm10", "o3", "co", "so2")
MOVING_COLUMNS = ("pm2_5_avg", "pm10_avg", "o3_8hr", "co_8hr", "so2_avg")

#: Largest magnitude accepted for an hourly concentration (no MOENV item comes close;
#: larger values would overflow the exact integer sums).
_MAX_ABS = 1e7

#: Expected hidden decimal of MOENV's integer O3 feed (RULES.md §4, O3 note).
_O3_FEED_OFFSET = 450  # 0.45 in thousandths


@dataclass(frozen=True)
class _Grid:
    """Where every input row sits on the per-station hourly grid.

    ``pos`` is the grid cell of each row, ``first`` the cell of the first hour of the
    row's station, ``size`` the length of the whole grid.
    """

    pos: np.ndarray
    first: np.ndarray
    size: int


def hour_numbers(time: pd.Series, what: str = "hourly frame") -> np.ndarray:
    """Return whole hours since the Unix epoch (UTC) of tz-aware hour-ending stamps.

    Parameters
    ----------
    time:
        Timezone-aware timestamps on whole hours.
    what:
        Name of the input, used in error messages.

    Returns
    -------
    numpy.ndarray
        ``int64`` hour numbers, one per row.

    Raises
    ------
    ValidationError
        When ``time`` is not tz-aware, has missing stamps, or a stamp is not on a
        whole hour.
    """
    if not isinstance(time.dtype, pd.DatetimeTZDtype):
        raise ValidationError(
            f"{what}: column 'time' has dtype {time.dtype}, not a timezone-aware "
            "timestamp; localise it (e.g. .dt.tz_localize('Asia/Taipei'))"
        )
    if time.isna().any():
        row = time.index[time.isna().to_numpy()][0]
        raise ValidationError(
            f"{what}: column 'time' is missing at row {row!r}; drop or fill that row"
        )
    seconds = pd.DatetimeIndex(time).as_unit("s").asi8
    off_hour = seconds % 3600 != 0
    if off_hour.any():
        bad = time.iloc[int(np.flatnonzero(off_hour)[0])]
        raise ValidationError(
            f"{what}: column 'time' holds {bad}, which is not a whole hour; "
            "hourly frames carry hour-ending stamps such as 10:00"
        )
    return seconds // 3600


def _grid(hourly: pd.DataFrame, what: str) -> _Grid:
    """Place every row of ``hourly`` on a contiguous hourly grid per station."""
    codes, sites = pd.factorize(hourly["site_id"], sort=False)
    if (codes < 0).any():
        raise ValidationError(
            f"{what}: column 'site_id' is missing in {int((codes < 0).sum())} rows; "
            "every row needs its MOENV station id"
        )
    hours = hour_numbers(hourly["time"], what)

    by_site = pd.Series(hours).groupby(codes, sort=True)
    start = by_site.min().to_numpy()
    length = by_site.max().to_numpy() - start + 1
    offset = np.zeros(len(sites), dtype=np.int64)
    np.cumsum(length[:-1], out=offset[1:])
    first = offset[codes]
    pos = first + (hours - start[codes])
    size = int(length.sum())

    counts = np.bincount(pos, minlength=size)
    if counts.max(initial=0) > 1:
        row = int(np.flatnonzero(counts[pos] > 1)[0])
        raise ValidationError(
            f"{what}: station {sites[codes[row]]!r} has more than one row for "
            f"{hourly['time'].iloc[row]}; keep one row per station and hour"
        )
    return _Grid(pos=pos, first=first, size=size)


def numeric_column(frame: pd.DataFrame, column: str, what: str) -> np.ndarray:
    """Return one concentration column as float64.

    Returns
    -------
    numpy.ndarray
        The values, NaN where missing; all NaN when the column is absent.

    Raises
    ------
    ValidationError
        When the column is not numeric or holds values no concentration reaches.
    """
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    try:
        values = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"{what}: column {column!r} is not numeric ({exc}); convert it to float "
            "with NaN for missing or invalid hours"
        ) from exc
    if (np.abs(values) > _MAX_ABS).any():
        raise ValidationError(
            f"{what}: column {column!r} holds values beyond ±{_MAX_ABS:g}; "
            "these are not concentrations, mark them missing (NaN)"
        )
    return values


class _Cumulative:
    """Exact cumulative sums of one series on the grid: scaled values and counts."""

    def __init__(self, values: np.ndarray, grid: _Grid) -> None:
        valid = np.isfinite(values)
        cells = grid.pos[valid]
        scaled = np.rint(values[valid] * SCALE).astype(np.int64)

        self._grid = grid
        self.sums = _prefixed_cumsum(cells, scaled, grid.size)
        self.counts = _prefixed_cumsum(cells, np.ones(len(cells), np.int64), grid.size)
        self.fractional = _prefixed_cumsum(
            cells, (scaled % SCALE != 0).astype(np.int64), grid.size
        )

    def window(self, cumulative: np.ndarray, hours: int) -> np.ndarray:
        """Total over the ``hours`` grid hours ending at each input row."""
        end = self._grid.pos + 1
        begin = np.maximum(end - hours, self._grid.first)
        return cumulative[end] - cumulative[begin]


def _prefixed_cumsum(cells: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Cumulative sum over the grid with a leading 0 (``out[k]`` = sum of cells < k)."""
    grid = np.zeros(size + 1, dtype=np.int64)
    grid[cells + 1] = values
    return np.cumsum(grid, out=grid)


def _cut(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Integer division truncated toward zero (a cut, also for negative means)."""
    return np.sign(numerator) * (np.abs(numerator) // denominator)


def _finish(
    ok: np.ndarray,
    numerator: np.ndarray,
    denominator: np.ndarray,
    per_unit: int,
    floor: bool = False,
) -> np.ndarray:
    """Divide where ``ok``, in units of ``1/per_unit``; NaN elsewhere."""
    out = np.full(len(ok), np.nan)
    if floor:
        steps = numerator[ok] // denominator[ok]
    else:
        steps = _cut(numerator[ok], denominator[ok])
    out[ok] = steps / per_unit
    return out


def _pm_moving(series: _Cumulative, per_unit: int) -> np.ndarray:
    """0.5 x 12-h mean + 0.5 x 4-h mean, cut to ``1/per_unit`` (RULES.md §4, T1)."""
    sum12, n12 = series.window(series.sums, 12), series.window(series.counts, 12)
    sum4, n4 = series.window(series.sums, 4), series.window(series.counts, 4)
    ok = (n12 >= 6) & (n4 >= 2)  # documented: T1 (Taichung EPB restating MOENV)
    numerator = (sum12 * n4 + sum4 * n12) * per_unit
    denominator = 2 * SCALE * np.maximum(n12 * n4, 1)
    return _finish(ok, numerator, denominator, per_unit)


def _mean_moving(
    series: _Cumulative, hours: int, min_valid: int, per_unit: int
) -> np.ndarray:
    """Mean of the valid hours of the last ``hours``, cut to ``1/per_unit``."""
    total = series.window(series.sums, hours)
    count = series.window(series.counts, hours)
    ok = count >= min_valid
    denominator = SCALE * np.maximum(count, 1)
    return _finish(ok, total * per_unit, denominator, per_unit)


def _o3_moving(series: _Cumulative) -> np.ndarray:
    """O3 8-h mean, integer ppb (RULES.md §4 and its O3 note).

    INFERRED, not documented (RULES.md §4 note, §8): the 5-of-8 validity count, and
    the handling of MOENV's hidden O3 decimal. When every valid hour of the window
    is a whole ppb (the real-time feed drops the decimal), the mean is corrected by
    the expected lost decimal: floor(mean + 0.45). When the window holds MOENV's
    one-decimal values (yearly station files), the mean is simply cut.
    """
    total = series.window(series.sums, 8)
    count = series.window(series.counts, 8)
    integer_feed = series.window(series.fractional, 8) == 0
    ok = count >= 5
    denominator = SCALE * np.maximum(count, 1)

    corrected = _finish(
        ok & integer_feed, total + _O3_FEED_OFFSET * count, denominator, 1, floor=True
    )
    cut = _finish(ok & ~integer_feed, total, denominator, 1)
    return np.where(integer_feed, corrected, cut)


def moving_values(hourly: pd.DataFrame) -> pd.DataFrame:
    """Compute MOENV's moving values from hourly concentrations.

    Parameters
    ----------
    hourly:
        An hourly frame in any row order: ``site_id``, ``time`` (tz-aware, hour
        ending) and the hourly ``pm2_5, pm10, o3, co, so2`` (NaN = invalid; an
        absent column counts as all invalid). An hour with no row is invalid.

    Returns
    -------
    pandas.DataFrame
        On the index of ``hourly``: ``pm2_5_avg`` (0.1 µg/m³), ``pm10_avg``
        (µg/m³), ``o3_8hr`` (ppb), ``co_8hr`` (0.1 ppm), ``so2_avg`` (ppb), float64,
        NaN where too few valid hours (RULES.md §4):

        * PM: 0.5 x mean of 12 h + 0.5 x mean of 4 h, >= 6 of 12 and >= 2 of 4
          valid, truncated (documented, T1);
        * O3 8-h: >= 5 of 8 valid, see :func:`_o3_moving` (inferred, E);
        * CO 8-h: >= 4 of 8 valid, truncated to 0.1 (inferred, E);
        * SO2 24-h: >= 16 of 24 valid, truncated to an integer (inferred, E).

    Raises
    ------
    ValidationError
        When ``site_id`` or ``time`` is missing or malformed, a station has two rows
        for one hour, or a concentration column is not numeric.
    """
    started = clock.perf_counter()
    what = "hourly frame"
    for key in ("site_id", "time"):
        if key not in hourly.columns:
            raise ValidationError(
                f"{what}: column {key!r} is missing; an hourly frame needs "
                "'site_id' and 'time' (see forecasting.schema)"
            )
    out = pd.DataFrame(index=hourly.index)
    if hourly.empty:
        for column in MOVING_COLUMNS:
            out[column] = pd.Series(dtype=np.float64)
        return out

    grid = _grid(hourly, what)
    series = {
        name: _Cumulative(numeric_column(hourly, name, what), grid)
        for name in HOURLY_INPUTS
    }

    out["pm2_5_avg"] = _pm_moving(series["pm2_5"], per_unit=10)
    out["pm10_avg"] = _pm_moving(series["pm10"], per_unit=1)
    out["o3_8hr"] = _o3_moving(series["o3"])
    out["co_8hr"] = _mean_moving(series["co"], 8, min_valid=4, per_unit=10)
    out["so2_avg"] = _mean_moving(series["so2"], 24, min_valid=16, per_unit=1)

    logger.debug(
        "moving values for %d rows on a %d-hour grid in %.3f s",
        len(hourly),
        grid.size,
        clock.perf_counter() - started,
    )
    return out
