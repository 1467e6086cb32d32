"""Baseline forecasts a model must beat, on exactly the rows of a backtest.

Every baseline reads only the observed AQI (the AQI MOENV published), and only
hours known when the forecast was issued:

* ``persistence``: the latest observed AQI at or before ``issued_at`` (at most
  :data:`PERSISTENCE_MAX_AGE` old), the same for every horizon;
* ``same_hour_yesterday``: the AQI at ``target_time - 24 h``; since horizons stop
  at 12, that hour is always at or before ``issued_at``;
* ``climatology``: the station's mean AQI at the target's hour of day, over the
  hours before the backtest starts.
"""

from __future__ import annotations

import logging

import pandas as pd

from forecasting.errors import ValidationError

logger = logging.getLogger(__name__)

#: Names of the baselines, in the order reports show them.
BASELINES = ("persistence", "same_hour_yesterday", "climatology")

#: A persistence forecast older than this is no forecast (NaN).
PERSISTENCE_MAX_AGE = pd.Timedelta(hours=24)


def _check_observed(observed: pd.DataFrame) -> None:
    missing = {"site_id", "time", "aqi"} - set(observed.columns)
    if missing:
        raise ValidationError(
            f"observed AQI frame lacks the columns {sorted(missing)}; pass a frame "
            "with site_id, time and aqi (see training.backtest.observed_frame)"
        )


def hourly_climatology(observed: pd.DataFrame, before: pd.Timestamp) -> pd.DataFrame:
    """Return each station's mean observed AQI per hour of day, from hours < ``before``.

    Parameters
    ----------
    observed:
        ``site_id``, ``time`` (tz-aware, hour ending), ``aqi`` (NaN = no AQI).
    before:
        Only hours strictly before this time are averaged (the backtest's start).

    Returns
    -------
    pandas.DataFrame
        ``site_id``, ``hour`` (0..23, of the hour-ending time) and ``climatology``
        (mean AQI), one row per station and hour that had at least one AQI.

    Raises
    ------
    ValidationError
        When ``observed`` lacks one of its columns.
    """
    _check_observed(observed)
    past = observed.loc[(observed["time"] < before) & observed["aqi"].notna()]
    table = (
        past.assign(hour=past["time"].dt.hour)
        .groupby(["site_id", "hour"], as_index=False)["aqi"]
        .mean()
        .rename(columns={"aqi": "climatology"})
    )
    return table


def baseline_forecasts(
    rows: pd.DataFrame,
    observed: pd.DataFrame,
    climatology: pd.DataFrame,
) -> pd.DataFrame:
    """Return the three baselines for each backtest row.

    Parameters
    ----------
    rows:
        ``site_id``, ``issued_at``, ``target_time``, ``horizon`` (any order).
    observed:
        ``site_id``, ``time``, ``aqi``: observed AQI, NaN or absent when none.
    climatology:
        The table of :func:`hourly_climatology`.

    Returns
    -------
    pandas.DataFrame
        ``rows``' index and keys, plus ``persistence``, ``same_hour_yesterday`` and
        ``climatology`` (float, NaN where the baseline has no value).

    Raises
    ------
    ValidationError
        When ``observed`` lacks one of its columns.
    """
    _check_observed(observed)
    known = observed.loc[observed["aqi"].notna(), ["site_id", "time", "aqi"]]
    known = known.assign(
        aqi=known["aqi"].astype("float64"),
        time=known["time"].dt.as_unit("ns"),
    )
    out = rows.loc[:, ["site_id", "issued_at", "target_time", "horizon"]].copy()
    out["issued_at"] = out["issued_at"].dt.as_unit("ns")
    out["target_time"] = out["target_time"].dt.as_unit("ns")

    out["persistence"] = _persistence(out, known)

    yesterday = out["target_time"] - pd.Timedelta(hours=24)
    lookup = known.set_index(["site_id", "time"])["aqi"]
    keys = pd.MultiIndex.from_arrays([out["site_id"], yesterday])
    out["same_hour_yesterday"] = lookup.reindex(keys).to_numpy()

    clim = climatology.set_index(["site_id", "hour"])["climatology"]
    keys = pd.MultiIndex.from_arrays([out["site_id"], out["target_time"].dt.hour])
    out["climatology"] = clim.reindex(keys).to_numpy()
    return out


def _persistence(rows: pd.DataFrame, known: pd.DataFrame) -> pd.Series:
    """Latest known AQI at or before each row's ``issued_at``, per station."""
    issues = (
        rows.loc[:, ["site_id", "issued_at"]]
        .drop_duplicates()
        .sort_values("issued_at", kind="stable")
    )
    matched = pd.merge_asof(
        issues,
        known.sort_values("time", kind="stable"),
        left_on="issued_at",
        right_on="time",
        by="site_id",
        direction="backward",
        tolerance=PERSISTENCE_MAX_AGE,
    )
    lookup = matched.set_index(["site_id", "issued_at"])["aqi"]
    keys = pd.MultiIndex.from_arrays([rows["site_id"], rows["issued_at"]])
    return pd.Series(lookup.reindex(keys).to_numpy(), index=rows.index)
