"""The station registry: id, Chinese and English name, county, position.

The bundled ``sample_data/stations.csv`` lists the 84 stations of MOENV's
real-time feed as published in 2026 (positions from AQX_P_432). Stations met in
ingested sources are added to ``<home>/stations.parquet`` by the store.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from forecasting.config import SAMPLE_DATA
from forecasting.errors import UnknownStationError

REGISTRY_COLUMNS = ("site_id", "name_zh", "name_en", "county", "latitude", "longitude")


@lru_cache(maxsize=1)
def bundled_registry() -> pd.DataFrame:
    """Return the bundled registry, one row per station, indexed by nothing.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`REGISTRY_COLUMNS`; ``site_id`` is a string.
    """
    frame = pd.read_csv(SAMPLE_DATA / "stations.csv", dtype={"site_id": str})
    return frame.loc[:, list(REGISTRY_COLUMNS)]


def _normalise_name(name: str) -> str:
    """Fold the variants seen in MOENV files: padding, 台/臺, ASCII brackets."""
    return (
        name.strip()
        .replace("台", "臺")
        .replace("(", "（")
        .replace(")", "）")
    )


def site_id_for_name(name: str, registry: pd.DataFrame | None = None) -> str:
    """Return the ``site_id`` of a station named in Chinese (``"仁武"`` -> ``"49"``).

    Raises
    ------
    UnknownStationError
        When no station of that name is in the registry.
    """
    registry = bundled_registry() if registry is None else registry
    wanted = _normalise_name(name)
    names = registry["name_zh"].map(_normalise_name)
    match = registry.loc[names == wanted, "site_id"]
    if match.empty:
        raise UnknownStationError(
            f"station name {name.strip()!r} is not in the station registry; "
            "add it to forecasting/sample_data/stations.csv with its MOENV siteid"
        )
    return str(match.iloc[0])


def station_info(site_id: str, registry: pd.DataFrame | None = None) -> dict:
    """Return one station's registry row as a dict.

    Raises
    ------
    UnknownStationError
        When ``site_id`` is not in the registry.
    """
    registry = bundled_registry() if registry is None else registry
    row = registry.loc[registry["site_id"] == str(site_id)]
    if row.empty:
        raise UnknownStationError(
            f"station_id {site_id!r} is unknown; list the stations with "
            "`aqi-forecast stations` or GET /stations"
        )
    return row.iloc[0].to_dict()
