"""What the service answers, as plain functions: store -> features -> bundle -> dict.

Nothing here knows about HTTP, so the CLI's ``forecast`` and the tests call the
same code as the BentoML service. Every function reads only the hours of the one
station it is asked about.
"""

from __future__ import annotations

import logging
import time as clock
from typing import TYPE_CHECKING, Any

import pandas as pd

from forecasting.aqi_tables import STATUS_BANDS
from forecasting.config import REGISTERED_MODEL
from forecasting.errors import ModelNotFoundError, StoreError, UnknownStationError
from forecasting.stations import REGISTRY_COLUMNS, station_info

if TYPE_CHECKING:
    from forecasting.store import HourlyStore
    from training.bundle import ForecastBundle

log = logging.getLogger(__name__)

#: Hours read for the current AQI: the 24 h SO2 window plus a margin for gaps.
CURRENT_AQI_HOURS = 36

#: Columns of :func:`forecasting.aqi.compute_aqi` returned, renamed, in the answer.
SUB_INDICES = {
    "si_pm2_5": "pm2_5",
    "si_pm10": "pm10",
    "si_o3_8hr": "o3_8hr",
    "si_o3": "o3",
    "si_co": "co",
    "si_so2": "so2",
    "si_no2": "no2",
}
MOVING_VALUES = ("pm2_5_avg", "pm10_avg", "o3_8hr", "co_8hr", "so2_avg")
CONCENTRATIONS = ("pm2_5", "pm10", "o3", "co", "so2", "no2")
PROBABILITIES = (
    "p_good",
    "p_moderate",
    "p_usg",
    "p_unhealthy",
    "p_very_unhealthy",
    "p_hazardous",
)

#: Decimals of the forecast AQI values and of the band probabilities served.
AQI_DIGITS = 1
PROBABILITY_DIGITS = 3


def _number(value: Any, digits: int | None = None) -> float | None:
    """Return ``value`` as a float (rounded to ``digits``), None for NaN / missing."""
    if value is None or pd.isna(value):
        return None
    return float(value) if digits is None else round(float(value), digits)


def _text(value: Any) -> str | None:
    """Return ``value`` as a string, or None for NaN / missing / blank."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    value = str(value).strip()
    return value or None


def band(aqi: float | None) -> str | None:
    """Return MOENV's status band (Chinese) of an AQI value, None for no value."""
    if aqi is None or pd.isna(aqi):
        return None
    rounded = round(float(aqi))
    names = [name for upper, name, *_ in STATUS_BANDS if rounded <= upper]
    return names[0] if names else STATUS_BANDS[-1][1]


def station_list(
    store: HourlyStore, registry: pd.DataFrame | None = None
) -> list[dict]:
    """Return every station of the store's registry, sorted by numeric id.

    ``registry`` (as ``store.registry()`` returns it) saves re-reading it.

    Returns
    -------
    list of dict
        ``station_id, name_zh, name_en, county, latitude, longitude``.
    """
    registry = store.registry() if registry is None else registry
    order = pd.to_numeric(registry["site_id"], errors="coerce")
    registry = registry.assign(_order=order).sort_values(["_order", "site_id"])
    return [_station_fields(row) for row in registry.to_dict("records")]


def _station_fields(row: dict) -> dict:
    """Return the registry fields of one station under the API's names."""
    fields = {"station_id": str(row["site_id"])}
    for column in REGISTRY_COLUMNS[1:]:
        value = row.get(column)
        if column in ("latitude", "longitude"):
            fields[column] = _number(value)
        else:
            fields[column] = _text(value)
    fields["name_zh"] = fields["name_zh"] or fields["station_id"]
    return fields


def station(
    store: HourlyStore, site_id: str, registry: pd.DataFrame | None = None
) -> dict:
    """Return one station's registry fields (``registry`` saves re-reading it).

    Raises
    ------
    UnknownStationError
        When ``site_id`` is not in the store's registry; the message names
        ``station_id`` and says how to list the stations.
    """
    registry = store.registry() if registry is None else registry
    return _station_fields(station_info(site_id, registry))


def _latest(store: HourlyStore, site_id: str) -> pd.Timestamp:
    """Return the station's latest stored hour.

    Raises
    ------
    UnknownStationError
        When the store has no hour of that station.
    """
    latest = store.latest_time(site_id)
    if latest is None:
        raise UnknownStationError(
            f"station_id {site_id!r} has no data in the store; ingest MOENV "
            "records for it first (`aqi-forecast ingest`)"
        )
    return latest


def current_aqi(
    store: HourlyStore,
    site_id: str,
    prefer_published: bool = True,
    registry: pd.DataFrame | None = None,
) -> dict:
    """Return the official AQI of a station at its latest stored hour.

    The moving values are the ones MOENV published for that hour when the store
    has them (the real-time feed does; MOENV averages O3 over decimals its feed
    drops, so recomputing them from the hourly integers is off by one now and
    then), else they are computed with :func:`forecasting.aqi.compute_aqi` from
    the station's last :data:`CURRENT_AQI_HOURS` hours. The sub-indices, AQI,
    pollutant and status follow from them by MOENV's rules
    (:func:`forecasting.aqi.aqi_from_moving_values`). The AQI MOENV published is
    returned beside the result when stored.

    Parameters
    ----------
    store:
        The hourly store.
    site_id:
        MOENV station id.
    prefer_published:
        Use MOENV's published moving values where stored; False always
        recomputes them from the hourly concentrations.
    registry:
        The store's registry, when the caller keeps it; read when None.

    Returns
    -------
    dict
        The fields of :class:`serving.schemas.CurrentAqiResponse`.

    Raises
    ------
    UnknownStationError
        When the station is not in the registry or has no stored hour.
    """
    from forecasting.aqi import aqi_from_moving_values, compute_aqi

    started = clock.perf_counter()
    answer = station(store, site_id, registry)
    latest = _latest(store, site_id)
    start = latest - pd.Timedelta(hours=CURRENT_AQI_HOURS - 1)
    hourly = store.read(stations=[site_id], start=start, end=latest)

    computed = compute_aqi(hourly)
    at_latest = (hourly["time"] == latest).to_numpy()
    observed = hourly.loc[at_latest].iloc[[-1]]
    inputs = observed.loc[:, ["time"]].copy()
    sources = set()
    for name in MOVING_VALUES:
        published = observed[name] if name in observed.columns else None
        if prefer_published and published is not None and published.notna().all():
            inputs[name] = published.astype("float64")
            sources.add("published")
        else:
            inputs[name] = computed.loc[observed.index, name]
            sources.add("computed")
    for name in ("o3", "so2", "no2"):
        inputs[name] = observed[name] if name in observed.columns else float("nan")
    row = aqi_from_moving_values(inputs).iloc[0]
    moving = inputs.iloc[0]
    observed = observed.iloc[0]

    answer.update(
        time=latest.to_pydatetime(),
        aqi=_number(row["aqi"]),
        pollutant=_text(row["pollutant"]),
        status=_text(row["status"]),
        status_en=_text(row["status_en"]),
        color=_text(row["color"]),
        sub_indices={name: _number(row[col]) for col, name in SUB_INDICES.items()},
        moving_values={name: _number(moving[name]) for name in MOVING_VALUES},
        moving_values_source="+".join(sorted(sources)),
        concentrations={name: _number(observed.get(name)) for name in CONCENTRATIONS},
        published_aqi=_number(observed.get("aqi")),
    )
    log.info(
        "current_aqi station=%s time=%s aqi=%s (%s moving values) in %.1f ms",
        site_id,
        latest.isoformat(),
        answer["aqi"],
        answer["moving_values_source"],
        (clock.perf_counter() - started) * 1000,
    )
    return answer


def forecast(
    store: HourlyStore,
    bundle: ForecastBundle,
    site_id: str,
    model: str,
    registry: pd.DataFrame | None = None,
) -> dict:
    """Return the 12-hour forecast of a station, issued at its latest stored hour.

    Parameters
    ----------
    store:
        The hourly store; only this station's last ``bundle.history_hours``
        hours are read.
    bundle:
        The loaded champion (or other) model set.
    site_id:
        MOENV station id.
    model:
        Label of the model set (registered version and run), echoed back.
    registry:
        The store's registry, when the caller keeps it; read when None.

    Returns
    -------
    dict
        The fields of :class:`serving.schemas.ForecastResponse`.

    Raises
    ------
    UnknownStationError
        When the station is not in the registry or has no stored hour.
    ModelNotFoundError
        When the bundle has no model for this station.
    StoreError
        When the station's stored history is too short to forecast from.
    """
    started = clock.perf_counter()
    answer = station(store, site_id, registry)
    if not has_model(bundle, site_id):
        raise ModelNotFoundError(
            f"station_id {site_id!r} is known but model {model} has no forecaster "
            "for it; train it with `aqi-forecast train --stations "
            f"{site_id}` or ask for another station"
        )
    latest = _latest(store, site_id)
    start = latest - pd.Timedelta(hours=int(bundle.history_hours))
    history = store.read(stations=[site_id], start=start, end=latest)
    frame = bundle.forecast(history, issued_at=latest)
    frame = frame.loc[frame["site_id"] == site_id].sort_values("horizon")
    if frame.empty:
        raise StoreError(
            f"station_id {site_id!r}: the hours stored up to {latest.isoformat()} "
            f"do not give model {model} the {bundle.history_hours} hours of history "
            "it needs; ingest this station's recent MOENV records"
        )

    answer.update(
        issued_at=latest.to_pydatetime(),
        model=model,
        forecasts=[_forecast_entry(row) for row in frame.to_dict("records")],
    )
    log.info(
        "forecast station=%s issued_at=%s in %.1f ms",
        site_id,
        latest.isoformat(),
        (clock.perf_counter() - started) * 1000,
    )
    return answer


def _forecast_entry(row: dict) -> dict:
    """Return one row of ``ForecastBundle.forecast`` under the API's names.

    The AQI values are rounded to 1 decimal and the band probabilities to 3 (more
    digits only suggest a precision the models do not have); the status is the
    band of the rounded AQI, so that an answer agrees with itself.
    """
    aqi = _number(row["aqi_pred"], AQI_DIGITS)
    entry = {
        "target_time": pd.Timestamp(row["target_time"]).to_pydatetime(),
        "horizon": int(row["horizon"]),
        "aqi": aqi,
        "aqi_p10": _number(row.get("aqi_p10"), AQI_DIGITS),
        "aqi_p90": _number(row.get("aqi_p90"), AQI_DIGITS),
        "status": band(aqi),
    }
    entry.update(
        {name: _number(row.get(name), PROBABILITY_DIGITS) for name in PROBABILITIES}
    )
    return entry


def has_model(bundle: ForecastBundle, site_id: str) -> bool:
    """Return whether ``bundle`` holds a forecaster for ``site_id``."""
    return str(site_id) in bundle.stations


def model_label(bundle: ForecastBundle, ref: str) -> str:
    """Return how answers name a loaded bundle, e.g. ``aqi-forecast v3 (run 1f2e..)``.

    Returns
    -------
    str
        Registered version and MLflow run id from the bundle's metadata, or
        ``ref`` alone when the bundle was not loaded from the registry.
    """
    meta = bundle.metadata
    version, run_id = meta.get("version"), meta.get("run_id")
    if version is None and run_id is None:
        return ref
    return f"{REGISTERED_MODEL} v{version} (run {run_id}, {ref})"
