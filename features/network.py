"""What the neighbouring stations and the whole network show at an issue hour.

For each station, its ``k`` nearest stations (by the registry's latitude and
longitude, fixed when the model is trained) give the mean and the maximum of
their AQI, PM2.5 and O3 at a few lags before ``issued_at``, and the change of
the mean over the last 3 hours; the whole network gives its mean AQI (and O3)
change over the last 1 and 3 hours. A plume or an afternoon O3 rise reaches a
station's neighbours first. Every value reads hours at or before ``issued_at``.

A neighbour that is absent from the frame contributes nothing (its values are
NaN), so a one-station history yields NaN network features.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Series whose neighbourhood statistics enter the features.
NETWORK_SERIES = ("aqi", "pm2_5", "o3")
#: Hours back of the network-wide mean changes.
NETWORK_CHANGES = (1, 3)
#: Hours over which the neighbours' mean change is taken.
CHANGE_HOURS = 3


def nearest_stations(
    positions: tuple[tuple[str, float, float], ...], k: int
) -> dict[str, tuple[str, ...]]:
    """The ``k`` nearest other stations of each station, nearest first.

    Parameters
    ----------
    positions:
        ``(site_id, latitude, longitude)`` of every station of the network.
    k:
        Neighbours per station.

    Returns
    -------
    dict
        Station id -> neighbour ids (fewer than ``k`` in a smaller network).
    """
    if not positions:
        return {}
    ids = [p[0] for p in positions]
    lat = np.radians([p[1] for p in positions])
    lon = np.radians([p[2] for p in positions])
    # Equirectangular distance: exact enough across Taiwan's 400 km.
    x = (lon[:, None] - lon[None, :]) * np.cos((lat[:, None] + lat[None, :]) / 2)
    y = lat[:, None] - lat[None, :]
    distance = np.hypot(x, y)
    np.fill_diagonal(distance, np.inf)
    order = np.argsort(distance, axis=1, kind="stable")[:, : min(k, len(ids) - 1)]
    return {site: tuple(ids[j] for j in order[i]) for i, site in enumerate(ids)}


def network_feature_names(lags: tuple[int, ...]) -> list[str]:
    """Columns :func:`network_features` adds, in order.

    Returns
    -------
    list[str]
        Neighbour mean/max per series and lag, neighbour mean change, network
        mean changes.
    """
    names = []
    for series in NETWORK_SERIES:
        names += [f"nb_{series}_mean_lag{h}" for h in lags]
        names += [f"nb_{series}_max_lag{h}" for h in lags]
        names.append(f"nb_{series}_mean_chg{CHANGE_HOURS}h")
    for series in ("aqi", "o3"):
        names += [f"net_{series}_chg{h}h" for h in NETWORK_CHANGES]
    return names


def _shift(wide: np.ndarray, hours: int) -> np.ndarray:
    """Rows moved ``hours`` later (row t holds row t - hours), NaN at the top."""
    if hours == 0:
        return wide
    out = np.full_like(wide, np.nan)
    out[hours:] = wide[:-hours]
    return out


def network_features(
    sites: pd.Series,
    times: pd.Series,
    values: dict[str, pd.Series],
    neighbours: dict[str, tuple[str, ...]],
    lags: tuple[int, ...],
) -> dict[str, pd.Series]:
    """Neighbourhood and network statistics for every row of a complete grid.

    Parameters
    ----------
    sites, times:
        ``site_id`` and ``time`` of the grid rows (complete hourly grid).
    values:
        Hourly series on the grid's index, keyed by :data:`NETWORK_SERIES`.
    neighbours:
        Station id -> neighbour ids (:func:`nearest_stations`); a station
        without an entry gets NaN neighbour features.
    lags:
        Hours back of the neighbour means and maxima.

    Returns
    -------
    dict
        Column name -> series on the grid's index, the columns of
        :func:`network_feature_names`. The row of hour t reads only hours <= t.
    """
    index = sites.index
    first = times.min()
    row = ((times - first) // pd.Timedelta(hours=1)).to_numpy(dtype="int64")
    codes, names = pd.factorize(sites)
    n_hours = int(row.max()) + 1 if len(row) else 0
    column = {site: j for j, site in enumerate(names)}
    missing = len(names)  # an all-NaN column for absent neighbours
    width = max((len(v) for v in neighbours.values()), default=0)
    table = np.full((len(names), max(width, 1)), missing, dtype="int64")
    for site, j in column.items():
        for slot, other in enumerate(neighbours.get(site, ())):
            table[j, slot] = column.get(other, missing)

    out: dict[str, pd.Series] = {}
    for series in NETWORK_SERIES:
        wide = np.full((n_hours, len(names) + 1), np.nan)
        wide[row, codes] = values[series].to_numpy(dtype="float64")
        stats: dict[str, np.ndarray] = {}
        for hours in lags:
            shifted = _shift(wide, hours)[:, table]  # (hours, stations, k)
            present = ~np.isnan(shifted)
            count = present.sum(axis=2)
            total = np.where(present, shifted, 0.0).sum(axis=2)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where(count > 0, total / count, np.nan)
            peak = np.where(present, shifted, -np.inf).max(axis=2)
            stats[f"nb_{series}_mean_lag{hours}"] = mean
            stats[f"nb_{series}_max_lag{hours}"] = np.where(count > 0, peak, np.nan)
        base = stats.get(f"nb_{series}_mean_lag0")
        if base is None:
            base = stats[f"nb_{series}_mean_lag{lags[0]}"]
        stats[f"nb_{series}_mean_chg{CHANGE_HOURS}h"] = base - _shift(
            base, CHANGE_HOURS
        )
        for name in [n for n in network_feature_names(lags) if n in stats]:
            out[name] = pd.Series(stats[name][row, codes], index=index)
        if series in ("aqi", "o3"):
            for hours in NETWORK_CHANGES:
                change = wide - _shift(wide, hours)
                present = ~np.isnan(change)
                count = present.sum(axis=1)
                with np.errstate(invalid="ignore", divide="ignore"):
                    mean = np.where(
                        count > 0,
                        np.where(present, change, 0.0).sum(axis=1) / count,
                        np.nan,
                    )
                out[f"net_{series}_chg{hours}h"] = pd.Series(mean[row], index=index)
    return out
