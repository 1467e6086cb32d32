"""Shared steps of every reader: cells to numbers, duplicates, the output frame."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.config import TIMEZONE
from forecasting.errors import InputFormatError
from forecasting.readers._values import parse_cells
from forecasting.readers.base import Rejection
from forecasting.schema import (
    FLAG_COLUMNS,
    MEASUREMENTS,
    PUBLISHED_NUMBERS,
    PUBLISHED_TEXT,
)

TIME_DTYPE = f"datetime64[us, {TIMEZONE}]"
_NUMERIC_ORDER = MEASUREMENTS + PUBLISHED_NUMBERS


def empty_flags() -> pd.DataFrame:
    """Return an empty flags frame with the schema's columns."""
    frame = pd.DataFrame({name: pd.Series(dtype="string") for name in FLAG_COLUMNS})
    frame["time"] = pd.Series(dtype=TIME_DTYPE)
    return frame


def make_flags(
    site_id: pd.Series,
    time: pd.Series,
    item: str | pd.Series,
    raw: pd.Series,
    source: str,
) -> pd.DataFrame:
    """Return a flags frame (``FLAG_COLUMNS``) for the given cells."""
    return pd.DataFrame(
        {
            "site_id": site_id.astype("string").to_numpy(),
            "time": pd.Series(time).astype(TIME_DTYPE).to_numpy(),
            "item": item if isinstance(item, str) else item.to_numpy(),
            "raw": raw.astype("string").str.strip().to_numpy(),
            "source": source,
        }
    ).astype({"site_id": "string", "item": "string", "raw": "string"})


def drop_duplicates(
    frame: pd.DataFrame, keys: list[str], source: str, field: str, what: str
) -> tuple[pd.DataFrame, list[Rejection]]:
    """Keep the first row of each key, reject the later ones by line.

    Parameters
    ----------
    frame:
        Rows with the ``keys`` columns and a ``line`` column (1-based).
    keys:
        Columns that must be unique within one file.
    source, field, what:
        File name, the field named in the rejection, and a noun for the key.

    Returns
    -------
    tuple
        The rows without later duplicates, and one rejection per dropped row.
    """
    duplicated = frame.duplicated(keys, keep="first")
    if not duplicated.any():
        return frame, []
    first_line = frame.groupby(keys, sort=False)["line"].transform("first")
    rejections = [
        Rejection(
            source=source,
            line=int(line),
            field=field,
            reason=f"duplicate {what} (first seen on line {int(first)}); "
            "the first occurrence is kept",
        )
        for line, first in zip(
            frame.loc[duplicated, "line"], first_line[duplicated], strict=True
        )
    ]
    return frame.loc[~duplicated], rejections


def parse_long(
    long: pd.DataFrame, source: str, dash_is_missing: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame, list[Rejection]]:
    """Parse a long frame of raw cells and pivot it to one row per station-hour.

    Parameters
    ----------
    long:
        Columns ``site_id, time, item`` (schema column), ``raw`` (cell text),
        ``line`` and ``field`` (where the cell is in the source), unique by
        ``site_id, time, item``.
    source:
        File name, for flags and rejections.
    dash_is_missing:
        See :func:`forecasting.readers._values.parse_cells`.

    Returns
    -------
    tuple
        The wide frame (``site_id, time`` and one float column per item), the
        flags and the rejections.
    """
    values = np.full(len(long), np.nan)
    flagged = np.zeros(len(long), dtype=bool)
    rejections: list[Rejection] = []
    positions = long.groupby("item", sort=False).indices
    for item, index in positions.items():
        cells = long.iloc[index]
        parsed = parse_cells(cells["raw"], str(item), dash_is_missing)
        values[index] = parsed.values
        flagged[index] = parsed.flagged
        for position, reason in parsed.reasons.items():
            row = cells.iloc[position]
            rejections.append(
                Rejection(source, int(row["line"]), str(row["field"]), reason)
            )

    marked = long.loc[flagged]
    flags = make_flags(
        marked["site_id"], marked["time"], marked["item"], marked["raw"], source
    )
    tidy = long.loc[:, ["site_id", "time", "item"]].assign(value=values)
    wide = tidy.pivot(index=["site_id", "time"], columns="item", values="value")
    wide.columns.name = None
    return wide.reset_index(), flags, rejections


def check_site_ids(
    ids: pd.Series, lines: pd.Series | None, source: str, field: str
) -> None:
    """Refuse station ids that are not MOENV station ids (digits only).

    A header whose ``siteid`` and ``sitename`` are swapped would otherwise
    create one fake station per name (ids such as '龍潭').

    Parameters
    ----------
    ids:
        Station ids as strings.
    lines:
        Line (or record) number of each id on the same index, or None when
        lines are no longer known.
    source, field:
        File name and the source field the ids come from, for the message.

    Raises
    ------
    InputFormatError
        Naming the file, the first bad line and ``field`` when an id is not
        made of digits only.
    """
    text = ids.astype("string").str.strip().fillna("")
    bad = ~text.str.fullmatch(r"[0-9]+").fillna(False).astype(bool)
    if not bad.any():
        return
    where = source
    if lines is not None:
        where = f"{source}:{int(lines[bad].iloc[0])}"
    raise InputFormatError(
        f"{where}: field {field!r} holds {text[bad].iloc[0]!r}, which is not a MOENV "
        "station id (digits only, e.g. '12', '139'); check the header order "
        "(are 'siteid' and 'sitename' swapped?)"
    )


def finish(frame: pd.DataFrame, source_kind: str, source: str) -> pd.DataFrame:
    """Return the hourly frame in the schema's column order, typed and sorted.

    Columns not in the schema are left out; measurement and published numbers
    become float64, ``time`` tz-aware Asia/Taipei.

    Raises
    ------
    InputFormatError
        When a ``site_id`` is not a MOENV station id (a reader checks it with
        its lines first; this is the backstop for every format).
    """
    check_site_ids(frame["site_id"], None, source, "site_id")
    numeric = [name for name in _NUMERIC_ORDER if name in frame.columns]
    text = [name for name in PUBLISHED_TEXT if name in frame.columns]
    out = frame.loc[:, ["site_id", "time", *numeric, *text]].copy()
    out["site_id"] = out["site_id"].astype(str)
    out["time"] = pd.Series(out["time"]).astype(TIME_DTYPE)
    out[numeric] = out[numeric].astype("float64")
    for name in text:
        out[name] = out[name].astype(object).where(out[name].notna(), None)
    out["source_kind"] = source_kind
    out["source"] = source
    return out.sort_values(["site_id", "time"], kind="stable").reset_index(drop=True)


def sort_flags(flags: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate flags frames and sort them by station, hour and item."""
    parts = [part for part in flags if not part.empty]
    if not parts:
        return empty_flags()
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["site_id", "time", "item"], kind="stable").reset_index(
        drop=True
    )


_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"


def parse_local_times(
    text: pd.Series, lines: pd.Series, source: str, field: str
) -> pd.Series:
    """Parse MOENV time stamps: Asia/Taipei unless they carry an offset.

    Parameters
    ----------
    text:
        Time stamps such as ``2026/07/03 22:00:00`` or ``2026-07-03T14:00Z``.
    lines:
        Line (or record) number of each stamp, for the error message.
    source, field:
        File name and field name, for the error message.

    Returns
    -------
    pandas.Series
        Tz-aware Asia/Taipei times on the same index.

    Raises
    ------
    InputFormatError
        When a stamp is empty or not a date and time.
    """
    clean = text.astype("string").str.strip().fillna("")
    unique = pd.Series(clean.unique())
    parsed = pd.Series(pd.NaT, index=unique.index, dtype=TIME_DTYPE)
    with_offset = unique.str.contains(_OFFSET).fillna(False)
    if with_offset.any():
        aware = pd.to_datetime(
            unique[with_offset], format="ISO8601", utc=True, errors="coerce"
        )
        parsed[with_offset] = aware.dt.tz_convert(TIMEZONE)
    if (~with_offset).any():
        naive = pd.to_datetime(
            unique[~with_offset].str.replace("/", "-", regex=False),
            format="mixed",
            errors="coerce",
        )
        parsed[~with_offset] = naive.dt.tz_localize(TIMEZONE)
    bad = parsed.isna() | (unique == "")
    if bad.any():
        stamp = unique[bad].iloc[0]
        line = lines[clean == stamp].iloc[0]
        raise InputFormatError(
            f"{source}:{int(line)}: field {field!r} holds {stamp!r}, which is not a "
            "date and time; expected e.g. '2026/07/03 22:00:00' (Asia/Taipei)"
        )
    lookup = pd.Series(parsed.to_numpy(), index=unique.to_numpy())
    return pd.Series(lookup.loc[clean.to_numpy()].to_numpy(), index=text.index).astype(
        TIME_DTYPE
    )


def records_frame(records: list[dict], source: str, what: str) -> pd.DataFrame:
    """Lay out API records as a frame of strings with a 1-based ``line`` column.

    Missing values and JSON nulls become empty strings; numbers become their
    text, so every reader sees cells as a CSV download would show them.

    Raises
    ------
    InputFormatError
        When ``records`` is not a non-empty list of objects.
    """
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise InputFormatError(
            f"{source}: a {what} payload is a list of records (objects); pass the "
            "'records' list of the API answer"
        )
    if not records:
        raise InputFormatError(f"{source}: the payload holds no records")
    raw = pd.DataFrame.from_records(records)
    for name in raw.columns:
        absent = raw[name].isna()
        raw[name] = raw[name].astype(str).where(~absent, "")
    raw["line"] = np.arange(1, len(raw) + 1)
    return raw
