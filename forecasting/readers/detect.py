"""Recognise a file's layout and hand it to the right reader.

* ``*.parquet``: the curated yearly layout (:mod:`.curated`);
* ``.xls``, ``.xlsx``, ``.ods``: a yearly station file (:mod:`.yearly`);
* anything else, gzip-compressed or not, is sniffed from its content: JSON (a
  bare list or ``{"records": [...]}``) or CSV whose fields name AQX_P_432
  (``publishtime``) or the long format (``itemengname``), else a yearly file.

Unknown layouts, truncated gzip or JSON, undecodable bytes all raise
:class:`InputFormatError` naming the file and, when known, the line.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from forecasting.errors import InputFormatError
from forecasting.readers._text import csv_rows, decode, read_bytes
from forecasting.readers.aqx_p_432 import (
    SIGNATURE,
    read_aqx_p_432_frame,
    read_aqx_p_432_records,
)
from forecasting.readers.base import ReadResult
from forecasting.readers.curated import read_curated
from forecasting.readers.station_hourly import (
    read_station_hourly_frame,
    read_station_hourly_records,
)
from forecasting.readers.yearly import read_yearly_rows, read_yearly_spreadsheet

logger = logging.getLogger(__name__)

SPREADSHEETS = (".xls", ".xlsx", ".ods")


def read_path(path: Path | str) -> ReadResult:
    """Read any supported MOENV hourly file.

    Parameters
    ----------
    path:
        An AQX_P_432 JSON/CSV (plain or .gz), a long-format JSON/CSV, a yearly
        station file (CSV, .xls, .xlsx, .ods) or a curated ``*.hourly.parquet``.

    Returns
    -------
    ReadResult
        The hourly rows, flagged cells, counted rejections and stations.

    Raises
    ------
    InputFormatError
        When the file is missing, of an unknown layout, cut short, or not
        decodable; the message names the file and, when known, the line.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFormatError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return read_curated(path)
    if suffix in SPREADSHEETS:
        return read_yearly_spreadsheet(path)

    source = path.name
    data = read_bytes(path)
    text = decode(data, source)
    stripped = text.lstrip()
    if not stripped:
        raise InputFormatError(f"{source}: the file is empty")
    if stripped[0] in "[{":
        return _read_json(text, source)
    return _read_csv(text, source)


def _read_json(text: str, source: str) -> ReadResult:
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputFormatError(
            f"{source}:{error.lineno}: not valid JSON ({error.msg} at column "
            f"{error.colno}); the file may be cut short"
        ) from None
    records = payload.get("records") if isinstance(payload, dict) else payload
    if not isinstance(records, list) or not records or not isinstance(records[0], dict):
        raise InputFormatError(
            f"{source}: JSON holds no list of records; expected a list of objects "
            'or {"records": [...]} as the MOENV API answers'
        )
    fields = {str(name).strip().lower() for name in records[0]}
    if "itemengname" in fields:
        return read_station_hourly_records(records, source)
    if fields & SIGNATURE:
        return read_aqx_p_432_records(records, source)
    raise InputFormatError(
        f"{source}: record 1 has fields {', '.join(sorted(fields)[:8])}...; neither "
        "AQX_P_432 (publishtime) nor a long-format dataset (itemengname)"
    )


def _read_csv(text: str, source: str) -> ReadResult:
    rows = csv_rows(text, source)
    header_line, header = rows[0]
    fields = [name.strip().lower() for name in header]
    if "itemengname" in fields or set(fields) & SIGNATURE:
        width = len(header)
        for line, row in rows[1:]:
            if len(row) != width:
                raise InputFormatError(
                    f"{source}:{line}: {len(row)} fields where the header on line "
                    f"{header_line} has {width}; the file may be cut short"
                )
        frame = pd.DataFrame([row for _, row in rows[1:]], columns=header, dtype=object)
        frame["line"] = [line for line, _ in rows[1:]]
        if frame.empty:
            raise InputFormatError(f"{source}: a header but no data rows")
        if "itemengname" in fields:
            return read_station_hourly_frame(frame, source)
        return read_aqx_p_432_frame(frame, source)
    return read_yearly_rows(rows, source)
