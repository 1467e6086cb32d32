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
    return name.strip().replace("台", "臺").replace("(", "（").replace(")", "）")


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


def registry_frame(seen: pd.DataFrame) -> pd.DataFrame:
    """Return stations in :data:`REGISTRY_COLUMNS` with fixed dtypes, one per id.

    Missing columns are filled with None; text is object (None when missing),
    positions float64.
    """
    frame = pd.DataFrame(index=range(len(seen)))
    for name in REGISTRY_COLUMNS:
        if name in seen.columns:
            frame[name] = seen[name].to_numpy()
        else:
            frame[name] = None
    frame["site_id"] = frame["site_id"].astype(str).str.strip()
    for name in ("name_zh", "name_en", "county"):
        values = frame[name].astype(object)
        frame[name] = values.where(values.notna(), None)
    for name in ("latitude", "longitude"):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    return frame.drop_duplicates("site_id", keep="last")


def merge_seen_stations(
    before: pd.DataFrame | None, seen: pd.DataFrame
) -> pd.DataFrame:
    """Merge stations met in a source into the stations met so far.

    A field the new source gives replaces the one kept; a field it lacks keeps
    the value already known.

    Returns
    -------
    pandas.DataFrame
        :data:`REGISTRY_COLUMNS`, one row per ``site_id``, sorted by id.
    """
    new = registry_frame(seen).set_index("site_id")
    if before is None or before.empty:
        merged = new
    else:
        merged = new.combine_first(registry_frame(before).set_index("site_id"))
    merged = merged.reset_index().loc[:, list(REGISTRY_COLUMNS)]
    merged = registry_frame(merged)
    order = merged["site_id"].map(lambda s: (len(s), s))
    return merged.iloc[order.argsort(kind="stable")].reset_index(drop=True)


def merge_registry(seen: pd.DataFrame | None) -> pd.DataFrame:
    """Return the bundled registry completed by stations met in sources.

    A bundled station keeps its bundled fields; one that is missing there is
    filled from the sources. A station known only from sources is appended with
    ``name_en`` None.

    Returns
    -------
    pandas.DataFrame
        :data:`REGISTRY_COLUMNS`, bundled stations first, then the others by id.
    """
    bundled = bundled_registry().copy()
    if seen is None or seen.empty:
        return bundled
    seen = registry_frame(seen)
    known = seen["site_id"].isin(bundled["site_id"])
    filler = seen.loc[known].set_index("site_id")
    merged = bundled.set_index("site_id").combine_first(filler)
    merged = merged.loc[bundled["site_id"]].reset_index()
    extra = seen.loc[~known].assign(name_en=None)
    merged = pd.concat([merged, extra], ignore_index=True)
    return merged.loc[:, list(REGISTRY_COLUMNS)]
