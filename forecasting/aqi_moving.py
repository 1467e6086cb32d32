"""MOENV's moving values from hourly concentrations, for whole histories at once.

The rules are those of ``tests/data/RULES.md`` §4 (a copy of ``shared/aqi/RULES.md``).
A value published at hour T covers the hours ending T-n+1 ... T; only valid hours
enter a mean, and an hour absent from the input counts as invalid.

How it is computed: every station gets a contiguous block of a 1-D hourly grid
(its first to last hour), each row is scattered to its grid cell, window sums are
differences of cumulative sums along the grid, and the results are read back at
the input rows. Concentrations are counted in thousandths (:data:`SCALE`) as
exact integers, so every sum is exact and every quotient is a correctly rounded
division of two exact integers: truncating it never turns 12.3 into 12.2999... and
then 12.2 (a mean of integers a/b lies at least 1/b from the next integer, far
more than a double's rounding error at these magnitudes).
"""

from __future__ import annotations

import logging
import time as clock
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.errors import ValidationError

logger = logging.getLogger(__name__)

#: Concentrations are counted as integer multiples of 1/SCALE (three decimals is the
#: finest any MOENV source publishes).
SCALE = 1000

#: Hourly inputs of the moving values, and the moving values they give.
HOURLY_INPUTS = ("pm2_5", "pm10", "o3", "co", "so2")
MOVING_COLUMNS = ("pm2_5_avg", "pm10_avg", "o3_8hr", "co_8hr", "so2_avg")

#: Largest magnitude accepted for a concentration (no MOENV item comes close; it
#: keeps every scaled sum and product far inside a double's exact integers).
MAX_ABS = 1e6

#: Expected hidden decimal of MOENV's integer O3 feed (RULES.md §4, O3 note).
_O3_FEED_OFFSET = 0.45 * SCALE


@dataclass(frozen=True)
class _Grid:
    """Where every input row sits on the per-station hourly grid.

    ``pos`` is the grid cell of each row (None when the rows already are the grid,
    in order), ``offsets`` and ``lengths`` the block of each station, ``size`` the
    length of the whole grid.
    """

    pos: np.ndarray | None
    offsets: np.ndarray
    lengths: np.ndarray
    size: int

    def scatter(self, values: np.ndarray) -> np.ndarray:
        """Values of the rows on the grid, NaN in hours without a row."""
        if self.pos is None:
            return values
        grid = np.full(self.size, np.nan)
        grid[self.pos] = values
        return grid

    def gather(self, grid: np.ndarray) -> np.ndarray:
        """Values of the grid at the input rows."""
        return grid if self.pos is None else grid[self.pos]

    def window_sum(self, cumulative: np.ndarray, hours: int) -> np.ndarray:
        """Sum over the ``hours`` grid hours ending at each cell, within its station.

        ``cumulative`` has a leading 0: ``cumulative[k]`` is the sum of cells < k.
        """
        size = self.size
        out = np.empty(size, dtype=np.float64)
        lead = min(hours - 1, size)
        if size >= hours:
            out[lead:] = cumulative[hours:] - cumulative[: size + 1 - hours]
        out[:lead] = cumulative[1 : lead + 1]

        # Cells in a station's first hours: the window starts at the station's start.
        k = np.arange(hours - 1)
        inside = k[None, :] < self.lengths[:, None]
        cells = (self.offsets[:, None] + k[None, :])[inside]
        starts = np.broadcast_to(self.offsets[:, None], inside.shape)[inside]
        out[cells] = cumulative[cells + 1] - cumulative[starts]
        return out


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


def _grid(hourly: pd.DataFrame, hours: np.ndarray, what: str) -> _Grid:
    """Place every row of ``hourly`` on a contiguous hourly grid per station."""
    codes, sites = pd.factorize(hourly["site_id"], sort=False)
    if (codes < 0).any():
        raise ValidationError(
            f"{what}: column 'site_id' is missing in {int((codes < 0).sum())} rows; "
            "every row needs its MOENV station id"
        )

    by_site = pd.Series(hours).groupby(codes, sort=True)
    start = by_site.min().to_numpy()
    lengths = by_site.max().to_numpy() - start + 1
    offsets = np.zeros(len(sites), dtype=np.int64)
    np.cumsum(lengths[:-1], out=offsets[1:])
    pos = offsets[codes] + (hours - start[codes])
    size = int(lengths.sum())

    counts = np.bincount(pos, minlength=size)
    if counts.max(initial=0) > 1:
        row = int(np.flatnonzero(counts[pos] > 1)[0])
        raise ValidationError(
            f"{what}: station {sites[codes[row]]!r} has more than one row for "
            f"{hourly['time'].iloc[row]}; keep one row per station and hour"
        )
    in_grid_order = size == len(pos) and bool((pos[1:] > pos[:-1]).all())
    return _Grid(
        pos=None if in_grid_order else pos, offsets=offsets, lengths=lengths, size=size
    )


def require_keys(hourly: pd.DataFrame, what: str) -> None:
    """Check that an hourly frame has its key columns.

    Raises
    ------
    ValidationError
        When ``site_id`` or ``time`` is missing.
    """
    for key in ("site_id", "time"):
        if key not in hourly.columns:
            raise ValidationError(
                f"{what}: column {key!r} is missing; an hourly frame needs "
                "'site_id' and 'time' (see forecasting.schema)"
            )


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
    if np.nanmax(np.abs(values), initial=0.0) > MAX_ABS:
        raise ValidationError(
            f"{what}: column {column!r} holds values beyond ±{MAX_ABS:g}; "
            "these are not concentrations, mark them missing (NaN)"
        )
    return values


class _Series:
    """One hourly series on the grid: exact window sums and counts of valid hours."""

    def __init__(self, values: np.ndarray, grid: _Grid) -> None:
        on_grid = grid.scatter(values)
        self.valid = ~np.isnan(on_grid)
        self.scaled = np.rint(np.where(self.valid, on_grid, 0.0) * SCALE)
        self._grid = grid
        self._sums = _cumulative(self.scaled.astype(np.int64))
        self._counts = _cumulative(self.valid.astype(np.int64))

    def total(self, hours: int) -> np.ndarray:
        """Exact sum (in 1/SCALE) of the valid hours of each window."""
        return self._grid.window_sum(self._sums, hours)

    def count(self, hours: int) -> np.ndarray:
        """Number of valid hours in each window."""
        return self._grid.window_sum(self._counts, hours)

    def fractional_count(self, hours: int) -> np.ndarray:
        """Number of valid hours in each window whose value is not a whole unit."""
        fractional = self.valid & (np.rint(self.scaled / SCALE) * SCALE != self.scaled)
        return self._grid.window_sum(_cumulative(fractional.astype(np.int64)), hours)


def _cumulative(values: np.ndarray) -> np.ndarray:
    """Integer cumulative sum with a leading 0 (``out[k]`` = sum of values < k)."""
    out = np.empty(len(values) + 1, dtype=np.int64)
    out[0] = 0
    np.cumsum(values, out=out[1:])
    return out


def _quotient(
    ok: np.ndarray,
    numerator: np.ndarray,
    denominator: np.ndarray,
    rule: np.ufunc = np.trunc,
) -> np.ndarray:
    """``rule(numerator / denominator)`` where ``ok``, NaN elsewhere."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ok, rule(numerator / denominator), np.nan)


def _pm_moving(series: _Series, per_unit: int) -> np.ndarray:
    """0.5 x 12-h mean + 0.5 x 4-h mean, cut to ``1/per_unit`` (RULES.md §4, T1)."""
    sum12, n12 = series.total(12), series.count(12)
    sum4, n4 = series.total(4), series.count(4)
    ok = (n12 >= 6) & (n4 >= 2)  # documented: T1 (Taichung EPB restating MOENV)
    numerator = (sum12 * n4 + sum4 * n12) * per_unit
    return _quotient(ok, numerator, 2 * SCALE * n12 * n4) / per_unit


def _mean_moving(
    series: _Series, hours: int, min_valid: int, per_unit: int
) -> np.ndarray:
    """Mean of the valid hours of the last ``hours``, cut to ``1/per_unit``."""
    count = series.count(hours)
    numerator = series.total(hours) * per_unit
    return _quotient(count >= min_valid, numerator, SCALE * count) / per_unit


def _o3_moving(series: _Series) -> np.ndarray:
    """O3 8-h mean, integer ppb (RULES.md §4 and its O3 note).

    INFERRED, not documented (RULES.md §4 note, §8): the 5-of-8 validity count, and
    the handling of MOENV's hidden O3 decimal. When every valid hour of the window
    is a whole ppb (the real-time feed drops the decimal), the mean is corrected by
    the expected lost decimal: floor(mean + 0.45). When the window holds MOENV's
    one-decimal values (yearly station files), the mean is simply cut.
    """
    total, count = series.total(8), series.count(8)
    integer_feed = series.fractional_count(8) == 0
    ok = count >= 5
    denominator = SCALE * count
    corrected = _quotient(ok, total + _O3_FEED_OFFSET * count, denominator, np.floor)
    cut = _quotient(ok, total, denominator)
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
        for one hour, or a concentration is not numeric or beyond :data:`MAX_ABS`.
    """
    what = "hourly frame"
    require_keys(hourly, what)
    if hourly.empty:
        return pd.DataFrame(
            {name: pd.Series(dtype=np.float64) for name in MOVING_COLUMNS},
            index=hourly.index,
        )
    hours = hour_numbers(hourly["time"], what)
    return column_frame(moving_arrays(hourly, hours), hourly.index)


def moving_arrays(hourly: pd.DataFrame, hours: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`moving_values` of a non-empty frame whose hour numbers are known.

    Returns
    -------
    dict
        One float64 array per name of :data:`MOVING_COLUMNS`, in row order.

    Raises
    ------
    ValidationError
        As :func:`moving_values`.
    """
    started = clock.perf_counter()
    what = "hourly frame"
    grid = _grid(hourly, hours, what)
    series = {
        name: _Series(numeric_column(hourly, name, what), grid)
        for name in HOURLY_INPUTS
    }
    on_grid = {
        "pm2_5_avg": _pm_moving(series["pm2_5"], per_unit=10),
        "pm10_avg": _pm_moving(series["pm10"], per_unit=1),
        "o3_8hr": _o3_moving(series["o3"]),
        # INFERRED from published data, not documented (RULES.md §4, §8): CO needs
        # 4 of 8 valid hours, SO2 16 of 24; both means are truncated.
        "co_8hr": _mean_moving(series["co"], 8, min_valid=4, per_unit=10),
        "so2_avg": _mean_moving(series["so2"], 24, min_valid=16, per_unit=1),
    }
    logger.debug(
        "moving values for %d rows on a %d-hour grid in %.3f s",
        len(hourly),
        grid.size,
        clock.perf_counter() - started,
    )
    return {name: grid.gather(values) for name, values in on_grid.items()}


def column_frame(columns: dict[str, np.ndarray], index: pd.Index) -> pd.DataFrame:
    """Return a frame of the given columns on ``index``; text stays ``object``.

    Built by concatenating Series, so pandas keeps each array as its own block
    instead of copying them all into one 2-D block (100 times slower on millions
    of rows).

    Returns
    -------
    pandas.DataFrame
        The columns in the given order; ``object`` arrays keep None for blanks.
    """
    series = [
        pd.Series(
            values,
            index=index,
            name=name,
            copy=False,
            dtype=object if values.dtype == object else None,
        )
        for name, values in columns.items()
    ]
    return pd.concat(series, axis=1)
