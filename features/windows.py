"""Feature rows as of an issue hour, built from a station's complete hourly grid.

Every feature of the row for ``(site_id, issued_at)`` reads only values at or
before ``issued_at``: lags shift the grid forward, rolling windows end at
``issued_at``. The calendar of the TARGET hour (:func:`target_calendar`) is the
only look at the future, and it is known in advance.
"""

from __future__ import annotations

import logging
import time as _time
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from features.grid import complete_grid, official_components, wind_uv
from features.network import nearest_stations, network_feature_names, network_features
from features.runs import StationRuns
from features.scenarios import scenario_columns, scenario_feature_names, stored_name
from forecasting.aqi import SUB_INDICES
from forecasting.schema import HORIZONS, MOVING_VALUES

logger = logging.getLogger(__name__)

#: Pollutants whose hourly values enter the features (lags and rolling means).
FEATURE_POLLUTANTS = ("pm2_5", "pm10", "o3", "no2", "so2", "co")


@dataclass(frozen=True)
class FeatureSpec:
    """What a feature row holds; stored in the model bundle so serving rebuilds it.

    Attributes
    ----------
    aqi_lags:
        Hours back of the observed AQI (0 = the value at ``issued_at``).
    pollutant_lags:
        Hours back of each pollutant in ``pollutants``.
    windows:
        Lengths (hours) of the rolling means of AQI and pollutants, ending at
        ``issued_at``; a mean needs at least half its hours present.
    pollutants:
        Hourly concentration columns used.
    last_aqi_hours:
        How far back (hours) the last observed AQI may be carried forward to
        serve as the persistence forecast and the base of change targets.
    sub_indices:
        Add the official sub-indices at ``issued_at`` (which pollutant drives
        the AQI, and how close the others are). Off by default: no gain
        measured on the 2026 data (network validation MAE 7.01 vs 6.99).
    scenarios:
        Add, per horizon, the official AQI and PM/O3 sub-indices of the target
        hour computed as if the air stayed as last observed, or repeated
        yesterday (:mod:`features.scenarios`).
    network_k:
        Neighbouring stations whose AQI, PM2.5 and O3 enter the features
        (:mod:`features.network`); 0 for none. Network features need the other
        stations' hours in the same frame; a one-station frame gets NaN ones.
    network_lags:
        Hours back of the neighbours' means and maxima.
    positions:
        ``(site_id, latitude, longitude)`` of the network the neighbours are
        picked from (filled from the store's registry at training).
    """

    aqi_lags: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 18, 24, 36, 48)
    pollutant_lags: tuple[int, ...] = (0, 1, 2, 3, 6, 12, 24)
    windows: tuple[int, ...] = (3, 6, 12, 24)
    pollutants: tuple[str, ...] = FEATURE_POLLUTANTS
    last_aqi_hours: int = 3
    sub_indices: bool = False
    scenarios: bool = True
    network_k: int = 0
    network_lags: tuple[int, ...] = (0, 1, 3)
    positions: tuple[tuple[str, float, float], ...] = ()

    @property
    def history_hours(self) -> int:
        """Hours of history before ``issued_at`` the features need (moving values
        of the oldest lag included)."""
        return max(max(self.aqi_lags), max(self.pollutant_lags)) + 24 + 1

    def to_dict(self) -> dict:
        """The spec as plain JSON-able data (tuples as lists)."""
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()
        }

    @classmethod
    def from_dict(cls, data: dict) -> FeatureSpec:
        """Rebuild a spec written by :meth:`to_dict`."""
        fields = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        if "positions" in fields:
            fields["positions"] = tuple(
                (str(site), float(lat), float(lon))
                for site, lat, lon in fields["positions"]
            )
        return cls(**fields)

    def neighbours(self) -> dict[str, tuple[str, ...]]:
        """Station id -> its ``network_k`` nearest stations (empty when off)."""
        if self.network_k <= 0:
            return {}
        return nearest_stations(self.positions, self.network_k)


DEFAULT_SPEC = FeatureSpec()

#: Target-calendar columns, added per horizon by :func:`horizon_matrix`.
HORIZON_FEATURES = ("target_hour_sin", "target_hour_cos")


def build_features(
    hourly: pd.DataFrame, spec: FeatureSpec = DEFAULT_SPEC
) -> pd.DataFrame:
    """Feature rows for every station and every hour of its complete grid.

    Parameters
    ----------
    hourly:
        An hourly frame (any order, gaps allowed) as ``HourlyStore.read`` returns.
    spec:
        Which lags and windows to build.

    Returns
    -------
    pandas.DataFrame
        One row per station and grid hour: ``site_id``, ``issued_at`` (the hour
        the row describes), ``aqi_last`` (last observed AQI at most
        ``spec.last_aqi_hours`` old; the persistence forecast), ``has_data``
        (the row existed in ``hourly``), then the feature columns of
        :func:`feature_names` minus the target-calendar ones. Every value of the
        row for ``issued_at`` t depends only on ``hourly`` rows at or before t.

    Raises
    ------
    ValidationError
        From :func:`features.grid.complete_grid` for a malformed frame.
    """
    started = _time.perf_counter()
    present = hourly[["site_id", "time"]].assign(has_data=True)
    grid = complete_grid(hourly)
    grid = grid.merge(present, on=["site_id", "time"], how="left")
    sites = grid["site_id"]
    runs = StationRuns(sites)

    columns: dict[str, pd.Series] = {
        "site_id": sites,
        "issued_at": grid["time"],
    }
    official = official_components(grid)
    aqi = official["aqi"]
    columns["aqi_last"] = runs.ffill(aqi, spec.last_aqi_hours)
    columns["has_data"] = grid["has_data"].eq(True)

    for hours in spec.aqi_lags:
        columns[f"aqi_lag{hours}"] = runs.lag(aqi, hours)
    for window in spec.windows:
        columns[f"aqi_mean{window}h"] = runs.rolling(aqi, window)

    for name in spec.pollutants:
        values = (
            pd.to_numeric(grid[name], errors="coerce").astype("float64")
            if name in grid.columns
            else pd.Series(np.nan, index=grid.index)
        )
        for hours in spec.pollutant_lags:
            columns[f"{name}_lag{hours}"] = runs.lag(values, hours)
        for window in spec.windows:
            columns[f"{name}_mean{window}h"] = runs.rolling(values, window)

    for name in MOVING_VALUES:
        columns[name] = official[name]
    if spec.sub_indices:
        for name in SUB_INDICES:
            columns[name] = official[name]
    if spec.scenarios:
        columns.update(scenario_columns(grid, runs, HORIZONS))

    if spec.network_k > 0:
        series = {"aqi": aqi}
        for name in ("pm2_5", "o3"):
            series[name] = (
                pd.to_numeric(grid[name], errors="coerce")
                if name in grid.columns
                else pd.Series(np.nan, index=grid.index)
            )
        columns.update(
            network_features(
                sites, grid["time"], series, spec.neighbours(), spec.network_lags
            )
        )

    speed = grid["wind_speed"] if "wind_speed" in grid else grid.get("ws_hr")
    direction = grid["wind_direc"] if "wind_direc" in grid else grid.get("wd_hr")
    if speed is None or direction is None:
        speed = direction = pd.Series(np.nan, index=grid.index)
    uv = wind_uv(speed, direction)
    for name in ("wind_u", "wind_v"):
        columns[name] = uv[name]
        columns[f"{name}_mean3h"] = runs.rolling(uv[name], 3)

    hour = grid["time"].dt.hour.to_numpy()
    columns["hour_sin"] = pd.Series(np.sin(2 * np.pi * hour / 24), index=grid.index)
    columns["hour_cos"] = pd.Series(np.cos(2 * np.pi * hour / 24), index=grid.index)
    columns["day_of_week"] = grid["time"].dt.day_of_week.astype("float64")

    out = pd.DataFrame(columns)
    logger.info(
        "build_features: %d stations, %d issue hours, %d features in %.2f s",
        sites.nunique(),
        len(out),
        len(feature_names(spec)),
        _time.perf_counter() - started,
    )
    return out


def target_calendar(issued_at: pd.Series, horizon: int) -> pd.DataFrame:
    """Calendar features of the target hour ``issued_at + horizon`` hours.

    Parameters
    ----------
    issued_at:
        Tz-aware issue hours (Asia/Taipei).
    horizon:
        Hours ahead, 1..12.

    Returns
    -------
    pandas.DataFrame
        ``target_hour_sin``, ``target_hour_cos`` of the target hour of day, on
        ``issued_at``'s index.
    """
    hour = (issued_at + pd.Timedelta(hours=horizon)).dt.hour.to_numpy()
    return pd.DataFrame(
        {
            "target_hour_sin": np.sin(2 * np.pi * hour / 24),
            "target_hour_cos": np.cos(2 * np.pi * hour / 24),
        },
        index=issued_at.index,
    )


def feature_names(spec: FeatureSpec = DEFAULT_SPEC) -> list[str]:
    """Model input columns in order: window features, then per-horizon ones
    (target calendar, scenario AQIs).

    Returns
    -------
    list[str]
        The columns a booster is trained on, in the order it expects them.
    """
    names = [f"aqi_lag{h}" for h in spec.aqi_lags]
    names += [f"aqi_mean{w}h" for w in spec.windows]
    for name in spec.pollutants:
        names += [f"{name}_lag{h}" for h in spec.pollutant_lags]
        names += [f"{name}_mean{w}h" for w in spec.windows]
    names += list(MOVING_VALUES)
    names += ["wind_u", "wind_u_mean3h", "wind_v", "wind_v_mean3h"]
    if spec.sub_indices:
        names += list(SUB_INDICES)
    if spec.network_k > 0:
        names += network_feature_names(spec.network_lags)
    names += ["hour_sin", "hour_cos", "day_of_week"]
    names += list(HORIZON_FEATURES)
    if spec.scenarios:
        names += scenario_feature_names()
    return names


def horizon_matrix(
    features: pd.DataFrame, horizon: int, spec: FeatureSpec = DEFAULT_SPEC
) -> np.ndarray:
    """The float32 model input for one horizon, columns as :func:`feature_names`.

    Parameters
    ----------
    features:
        Rows from :func:`build_features`.
    horizon:
        Hours ahead, 1..12.
    spec:
        The spec the rows were built with.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(features), len(feature_names(spec)))``.
    """
    names = feature_names(spec)
    per_horizon = set(HORIZON_FEATURES) | set(scenario_feature_names())
    shared = [n for n in names if n not in per_horizon]
    parts = [features[shared], target_calendar(features["issued_at"], horizon)]
    if spec.scenarios:
        scenario = features[[stored_name(n, horizon) for n in scenario_feature_names()]]
        parts.append(scenario.set_axis(scenario_feature_names(), axis=1))
    frame = pd.concat(parts, axis=1)[names]
    return frame.to_numpy(dtype="float32", na_value=np.nan)


def targets(features: pd.DataFrame, horizons: tuple[int, ...]) -> pd.DataFrame:
    """Observed AQI at ``issued_at + h`` for each horizon, NaN where unknown.

    Parameters
    ----------
    features:
        Rows from :func:`build_features` (complete grid, sorted).
    horizons:
        Hours ahead.

    Returns
    -------
    pandas.DataFrame
        Columns ``y_h01`` .. on ``features``' index: the AQI observed ``h`` hours
        after the row's ``issued_at`` at the same station (the future: only for
        training and scoring).
    """
    sites = features["site_id"]
    group = sites.ne(sites.shift()).cumsum()
    aqi = features["aqi_lag0"]
    return pd.DataFrame(
        {f"y_h{h:02d}": aqi.groupby(group, sort=False).shift(-h) for h in horizons},
        index=features.index,
    )
