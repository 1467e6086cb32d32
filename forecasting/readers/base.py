"""What every reader returns: hourly rows, flagged raw cells, counted rejections."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from forecasting.schema import FLAG_COLUMNS


@dataclass(frozen=True)
class Rejection:
    """One input row or cell that was not taken, and why.

    ``line`` counts from 1 as an editor shows it (the header is line 1); for JSON
    payloads it is the record's position, counting from 1.
    """

    source: str
    line: int | None
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = self.source + (f":{self.line}" if self.line is not None else "")
        what = f" field {self.field!r}" if self.field else ""
        return f"{where}{what}: {self.reason}"


@dataclass
class ReadResult:
    """The output of a reader.

    Attributes
    ----------
    hourly:
        An hourly frame (see :mod:`forecasting.schema`): ``site_id``, ``time``
        (tz-aware Asia/Taipei, hour ending), measurement columns present in the
        source, published AQI columns when the source has them, and
        ``source_kind`` / ``source``.
    flags:
        Every cell that was not a plain number, verbatim (``FLAG_COLUMNS``).
    rejections:
        Rows or cells that were not taken, each naming file, line and field.
    stations:
        Stations seen in the source: ``site_id``, ``name_zh``, ``county`` and,
        when the source has them, ``latitude`` and ``longitude``.
    """

    hourly: pd.DataFrame
    flags: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(FLAG_COLUMNS))
    )
    rejections: list[Rejection] = field(default_factory=list)
    stations: pd.DataFrame = field(default_factory=pd.DataFrame)
