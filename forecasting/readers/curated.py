"""The curated layout of the bundled yearly data: ``*.hourly.parquet`` + flags.

``<name>.hourly.parquet`` holds one row per station-hour (``site_id``,
``site_name``, ``county``, tz-aware ``time`` = hour end, float item columns,
``source_repo``/``source_path``); the sibling ``<name>.flags.parquet`` holds every
non-numeric cell (``site_id, site_name, time, item, raw``) with MOENV's item
names, which are mapped to schema columns here. Rows are ``source_kind``
"yearly".

Validation: a ``time`` column without a timezone is an :class:`InputFormatError`
(a tidy input must say which clock it uses); so are a missing ``site_id`` or
``time`` column and an unreadable file. A repeated station-hour is a counted
rejection (the first row is kept); a value outside the item's physical bounds
is a counted rejection of that cell (NaN, the value kept in the flags).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.config import TIMEZONE
from forecasting.errors import InputFormatError
from forecasting.readers._tidy import (
    TIME_DTYPE,
    check_site_ids,
    drop_duplicates,
    empty_flags,
    finish,
    make_flags,
    sort_flags,
)
from forecasting.readers._values import BOUNDS, item_column
from forecasting.readers.base import ReadResult, Rejection
from forecasting.schema import MEASUREMENTS

logger = logging.getLogger(__name__)

SOURCE_KIND = "yearly"
HOURLY_SUFFIX = ".hourly.parquet"
FLAGS_SUFFIX = ".flags.parquet"


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as error:  # pyarrow raises many types for a broken file
        raise InputFormatError(
            f"{path.name}: cannot be read as Parquet ({type(error).__name__}: "
            f"{error}); the file may be cut short"
        ) from None


def _aware_time(frame: pd.DataFrame, name: str) -> pd.Series:
    time = frame["time"]
    if not isinstance(time.dtype, pd.DatetimeTZDtype):
        raise InputFormatError(
            f"{name}: field 'time' has no timezone ({time.dtype}); store tidy "
            "hours as tz-aware timestamps (Asia/Taipei or UTC)"
        )
    return time.dt.tz_convert(TIMEZONE).astype(TIME_DTYPE)


def read_curated(path: Path) -> ReadResult:
    """Read a curated ``*.hourly.parquet`` and its sibling ``*.flags.parquet``.

    Returns
    -------
    ReadResult
        Hourly rows (``source_kind`` "yearly"), flags with schema item names,
        rejections and the stations met.

    Raises
    ------
    InputFormatError
        When a file cannot be read, ``site_id``/``time`` is missing, or ``time``
        has no timezone.
    """
    source = path.name
    frame = _read_parquet(path)
    for column in ("site_id", "time"):
        if column not in frame.columns:
            raise InputFormatError(
                f"{source}: field {column!r} is missing; a curated hourly file has "
                "site_id, time and one column per item"
            )
    frame = frame.assign(
        site_id=frame["site_id"].astype(str),
        time=_aware_time(frame, source),
        line=np.arange(1, len(frame) + 1),
    )
    check_site_ids(frame["site_id"], frame["line"], source, "site_id")
    frame, rejections = drop_duplicates(
        frame, ["site_id", "time"], source, "time", "station-hour"
    )

    flags = [_sibling_flags(path)]
    for item in (name for name in MEASUREMENTS if name in frame.columns):
        values = pd.to_numeric(frame[item], errors="coerce").astype("float64")
        low, high = BOUNDS.get(item, (-np.inf, np.inf))
        outside = (values < low) | (values > high)
        if outside.any():
            for line, value in zip(
                frame.loc[outside, "line"], values[outside], strict=True
            ):
                rejections.append(
                    Rejection(
                        source,
                        int(line),
                        item,
                        f"{value:g} is outside the physical range {low:g}..{high:g} "
                        f"of {item}",
                    )
                )
            flags.append(
                make_flags(
                    frame.loc[outside, "site_id"],
                    frame.loc[outside, "time"],
                    item,
                    values[outside].map("{:g}".format),
                    source,
                )
            )
            values = values.mask(outside)
        frame[item] = values

    first = frame.drop_duplicates("site_id")
    stations = pd.DataFrame(
        {
            "site_id": first["site_id"].to_numpy(),
            "name_zh": first.get("site_name", pd.Series(index=first.index)).to_numpy(),
            "county": first.get("county", pd.Series(index=first.index)).to_numpy(),
        }
    )
    result = ReadResult(
        hourly=finish(frame, SOURCE_KIND, source),
        flags=sort_flags(flags),
        rejections=rejections,
        stations=stations,
    )
    logger.info(
        "read %s: %d station-hours, %d flags, %d rejections",
        source,
        len(result.hourly),
        len(result.flags),
        len(rejections),
    )
    return result


def _sibling_flags(path: Path) -> pd.DataFrame:
    """Return the flags of ``<name>.flags.parquet`` next to the hourly file."""
    sibling = path.with_name(path.name[: -len(HOURLY_SUFFIX)] + FLAGS_SUFFIX)
    if not path.name.endswith(HOURLY_SUFFIX) or not sibling.exists():
        return empty_flags()
    flags = _read_parquet(sibling)
    missing = {"site_id", "time", "item", "raw"} - set(flags.columns)
    if missing:
        raise InputFormatError(
            f"{sibling.name}: field(s) {', '.join(sorted(missing))} missing; a flags "
            "file has site_id, time, item, raw"
        )
    return make_flags(
        flags["site_id"].astype(str),
        _aware_time(flags, sibling.name),
        flags["item"].astype(str).map(item_column),
        flags["raw"],
        path.name,
    )
