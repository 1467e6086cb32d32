"""AQX_P_432, MOENV's real-time AQI feed: one record per station and hour.

Three spellings of the fields are met and all map to the schema's names:

* the API v2's lower-case names (``siteid, sitename, pm2.5, pm2.5_avg,
  publishtime`` ...), also used by MOENV's CSV download;
* the older CamelCase names (``SiteId, SiteName, PM2.5, PM2.5_AVG, WindSpeed,
  WindDirec, PublishTime`` ...);
* a git scraper's renamed fields (``site_id, site_name, pm2_5, pm2_5_avg,
  publish_time``).

``publishtime`` is Asia/Taipei and marks the END of the averaging hour, which is
the schema's ``time``. Empty strings and ``-`` are missing. ``aqi`` is NaN when
empty or 0: this feed never publishes a real AQI of 0 (a scraper wrote 0 for
"no AQI"), and each 0 is kept raw in the flags. ``pollutant`` and ``status``
stay verbatim, ``None`` when blank. Duplicate station-hours within one payload:
the first record is kept and each later one is a counted rejection.
"""

from __future__ import annotations

import logging
import time as clock

import numpy as np
import pandas as pd

from forecasting.aqi import AQI_INPUTS, aqi_from_moving_values
from forecasting.errors import InputFormatError, UnknownStationError
from forecasting.readers._tidy import (
    check_site_ids,
    drop_duplicates,
    finish,
    make_flags,
    parse_local_times,
    records_frame,
    sort_flags,
)
from forecasting.readers._values import parse_cells
from forecasting.readers.base import ReadResult, Rejection
from forecasting.schema import MEASUREMENTS, MOVING_VALUES
from forecasting.stations import site_id_for_name

logger = logging.getLogger(__name__)

SOURCE_KIND = "realtime"

#: Lower-cased field name -> schema name, for every spelling met.
FIELD_ALIASES: dict[str, str] = {
    "siteid": "site_id",
    "site_id": "site_id",
    "sitename": "site_name",
    "site_name": "site_name",
    "county": "county",
    "aqi": "aqi",
    "pollutant": "pollutant",
    "status": "status",
    "so2": "so2",
    "co": "co",
    "co_8hr": "co_8hr",
    "o3": "o3",
    "o3_8hr": "o3_8hr",
    "pm10": "pm10",
    "pm10_avg": "pm10_avg",
    "pm2.5": "pm2_5",
    "pm2_5": "pm2_5",
    "pm2.5_avg": "pm2_5_avg",
    "pm2_5_avg": "pm2_5_avg",
    "no2": "no2",
    "nox": "nox",
    "no": "no",
    "so2_avg": "so2_avg",
    "wind_speed": "wind_speed",
    "windspeed": "wind_speed",
    "wind_direc": "wind_direc",
    "winddirec": "wind_direc",
    "publishtime": "time",
    "publish_time": "time",
    "longitude": "longitude",
    "latitude": "latitude",
}

#: Share of rows with a published AQI that must agree with the AQI computed
#: from the published moving values; MOENV's own feed agrees on all of them.
MIN_AQI_AGREEMENT = 0.9

#: Fields whose presence marks a record as AQX_P_432.
SIGNATURE = {"publishtime", "publish_time"}
_NUMBERS = tuple(name for name in MEASUREMENTS if name in FIELD_ALIASES.values()) + (
    "aqi",
    *MOVING_VALUES,
)


def _rename(columns: pd.Index) -> dict[str, str]:
    """Map the payload's field names to schema names; unknown fields are dropped."""
    return {
        name: FIELD_ALIASES[str(name).strip().lower()]
        for name in columns
        if str(name).strip().lower() in FIELD_ALIASES
    }


def _site_ids(frame: pd.DataFrame, source: str) -> pd.Series:
    """Return ``site_id`` strings, from ``siteid`` or, failing that, the name."""
    if "site_id" in frame.columns:
        ids = frame["site_id"].astype("string").str.strip()
        if not ids.isna().any() and not (ids == "").any():
            check_site_ids(ids, frame["line"], source, "siteid")
            return ids.astype(str)
        line = int(frame.loc[ids.isna() | (ids == ""), "line"].iloc[0])
        raise InputFormatError(
            f"{source}:{line}: field 'siteid' is empty; every AQX_P_432 record "
            "needs its station id"
        )
    if "site_name" not in frame.columns:
        raise InputFormatError(
            f"{source}: neither 'siteid' nor 'sitename' is present; this is not "
            "an AQX_P_432 payload"
        )
    ids = {}
    for name, line in zip(frame["site_name"], frame["line"], strict=True):
        if name not in ids:
            try:
                ids[name] = site_id_for_name(str(name))
            except UnknownStationError as error:
                raise InputFormatError(f"{source}:{int(line)}: {error}") from None
    return frame["site_name"].map(ids).astype(str)


def _check_published_aqi(out: pd.DataFrame, names: dict[str, str], source: str) -> None:
    """Refuse a payload whose published AQI disagrees with its own moving values.

    MOENV's feed agrees on every row (tests/data/RULES.md); shuffled columns
    (say ``aqi`` and ``pm2.5`` swapped in a CSV header) agree on few.

    Parameters
    ----------
    out:
        ``time``, ``aqi`` and the :data:`forecasting.aqi.AQI_INPUTS` present.
    names:
        Schema name -> the payload's own field name, for the message.
    source:
        File or payload name.

    Raises
    ------
    InputFormatError
        When fewer than :data:`MIN_AQI_AGREEMENT` of the rows with a published
        AQI get the same AQI from the published moving values.
    """
    needed = ("aqi", "pm2_5_avg", "pm10_avg", "o3_8hr")
    published = out["aqi"].notna() if "aqi" in out.columns else None
    if published is None or not published.any():
        return
    if any(name not in out.columns for name in needed):
        return
    computed = aqi_from_moving_values(out.loc[published])["aqi"]
    agree = int((computed == out.loc[published, "aqi"]).sum())
    total = int(published.sum())
    if agree >= MIN_AQI_AGREEMENT * total:
        return
    fields = ", ".join(
        repr(names.get(name, name))
        for name in ("aqi", *AQI_INPUTS)
        if name in out.columns
    )
    raise InputFormatError(
        f"{source}: the AQI computed from the published moving values equals field "
        f"{names.get('aqi', 'aqi')!r} on only {agree} of {total} rows with a "
        f"published AQI (MOENV's feed agrees on all); the columns look shuffled: "
        f"check the header order of {fields}"
    )


def _stations(frame: pd.DataFrame) -> pd.DataFrame:
    """Return one registry row per station met in the payload."""
    first = frame.drop_duplicates("site_id")
    out = pd.DataFrame({"site_id": first["site_id"].to_numpy()})
    out["name_zh"] = first.get("site_name", pd.Series(index=first.index)).to_numpy()
    out["county"] = first.get("county", pd.Series(index=first.index)).to_numpy()
    for axis in ("latitude", "longitude"):
        if axis in first.columns:
            out[axis] = pd.to_numeric(first[axis], errors="coerce").to_numpy()
    return out


def read_aqx_p_432_frame(raw: pd.DataFrame, source: str) -> ReadResult:
    """Read AQX_P_432 records already laid out as a frame of strings.

    Parameters
    ----------
    raw:
        One row per record, the payload's own field names, a ``line`` column
        (record position from 1, or the CSV line).
    source:
        File or payload name, used in provenance, flags and messages.

    Returns
    -------
    ReadResult
        Hourly rows with the published AQI fields, flags, rejections, stations.

    Raises
    ------
    InputFormatError
        When the station or publish time of a record is missing or unreadable.
    """
    started = clock.perf_counter()
    frame = raw.rename(columns=_rename(raw.columns))
    if "time" not in frame.columns:
        raise InputFormatError(
            f"{source}: field 'publishtime' is missing; this is not an AQX_P_432 "
            "payload (expected siteid, sitename, aqi, ..., publishtime)"
        )
    frame = frame.loc[:, ~frame.columns.duplicated()].copy()
    frame["site_id"] = _site_ids(frame, source)
    frame["time"] = parse_local_times(
        frame["time"], frame["line"], source, "publishtime"
    )
    frame, rejections = drop_duplicates(
        frame, ["site_id", "time"], source, "publishtime", "station-hour"
    )

    out = frame.loc[:, ["site_id", "time"]].copy()
    flags = []
    for name in _NUMBERS:
        if name not in frame.columns:
            continue
        cells = frame[name].astype("string")
        parsed = parse_cells(cells, name, dash_is_missing=True)
        values = parsed.values
        flagged = parsed.flagged
        if name == "aqi":
            zero = values == 0
            values = np.where(zero, np.nan, values)
            flagged = flagged | zero
        out[name] = values
        if flagged.any():
            flags.append(
                make_flags(
                    frame["site_id"][flagged],
                    frame["time"][flagged],
                    name,
                    cells[flagged],
                    source,
                )
            )
        for position, reason in parsed.reasons.items():
            rejections.append(
                Rejection(source, int(frame["line"].iloc[position]), name, reason)
            )
    for name in ("pollutant", "status"):
        if name in frame.columns:
            text = frame[name].astype("string").str.strip()
            out[name] = frame[name].where(text.fillna("") != "", None)

    _check_published_aqi(
        out, {new: str(old) for old, new in _rename(raw.columns).items()}, source
    )
    result = ReadResult(
        hourly=finish(out, SOURCE_KIND, source),
        flags=sort_flags(flags),
        rejections=rejections,
        stations=_stations(frame),
    )
    logger.info(
        "read %s: %d station-hours, %d stations, %d flagged cells, %d rejections "
        "in %.2f s",
        source,
        len(result.hourly),
        len(result.stations),
        len(result.flags),
        len(rejections),
        clock.perf_counter() - started,
    )
    return result


def read_aqx_p_432_records(records: list[dict], source: str) -> ReadResult:
    """Read an in-memory AQX_P_432 payload (the ``records`` of an API answer).

    Parameters
    ----------
    records:
        One dict per station-hour, in any of the three field spellings.
    source:
        A name for the payload, used in provenance, flags and messages.

    Returns
    -------
    ReadResult
        See :func:`read_aqx_p_432_frame`.

    Raises
    ------
    InputFormatError
        When ``records`` is not a list of objects, or a record lacks its station
        or publish time.
    """
    return read_aqx_p_432_frame(records_frame(records, source, "AQX_P_432"), source)
