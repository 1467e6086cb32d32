"""Put every station on a complete hourly grid and read its observed AQI.

A missing hour must stay a row of NaN: a lag of one row is then always a lag of
one hour, and a rolling window of 24 rows always spans 24 hours.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from forecasting.aqi import SUB_INDICES, compute_aqi, moving_values
from forecasting.errors import ValidationError
from forecasting.schema import MOVING_VALUES

logger = logging.getLogger(__name__)

#: Hourly concentrations that enter the official AQI.
AQI_POLLUTANTS = ("pm2_5", "pm10", "o3", "co", "so2", "no2")


def complete_grid(hourly: pd.DataFrame) -> pd.DataFrame:
    """Reindex each station to a full hourly grid from its first to its last hour.

    Parameters
    ----------
    hourly:
        An hourly frame (``site_id``, ``time`` and any value columns), any order.

    Returns
    -------
    pandas.DataFrame
        The same columns, one row per station and hour from the station's first
        to its last hour, sorted by ``site_id`` and ``time``, with a fresh
        ``RangeIndex``. Hours absent from the input are rows whose value columns
        are NaN (or None for text columns).

    Raises
    ------
    ValidationError
        If ``site_id`` or ``time`` is missing, ``time`` is not timezone-aware,
        or a (station, hour) appears twice.
    """
    for key in ("site_id", "time"):
        if key not in hourly.columns:
            raise ValidationError(
                f"hourly frame: column {key!r} is missing; "
                "pass an hourly frame as HourlyStore.read returns it"
            )
    if getattr(hourly["time"].dtype, "tz", None) is None:
        raise ValidationError(
            "hourly frame: column 'time' has no timezone; "
            "localize it to Asia/Taipei (hour ending) first"
        )
    if hourly.empty:
        return hourly.reset_index(drop=True)

    duplicated = hourly.duplicated(["site_id", "time"])
    if duplicated.any():
        first = hourly.loc[duplicated, ["site_id", "time"]].iloc[0]
        raise ValidationError(
            f"hourly frame: station {first['site_id']} hour {first['time']} appears "
            f"{int(duplicated.sum()) + 1} times or more; keep one row per "
            "station and hour (the store does)"
        )

    times = hourly["time"]
    off_hour = times != times.dt.floor("h")
    if off_hour.any():
        raise ValidationError(
            f"hourly frame: time {times[off_hour].iloc[0]} is not on the hour; "
            "hourly rows must carry the hour-ending timestamp (e.g. 10:00)"
        )
    spans = times.groupby(hourly["site_id"], sort=True).agg(["min", "max"])
    parts = []
    for site_id, (first, last) in spans.iterrows():
        hours = pd.date_range(first, last, freq="h")
        parts.append(pd.DataFrame({"site_id": site_id, "time": hours}))
    grid = pd.concat(parts, ignore_index=True)
    grid["time"] = grid["time"].astype(hourly["time"].dtype)

    out = grid.merge(hourly, on=["site_id", "time"], how="left", validate="1:1")
    out = out[list(hourly.columns)]
    logger.debug(
        "complete_grid: %d stations, %d rows in, %d rows on the grid",
        len(spans),
        len(hourly),
        len(out),
    )
    return out


def _numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    """Column as float64, NaN where absent or not a number."""
    if column not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype="float64")
    return pd.to_numeric(frame[column], errors="coerce").astype("float64")


def _measured(hourly: pd.DataFrame) -> pd.Series:
    """Rows where at least one AQI pollutant was measured that hour.

    MOENV's moving values tolerate missing hours, so a computed AQI exists even
    for an hour the station never reported; such an hour must stay a gap.
    """
    columns = [c for c in AQI_POLLUTANTS if c in hourly.columns]
    if not columns:
        return pd.Series(False, index=hourly.index)
    return hourly[columns].apply(pd.to_numeric, errors="coerce").notna().any(axis=1)


def observed_aqi(hourly: pd.DataFrame) -> pd.Series:
    """The AQI of every row: published where MOENV published one, else computed.

    Parameters
    ----------
    hourly:
        An hourly frame; best on a complete grid (:func:`complete_grid`) so the
        computed moving values see every hour as present or absent.

    Returns
    -------
    pandas.Series
        Float AQI on ``hourly``'s index, named ``aqi``. NaN where nothing was
        published and the station measured none of the AQI pollutants that
        hour (a gap stays a gap), or where no AQI can be computed. A value at
        hour t depends only on rows at or before t.
    """
    published = _numeric(hourly, "aqi")
    if published.notna().all():
        return published.rename("aqi")
    computed = compute_aqi(hourly)["aqi"].astype("float64")
    computed = computed.where(_measured(hourly))
    return published.fillna(computed).rename("aqi")


def observed_moving_values(hourly: pd.DataFrame) -> pd.DataFrame:
    """MOENV's moving values: published where present, else computed.

    Parameters
    ----------
    hourly:
        An hourly frame, best on a complete grid.

    Returns
    -------
    pandas.DataFrame
        Columns ``pm2_5_avg, pm10_avg, o3_8hr, co_8hr, so2_avg`` (float) on
        ``hourly``'s index.
    """
    published = pd.DataFrame({c: _numeric(hourly, c) for c in MOVING_VALUES})
    if published.notna().all().all():
        return published
    computed = moving_values(hourly)[list(MOVING_VALUES)].astype("float64")
    computed = computed.where(_measured(hourly), axis=0)
    return published.fillna(computed)


def official_components(hourly: pd.DataFrame) -> pd.DataFrame:
    """Observed AQI, moving values and sub-indices in one pass of the AQI engine.

    Parameters
    ----------
    hourly:
        An hourly frame, best on a complete grid.

    Returns
    -------
    pandas.DataFrame
        On ``hourly``'s index: ``aqi`` (as :func:`observed_aqi`), the moving
        values (as :func:`observed_moving_values`) and the computed sub-indices
        ``si_pm2_5, si_pm10, si_o3_8hr, si_o3, si_co, si_so2, si_no2``; every
        computed value is NaN on an hour with no measurement.
    """
    measured = _measured(hourly)
    computed = compute_aqi(hourly)
    out = pd.DataFrame(index=hourly.index)
    out["aqi"] = _numeric(hourly, "aqi").fillna(
        computed["aqi"].astype("float64").where(measured)
    )
    for name in MOVING_VALUES:
        out[name] = _numeric(hourly, name).fillna(
            computed[name].astype("float64").where(measured)
        )
    for name in SUB_INDICES:
        out[name] = computed[name].astype("float64").where(measured)
    return out


def wind_uv(speed: pd.Series, direction: pd.Series) -> pd.DataFrame:
    """Split wind into the components it blows toward (east ``u``, north ``v``).

    Parameters
    ----------
    speed:
        Wind speed (m/s).
    direction:
        Direction the wind comes FROM, degrees clockwise from north.

    Returns
    -------
    pandas.DataFrame
        Columns ``wind_u`` and ``wind_v`` (m/s) on ``speed``'s index; a north
        wind (from 0°) of 2 m/s is ``u = 0, v = -2``.
    """
    radians = np.deg2rad(direction.astype("float64"))
    return pd.DataFrame(
        {
            "wind_u": -speed.astype("float64") * np.sin(radians),
            "wind_v": -speed.astype("float64") * np.cos(radians),
        },
        index=speed.index,
    )
