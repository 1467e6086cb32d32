"""MOENV's yearly station files: one row per day and item, 24 hourly cells.

Layouts read (CSV in UTF-8 with or without BOM or Big5, CRLF or LF; .xls/.xlsx/
.ods through python-calamine):

* ``日期,測站,測項,<24 hours>``: the classic download;
* ``測站,日期,測項,<24 hours>``: the 2019+ exports, cells right-padded with
  spaces, a row of dashes under the header, dates like ``2019/1/1 00:00``;
* no header line at all (a course copy), read as ``日期,測站,測項,<24 hours>``.

The 24 hour columns are labelled ``00..23``, ``0..23``, ``01..24`` or ``1..24``;
in every style the first column is the hour 00:00-01:00, so column ``k``
(counting from 0) gets ``time = date + (k+1) h``, the hour's END.

Cells are read by :mod:`forecasting.readers._values` (markers, ``NR``, ``NA``,
888/999 wind codes, physical bounds). Station names go through the registry
(:func:`forecasting.stations.site_id_for_name`).

Validation rules: a header that is none of the above (shuffled, unknown labels),
a row with the wrong number of fields (a copy cut short), an unreadable date or
an unknown station stop the read with :class:`InputFormatError` naming file and
line: such a file cannot be trusted. A second row for the same station, day and
item is a counted rejection (the first row is kept); so is a row whose item is
not in the schema, and every impossible cell.
"""

from __future__ import annotations

import datetime as dt
import logging
import time as clock
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.errors import InputFormatError, UnknownStationError
from forecasting.readers._text import csv_rows, decode, read_bytes
from forecasting.readers._tidy import (
    TIME_DTYPE,
    check_site_ids,
    drop_duplicates,
    finish,
    parse_long,
)
from forecasting.readers._values import item_column
from forecasting.readers.base import ReadResult, Rejection
from forecasting.schema import MEASUREMENTS
from forecasting.stations import site_id_for_name, station_info

logger = logging.getLogger(__name__)

SOURCE_KIND = "yearly"
DATE, STATION, ITEM = "日期", "測站", "測項"
HOUR_LABELS = (
    tuple(f"{hour:02d}" for hour in range(24)),
    tuple(str(hour) for hour in range(24)),
    tuple(f"{hour:02d}" for hour in range(1, 25)),
    tuple(str(hour) for hour in range(1, 25)),
)
LEADING = ((DATE, STATION, ITEM), (STATION, DATE, ITEM))
N_FIELDS = 27


def _clean(field: str) -> str:
    return field.strip().lstrip("\ufeff").strip()


def _looks_like_date(field: str) -> bool:
    return _parse_date(field) is not None


def _parse_date(field: str) -> dt.date | None:
    """Parse ``2019/1/1``, ``2012/01/01``, ``2019/1/1 00:00``, ``2021-01-01 00:00:00``.

    Returns ``None`` when the text is not such a date (or not at midnight).
    """
    text = _clean(field)
    day, _, clock_part = text.partition(" ")
    if clock_part.strip() not in ("", "00:00", "00:00:00", "0:00"):
        return None
    try:
        return dt.datetime.strptime(day.replace("-", "/"), "%Y/%m/%d").date()
    except ValueError:
        return None


def _layout(
    rows: list[tuple[int, list[str]]], source: str
) -> tuple[tuple[str, ...], tuple[str, ...], int]:
    """Return the leading columns, the hour labels and the first data row index.

    Raises
    ------
    InputFormatError
        When the first row is neither a known header nor a headerless data row.
    """
    if not rows:
        raise InputFormatError(f"{source}: the file is empty")
    line, header = rows[0]
    cells = tuple(_clean(field) for field in header)
    if len(cells) == N_FIELDS and cells[:3] in LEADING and cells[3:] in HOUR_LABELS:
        return cells[:3], cells[3:], 1
    if len(cells) == N_FIELDS and _looks_like_date(cells[0]) and cells[1] and cells[2]:
        return LEADING[0], HOUR_LABELS[1], 0
    raise InputFormatError(
        f"{source}:{line}: unexpected header {','.join(cells[:6])},... ; a yearly "
        "station file starts with 日期,測站,測項 (or 測站,日期,測項) followed by 24 "
        "hour labels 00..23, 0..23, 01..24 or 1..24 in order"
    )


def _is_rule(fields: list[str]) -> bool:
    """True for the row of dashes under the header of the 2019+ exports."""
    return all(set(field.strip()) <= {"-"} for field in fields)


def read_yearly_rows(rows: list[tuple[int, list[str]]], source: str) -> ReadResult:
    """Read the rows of a yearly station file (CSV or spreadsheet cells as text).

    Parameters
    ----------
    rows:
        ``(line, fields)`` pairs, header first, blank rows already left out.
    source:
        File name, for provenance, flags and messages.

    Returns
    -------
    ReadResult
        Hourly rows (``source_kind`` "yearly"), flagged cells, rejections and
        the stations met.

    Raises
    ------
    InputFormatError
        See the module's validation rules.
    """
    started = clock.perf_counter()
    leading, labels, start = _layout(rows, source)
    order = {name: position for position, name in enumerate(leading)}
    body = [(line, fields) for line, fields in rows[start:] if not _is_rule(fields)]
    for line, fields in body:
        if len(fields) != N_FIELDS:
            raise InputFormatError(
                f"{source}:{line}: {len(fields)} fields where {N_FIELDS} are expected "
                "(date, station, item and 24 hours); the file may be cut short"
            )
    if not body:
        raise InputFormatError(f"{source}: a header but no data rows")

    lines = np.array([line for line, _ in body])
    grid = np.array([fields for _, fields in body], dtype=object)
    frame = pd.DataFrame({"line": lines})
    frame["date"] = _dates(grid[:, order[DATE]], lines, source)
    frame["site_name"] = [_clean(name) for name in grid[:, order[STATION]]]
    frame["site_id"] = _site_ids(frame, source)
    check_site_ids(frame["site_id"], frame["line"], source, STATION)
    frame["item_raw"] = [_clean(item) for item in grid[:, order[ITEM]]]
    frame["item"] = frame["item_raw"].map(item_column)

    rejections: list[Rejection] = []
    known = frame["item"].isin(MEASUREMENTS).to_numpy()
    for line, item in frame.loc[~known, ["line", "item_raw"]].itertuples(index=False):
        rejections.append(
            Rejection(
                source,
                int(line),
                ITEM,
                f"item {item!r} is not one of the schema's measurements; row skipped",
            )
        )
    keep = frame.loc[known]
    keep, duplicates = drop_duplicates(
        keep, ["site_id", "date", "item"], source, ITEM, "station, day and item"
    )
    rejections.extend(duplicates)
    hours = grid[keep.index.to_numpy(), 3:]

    n_rows = len(keep)
    offsets = pd.to_timedelta(np.tile(np.arange(1, 25), n_rows), unit="h")
    days = pd.DatetimeIndex(np.repeat(keep["date"].to_numpy(), 24))
    long = pd.DataFrame(
        {
            "site_id": np.repeat(keep["site_id"].to_numpy(), 24),
            "time": (days + offsets).tz_localize("Asia/Taipei").astype(TIME_DTYPE),
            "item": np.repeat(keep["item"].to_numpy(), 24),
            "raw": hours.reshape(-1),
            "line": np.repeat(keep["line"].to_numpy(), 24),
            "field": np.tile(np.array(labels, dtype=object), n_rows),
        }
    )
    wide, flags, cell_rejections = parse_long(long, source)
    rejections.extend(cell_rejections)

    stations = _stations(frame)
    result = ReadResult(
        hourly=finish(wide, SOURCE_KIND, source),
        flags=flags,
        rejections=rejections,
        stations=stations,
    )
    logger.info(
        "read %s: %d station-hours, %d flagged cells, %d rejections in %.2f s",
        source,
        len(result.hourly),
        len(flags),
        len(rejections),
        clock.perf_counter() - started,
    )
    return result


def _dates(cells: np.ndarray, lines: np.ndarray, source: str) -> np.ndarray:
    """Parse the date column; every distinct text is parsed once."""
    parsed: dict[str, dt.date] = {}
    out = []
    for text, line in zip(cells, lines, strict=True):
        if text not in parsed:
            day = _parse_date(text)
            if day is None:
                raise InputFormatError(
                    f"{source}:{line}: field {DATE!r} holds {text.strip()!r}, which "
                    "is not a date such as 2019/01/01"
                )
            parsed[text] = day
        out.append(parsed[text])
    return np.array(out, dtype="datetime64[D]")


def _site_ids(frame: pd.DataFrame, source: str) -> pd.Series:
    ids: dict[str, str] = {}
    for name, line in zip(frame["site_name"], frame["line"], strict=True):
        if name not in ids:
            try:
                ids[name] = site_id_for_name(name)
            except UnknownStationError as error:
                raise InputFormatError(
                    f"{source}:{line}: field {STATION!r}: {error}"
                ) from None
    return frame["site_name"].map(ids)


def _stations(frame: pd.DataFrame) -> pd.DataFrame:
    first = frame.drop_duplicates("site_id")
    rows = []
    for site_id, name in zip(first["site_id"], first["site_name"], strict=True):
        info = station_info(site_id)
        rows.append(
            {
                "site_id": site_id,
                "name_zh": name,
                "county": info.get("county"),
                "latitude": info.get("latitude"),
                "longitude": info.get("longitude"),
            }
        )
    return pd.DataFrame(rows)


def read_yearly_csv(path: Path) -> ReadResult:
    """Read a yearly station file in CSV (UTF-8, UTF-8 with BOM, or Big5).

    Returns
    -------
    ReadResult
        See :func:`read_yearly_rows`.

    Raises
    ------
    InputFormatError
        When the file cannot be decoded or broken (see the module docstring).
    """
    text = decode(read_bytes(path), path.name)
    return read_yearly_rows(csv_rows(text, path.name), path.name)


def _cell_text(value: object) -> str:
    """Render a spreadsheet cell as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y/%m/%d %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%Y/%m/%d")
    return str(value)


def read_yearly_spreadsheet(path: Path) -> ReadResult:
    """Read a yearly station file saved as .xls, .xlsx or .ods (first sheet).

    Returns
    -------
    ReadResult
        See :func:`read_yearly_rows`.

    Raises
    ------
    InputFormatError
        When the workbook cannot be opened, or its first sheet is not a yearly
        station table (see the module docstring).
    """
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as error:  # calamine raises its own, undocumented types
        raise InputFormatError(
            f"{path.name}: cannot be opened as a spreadsheet ({error}); save it "
            "again as .xls, .xlsx or .ods"
        ) from None
    rows = []
    for number, cells in enumerate(sheet, start=1):
        fields = [_cell_text(cell) for cell in cells]
        while len(fields) > N_FIELDS and not fields[-1].strip():
            fields.pop()
        if any(field.strip() for field in fields):
            rows.append((number, fields))
    return read_yearly_rows(rows, path.name)
