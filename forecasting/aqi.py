"""MOENV's official AQI: sub-indices, AQI, pollutant and status, vectorised.

Reproduces the ``aqi``, ``pollutant`` and ``status`` fields of MOENV's real-time feed
(AQX_P_432) following ``tests/data/RULES.md`` (copy of ``shared/aqi/RULES.md``):

* :func:`moving_values` (from :mod:`forecasting.aqi_moving`): hourly
  concentrations -> ``pm2_5_avg, pm10_avg, o3_8hr, co_8hr, so2_avg``;
* :func:`aqi_from_moving_values`: moving values and hourly O3/SO2/NO2 -> sub-indices,
  ``aqi``, ``pollutant``, ``status``, ``status_en``, ``color``;
* :func:`compute_aqi`: both steps on an hourly frame.

Sub-indices are interpolated in exact integer arithmetic (concentrations in
thousandths) and rounded half to even (RULES.md §3: 104.5 -> 104, 111.5 -> 112).
"""

from __future__ import annotations

import logging
import time as clock

import numpy as np
import pandas as pd

from forecasting.aqi_moving import (
    MOVING_COLUMNS,
    SCALE,
    column_frame,
    hour_numbers,
    moving_arrays,
    moving_values,
    numeric_column,
    require_keys,
)
from forecasting.aqi_tables import (
    POLLUTANT_NAMED_ABOVE,
    POLLUTANT_NAMES,
    STATUS_BANDS,
    SUB_INDEX_PRIORITY,
    TABLE_2016,
    TABLE_2025,
    TABLE_2025_FROM,
    Band,
)
from forecasting.errors import ValidationError

__all__ = [
    "AQI_INPUTS",
    "MOVING_COLUMNS",
    "SUB_INDICES",
    "RESULT_COLUMNS",
    "aqi_from_moving_values",
    "compute_aqi",
    "moving_values",
]

logger = logging.getLogger(__name__)

#: Columns :func:`aqi_from_moving_values` reads (besides ``time``).
AQI_INPUTS = (
    "pm2_5_avg",
    "pm10_avg",
    "o3_8hr",
    "o3",
    "co_8hr",
    "so2",
    "so2_avg",
    "no2",
)
#: Sub-index columns, in output order.
SUB_INDICES = ("si_pm2_5", "si_pm10", "si_o3_8hr", "si_o3", "si_co", "si_so2", "si_no2")
#: Text and number columns describing the AQI.
RESULT_COLUMNS = ("aqi", "pollutant", "status", "status_en", "color")

_TABLE_2025_HOUR = int(TABLE_2025_FROM.value // 3_600_000_000_000)


def _lookup(conc: np.ndarray, bands: tuple[Band, ...], above: str) -> np.ndarray:
    """Interpolate a sub-index in a breakpoint table, rounded half to even.

    Concentrations below 0 are taken as 0 (INFERRED: small negative readings are
    real published values; MOENV's handling is not documented). A value in the gap
    between two bands (e.g. PM2.5 12.45) is interpolated in the lower band. Above
    the table: ``above="cap"`` gives the top index (500), ``above="nan"`` gives NaN
    (O3 8-h above 200 ppb and SO2 1-h above 304 ppb have other rules). Below the
    first band (O3 1-h under its first breakpoint) gives NaN.
    """
    table = np.asarray(bands, dtype=np.float64)
    c_lo = np.rint(table[:, 0] * SCALE)
    c_hi = np.rint(table[:, 1] * SCALE)
    i_lo = table[:, 2]
    i_span = table[:, 3] - table[:, 2]
    c_span = c_hi - c_lo

    # Whole thousandths, so the interpolation below is a quotient of two exact
    # integers: an exact half stays an exact half for rint (half to even), and no
    # other value comes within a double's error of one. NaN flows through.
    c = np.rint(np.maximum(conc, 0.0) * SCALE)
    band = np.searchsorted(c_lo, c, side="right") - 1
    below = band < 0
    band = np.maximum(band, 0)
    capped = np.minimum(c, c_hi[-1])
    index = np.rint(
        i_lo.take(band)
        + i_span.take(band) * (capped - c_lo.take(band)) / c_span.take(band)
    )

    invalid = below | (c > c_hi[-1]) if above == "nan" else below
    return np.where(invalid, np.nan, index)


def _sub_indices(inputs: dict[str, np.ndarray], table: dict) -> dict[str, np.ndarray]:
    """Every sub-index of one table era (RULES.md §1-§2)."""
    si = {
        "si_pm2_5": _lookup(inputs["pm2_5_avg"], table["pm2_5"], "cap"),
        "si_pm10": _lookup(inputs["pm10_avg"], table["pm10"], "cap"),
        # M1: O3 8-h defines nothing above 200 ppb; there only 1-h O3 counts.
        "si_o3_8hr": _lookup(inputs["o3_8hr"], table["o3_8hr"], "nan"),
        "si_co": _lookup(inputs["co_8hr"], table["co"], "cap"),
    }

    # O3 1-h counts only from the table's first 1-h breakpoint (101 ppb since 2025,
    # 125 ppb before; M1, T1); below it _lookup gives NaN. INFERRED: hourly O3 and
    # NO2 are cut to whole ppb like SO2, the precision MOENV publishes them at
    # (RULES.md §2); for the integer feed this changes nothing.
    si["si_o3"] = _lookup(np.trunc(inputs["o3"]), table["o3"], "cap")
    si["si_no2"] = _lookup(np.trunc(inputs["no2"]), table["no2"], "cap")

    # SO2: hourly value cut to a whole ppb (RULES.md §2, E: 279 rows need it).
    # Above the 1-h table (304 ppb) the 24-h mean is used, at least 200 when that
    # mean is under 305 ppb or missing (M1, C1; never exercised by the feed).
    so2 = np.trunc(inputs["so2"])
    hourly = _lookup(so2, table["so2"], "nan")
    daily = _lookup(inputs["so2_avg"], table["so2_24h"], "cap")
    beyond = so2 > table["so2"][-1][1]
    si["si_so2"] = np.where(beyond, np.fmax(daily, 200.0), hourly)
    return si


def aqi_from_moving_values(frame: pd.DataFrame) -> pd.DataFrame:
    """Compute sub-indices, AQI, pollutant and status from moving values.

    Parameters
    ----------
    frame:
        Columns ``time`` (tz-aware, hour ending) and :data:`AQI_INPUTS`:
        ``pm2_5_avg, pm10_avg, o3_8hr, co_8hr, so2_avg`` (moving values, used as
        given) and the hourly ``o3, so2, no2``. An absent value column counts as
        missing. Hours before 2025-01-01 (Asia/Taipei) use the 2016-2024 table.

    Returns
    -------
    pandas.DataFrame
        On the index of ``frame``: :data:`SUB_INDICES` (float, NaN when not
        available), ``aqi`` (float, the largest sub-index; NaN = no AQI, when
        ``pm2_5_avg``, ``pm10_avg`` and ``o3_8hr`` are all missing), ``pollutant``
        (Chinese name of the top sub-index, ties broken by
        :data:`forecasting.aqi_tables.SUB_INDEX_PRIORITY`; None when AQI <= 50),
        ``status`` (Chinese), ``status_en`` and ``color`` (hex); the text columns
        are None when there is no AQI.

    Raises
    ------
    ValidationError
        When ``time`` is missing or not tz-aware, or a value column is not numeric.
    """
    what = "AQI input frame"
    if "time" not in frame.columns:
        raise ValidationError(
            f"{what}: column 'time' is missing; it selects the breakpoint table"
        )
    hours = hour_numbers(frame["time"], what) if len(frame) else np.zeros(0, np.int64)
    inputs = {name: numeric_column(frame, name, what) for name in AQI_INPUTS}
    return column_frame(_aqi_columns(inputs, hours), frame.index)


def _aqi_columns(
    inputs: dict[str, np.ndarray], hours: np.ndarray
) -> dict[str, np.ndarray]:
    """Sub-indices and AQI fields, per row, choosing each row's table era."""
    new_table = hours >= _TABLE_2025_HOUR
    if new_table.all():
        si = _sub_indices(inputs, TABLE_2025)
    else:
        si = {name: np.full(len(hours), np.nan) for name in SUB_INDICES}
        for mask, table in ((new_table, TABLE_2025), (~new_table, TABLE_2016)):
            if mask.any():
                part = _sub_indices({k: v[mask] for k, v in inputs.items()}, table)
                for name, values in part.items():
                    si[name][mask] = values
    return {name: si[name] for name in SUB_INDICES} | _describe(si, inputs)


def _describe(
    si: dict[str, np.ndarray], inputs: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """``aqi, pollutant, status, status_en, color`` from the sub-indices (§5)."""
    aqi = np.full(len(inputs["o3_8hr"]), np.nan)
    for name in SUB_INDEX_PRIORITY:
        aqi = np.fmax(aqi, si[name])
    # The first sub-index in priority order that reaches the maximum names it.
    top = np.zeros(len(aqi), dtype=np.intp)
    for position in range(len(SUB_INDEX_PRIORITY) - 1, -1, -1):
        top[si[SUB_INDEX_PRIORITY[position]] == aqi] = position

    key_missing = (
        np.isnan(inputs["pm2_5_avg"])
        & np.isnan(inputs["pm10_avg"])
        & np.isnan(inputs["o3_8hr"])
    )
    no_aqi = key_missing | np.isnan(aqi)
    aqi[no_aqi] = np.nan

    names = np.array([POLLUTANT_NAMES[k] for k in SUB_INDEX_PRIORITY], dtype=object)
    pollutant = names.take(top)
    pollutant[~(aqi > POLLUTANT_NAMED_ABOVE)] = None
    out = {"aqi": aqi, "pollutant": pollutant}

    uppers = np.array([band[0] for band in STATUS_BANDS], dtype=np.float64)
    band = np.minimum(np.searchsorted(uppers, aqi, side="left"), len(uppers) - 1)
    for position, column in ((1, "status"), (2, "status_en"), (3, "color")):
        values = np.array([b[position] for b in STATUS_BANDS], dtype=object).take(band)
        values[no_aqi] = None
        out[column] = values
    return out


def compute_aqi(hourly: pd.DataFrame) -> pd.DataFrame:
    """Compute the official AQI of every row of an hourly frame.

    Parameters
    ----------
    hourly:
        An hourly frame (any order): ``site_id``, ``time`` and the hourly
        concentrations ``pm2_5, pm10, o3, co, so2, no2``; an hour with no row
        counts as invalid for the moving values.

    Returns
    -------
    pandas.DataFrame
        On the index of ``hourly``: ``site_id``, ``time``, the moving values
        (:data:`MOVING_COLUMNS`), the sub-indices (:data:`SUB_INDICES`) and
        :data:`RESULT_COLUMNS`, as described in :func:`moving_values` and
        :func:`aqi_from_moving_values`.

    Raises
    ------
    ValidationError
        As :func:`moving_values` does, for a malformed hourly frame.
    """
    started = clock.perf_counter()
    what = "hourly frame"
    logger.info("computing the AQI of %d station-hours", len(hourly))
    if hourly.empty:
        moving, hours = moving_values(hourly), np.zeros(0, dtype=np.int64)
    else:
        require_keys(hourly, what)
        hours = hour_numbers(hourly["time"], what)
        moving = moving_arrays(hourly, hours)

    inputs = {name: np.asarray(moving[name]) for name in MOVING_COLUMNS}
    for name in ("o3", "so2", "no2"):
        inputs[name] = numeric_column(hourly, name, what)
    columns = {
        "site_id": hourly["site_id"].array,
        "time": hourly["time"].array,
        **{name: inputs[name] for name in MOVING_COLUMNS},
        **_aqi_columns(inputs, hours),
    }
    out = column_frame(columns, hourly.index)
    logger.info(
        "AQI of %d station-hours (%d with no AQI) in %.2f s",
        len(out),
        int(out["aqi"].isna().sum()),
        clock.perf_counter() - started,
    )
    return out
