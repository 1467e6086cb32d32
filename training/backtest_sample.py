"""Which issue hours of a backtest the model may have been trained on."""

from __future__ import annotations

import pandas as pd

from forecasting.config import TIMEZONE
from forecasting.schema import HORIZONS


def trained_until(bundle) -> pd.Timestamp | None:
    """Return the last hour the bundle was trained on.

    Returns
    -------
    pandas.Timestamp or None
        Tz-aware Asia/Taipei (a naive stamp is read as Asia/Taipei); None when
        the bundle's metadata has no ``span``.
    """
    span = (getattr(bundle, "metadata", {}) or {}).get("span")
    if not span:
        return None
    last = pd.Timestamp(span[-1])
    if last.tzinfo is None:
        return last.tz_localize(TIMEZONE)
    return last.tz_convert(TIMEZONE)


def in_sample_hours(
    issue_hours: pd.DatetimeIndex, trained_until: pd.Timestamp | None
) -> int:
    """Count the issue hours whose forecasts the model may have been trained on.

    An issue hour is in sample when its first target (``issued_at`` + 1 h) falls
    at or before the model's last training hour: that target's row (and any
    later one up to the training end) was a training example.

    Parameters
    ----------
    issue_hours:
        Tz-aware issue hours.
    trained_until:
        The last hour of the training data (tz-aware), or None when unknown.

    Returns
    -------
    int
        Number of in-sample issue hours; 0 when ``trained_until`` is None.
    """
    if trained_until is None:
        return 0
    first_target = issue_hours + pd.Timedelta(hours=min(HORIZONS))
    return int((first_target <= trained_until).sum())
