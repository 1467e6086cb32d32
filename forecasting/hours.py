"""Hours given by people: command-line and API times, read one way everywhere."""

from __future__ import annotations

import pandas as pd

from forecasting.config import TIMEZONE
from forecasting.errors import ValidationError


def parse_hour(value: str | pd.Timestamp, name: str) -> pd.Timestamp:
    """Return ``value`` as a whole hour in Asia/Taipei (naive input is Taipei time).

    Parameters
    ----------
    value:
        ISO 8601 text such as ``2026-08-02T13:00`` or ``2026-08-02T13:00+08:00``,
        or a timestamp.
    name:
        The option or field the value came from, named in error messages.

    Returns
    -------
    pandas.Timestamp
        Tz-aware, Asia/Taipei, nanosecond unit, on a whole hour (an hour ending).

    Raises
    ------
    ValidationError
        When ``value`` is not a time or not on a whole hour.
    """
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as error:
        raise ValidationError(
            f"{name}: {value!r} is not a time; give ISO 8601 such as "
            "2026-08-02T00:00+08:00 (a time without offset is Asia/Taipei)"
        ) from error
    if stamp is pd.NaT:
        raise ValidationError(f"{name}: no time given; give ISO 8601")
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(TIMEZONE)
    stamp = stamp.tz_convert(TIMEZONE)
    if stamp != stamp.floor("h"):
        raise ValidationError(
            f"{name}: {value!r} is not on a whole hour; hours are hour endings "
            "such as 2026-08-02T13:00+08:00"
        )
    return stamp.as_unit("ns")
