"""MOENV's long-format hourly datasets: one record per station, item and hour.

The per-station datasets (AQX_P_189 .. AQX_P_264, AQX_P_461), the per-item
ones (e.g. AQX_P_319, PM10 of every station) and AQX_P_13 share the fields
``siteid, sitename, county, itemid, itemname, itemengname, itemunit,
monitordate, concentration`` (CamelCase spellings such as ``SiteId`` and
``ItemEngName`` are accepted too). Records are pivoted by ``itemengname`` into
the hourly frame (``PM2.5`` -> ``pm2_5``, ``AMB_TEMP`` -> ``amb_temp``,
``WIND_DIREC`` -> ``wind_direc``, ``NOx`` -> ``nox`` ...); ``concentration``
may carry the yearly files' markers (:mod:`forecasting.readers._values`).

Timestamp decision: ``monitordate`` (``2022/09/30 08:00:00``, Asia/Taipei) is
taken as the END of the averaging hour, the same convention as AQX_P_432's
``publishtime``, so it becomes ``time`` unchanged. No MOENV document found
states it either way; a public client that merges these datasets with
AQX_P_432 treats the two stamps alike, and MOENV's hourly tables label each
hour by its end. If MOENV were shown to label the hour's start, change
:data:`MONITORDATE_OFFSET` to one hour.

Validation: a second record for the same station, hour and item is a counted
rejection (the first is kept); an item outside the schema is a counted
rejection; a record without station or an unreadable ``monitordate`` stops the
read with :class:`InputFormatError` naming the record.
"""

from __future__ import annotations

import logging
import time as clock

import pandas as pd

from forecasting.errors import InputFormatError
from forecasting.readers._tidy import (
    check_site_ids,
    drop_duplicates,
    finish,
    parse_local_times,
    parse_long,
    records_frame,
)
from forecasting.readers._values import item_column
from forecasting.readers.base import ReadResult, Rejection
from forecasting.schema import MEASUREMENTS

logger = logging.getLogger(__name__)

SOURCE_KIND = "station_hourly"
FIELDS = (
    "siteid",
    "sitename",
    "county",
    "itemid",
    "itemname",
    "itemengname",
    "itemunit",
    "monitordate",
    "concentration",
)
REQUIRED = ("siteid", "itemengname", "monitordate", "concentration")
#: Added to ``monitordate`` to get the hour's end (see the module docstring).
MONITORDATE_OFFSET = pd.Timedelta(0)


def read_station_hourly_frame(raw: pd.DataFrame, source: str) -> ReadResult:
    """Read long-format records laid out as a frame of strings.

    Parameters
    ----------
    raw:
        One row per record with the dataset's fields and a ``line`` column.
    source:
        File or payload name, for provenance, flags and messages.

    Returns
    -------
    ReadResult
        Hourly rows (``source_kind`` "station_hourly"), flags, rejections and
        the stations met.

    Raises
    ------
    InputFormatError
        When a required field is absent or a record has no station or time.
    """
    started = clock.perf_counter()
    frame = raw.rename(
        columns={name: str(name).strip().lower() for name in raw.columns}
    )
    missing = [name for name in REQUIRED if name not in frame.columns]
    if missing:
        raise InputFormatError(
            f"{source}: field(s) {', '.join(missing)} missing; a long-format hourly "
            f"dataset has {', '.join(FIELDS)}"
        )
    site_id = frame["siteid"].astype("string").str.strip().fillna("")
    if (site_id == "").any():
        line = int(frame.loc[(site_id == "").to_numpy(), "line"].iloc[0])
        raise InputFormatError(f"{source}:{line}: field 'siteid' is empty")
    check_site_ids(site_id, frame["line"], source, "siteid")
    time = parse_local_times(frame["monitordate"], frame["line"], source, "monitordate")
    long = pd.DataFrame(
        {
            "site_id": site_id.astype(str).to_numpy(),
            "time": (time + MONITORDATE_OFFSET).to_numpy(),
            "item": frame["itemengname"].astype(str).map(item_column).to_numpy(),
            "item_raw": frame["itemengname"].astype(str).str.strip().to_numpy(),
            "raw": frame["concentration"].astype("string").fillna("").to_numpy(),
            "line": frame["line"].to_numpy(),
            "field": "concentration",
        }
    )

    rejections: list[Rejection] = []
    known = long["item"].isin(MEASUREMENTS).to_numpy()
    for line, item in long.loc[~known, ["line", "item_raw"]].itertuples(index=False):
        rejections.append(
            Rejection(
                source,
                int(line),
                "itemengname",
                f"item {item!r} is not one of the schema's measurements; skipped",
            )
        )
    long, duplicates = drop_duplicates(
        long.loc[known],
        ["site_id", "time", "item"],
        source,
        "monitordate",
        "station, hour and item",
    )
    rejections.extend(duplicates)
    wide, flags, cell_rejections = parse_long(long, source)
    rejections.extend(cell_rejections)

    first = frame.assign(site_id=site_id).drop_duplicates("site_id")
    stations = pd.DataFrame(
        {
            "site_id": first["site_id"].astype(str).to_numpy(),
            "name_zh": first.get("sitename", pd.Series(index=first.index)).to_numpy(),
            "county": first.get("county", pd.Series(index=first.index)).to_numpy(),
        }
    )
    result = ReadResult(
        hourly=finish(wide, SOURCE_KIND, source),
        flags=flags,
        rejections=rejections,
        stations=stations,
    )
    logger.info(
        "read %s: %d records -> %d station-hours, %d flagged, %d rejections in %.2f s",
        source,
        len(frame),
        len(result.hourly),
        len(flags),
        len(rejections),
        clock.perf_counter() - started,
    )
    return result


def read_station_hourly_records(records: list[dict], source: str) -> ReadResult:
    """Read an in-memory long-format payload (the ``records`` of an API answer).

    Parameters
    ----------
    records:
        One dict per station, item and hour.
    source:
        A name for the payload, for provenance, flags and messages.

    Returns
    -------
    ReadResult
        See :func:`read_station_hourly_frame`.

    Raises
    ------
    InputFormatError
        When ``records`` is not a non-empty list of objects, or see
        :func:`read_station_hourly_frame`.
    """
    return read_station_hourly_frame(
        records_frame(records, source, "long-format"), source
    )
