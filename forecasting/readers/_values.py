"""Cell text to numbers: MOENV's markers, missing codes and physical bounds.

Every reader hands columns of raw cell text to :func:`parse_cells`. A cell is

* a plain number (``17.5``, ``-0.2``): taken as it is;
* empty, or ``-`` in the real-time feed: missing, NaN, not flagged;
* a validity marker, alone or after the number (``#``, ``*``, ``x``, ``A``,
  ``54#``): NaN, the raw text goes to the flags;
* ``NR`` (no rain): ``rainfall`` 0, NaN for every other item, flagged;
* ``NA`` (no data): NaN, flagged;
* ``888`` / ``999`` in a wind-direction item: codes, not angles; NaN, flagged;
* anything else: NaN, flagged, and counted as a rejection.

After parsing, a number outside the item's physical bounds (:data:`BOUNDS`) is
rejected: NaN, raw kept in the flags, one counted rejection per cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.schema import MOVING_VALUES

MARKERS = ("#", "*", "x", "A")
_MARKED = re.compile(r"^(?:[+-]?(?:\d+\.?\d*|\.\d+))?\s*[#*xA]$")
WIND_DIRECTION_CODES = ("888", "999")
WIND_DIRECTIONS = ("wind_direc", "wd_hr")

_CONCENTRATION = (-5.0, 10_000.0)
#: Physical bounds (inclusive) of each item; a value outside is impossible.
BOUNDS: dict[str, tuple[float, float]] = {
    **{
        name: _CONCENTRATION
        for name in (
            "so2",
            "co",
            "o3",
            "pm10",
            "pm2_5",
            "no2",
            "nox",
            "no",
            "ch4",
            "thc",
            "nmhc",
            *MOVING_VALUES,
        )
    },
    "amb_temp": (-40.0, 60.0),
    "shelt_temp": (-40.0, 60.0),
    "rh": (0.0, 100.5),
    "wind_direc": (0.0, 360.0),
    "wd_hr": (0.0, 360.0),
    "wind_speed": (0.0, 100.0),
    "ws_hr": (0.0, 100.0),
    "rainfall": (0.0, 500.0),
    "ph_rain": (0.0, 14.0),
    "rain_cond": (0.0, 10_000.0),
    "pressure": (0.0, 1_100.0),
    "rp": (0.0, 10_000.0),
    "visibility": (0.0, 1_000.0),
    "aqi": (0.0, 10_000.0),
}


@dataclass
class ParsedCells:
    """The outcome of :func:`parse_cells` for one column of cells.

    Attributes
    ----------
    values:
        float64 array, NaN where missing, marked or rejected.
    flagged:
        Boolean array: the raw text must be kept in the flags.
    rejected:
        Boolean array: the cell is a counted rejection (subset of ``flagged``).
    reasons:
        Why each rejected cell was rejected, by position.
    """

    values: np.ndarray
    flagged: np.ndarray
    rejected: np.ndarray
    reasons: dict[int, str]


def item_column(name: str) -> str:
    """Return the schema column of a MOENV item name (``"PM2.5"`` -> ``"pm2_5"``).

    Returns
    -------
    str
        The name lower-cased, padding removed, ``.`` replaced by ``_``.
    """
    return name.strip().lower().replace(".", "_")


def parse_cells(
    raw: pd.Series, item: str, dash_is_missing: bool = False
) -> ParsedCells:
    """Turn one item's raw cell texts into numbers, flags and rejections.

    Parameters
    ----------
    raw:
        Cell texts (``str`` or missing); surrounding spaces are ignored.
    item:
        Schema column the cells belong to (decides ``NR`` and wind codes).
    dash_is_missing:
        Treat ``-`` as an empty cell (the real-time feed's convention).

    Returns
    -------
    ParsedCells
        Values, which cells to flag, which to count as rejections and why.
    """
    text = raw.astype("string").str.strip().fillna("")
    n = len(text)
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64")
    flagged = np.zeros(n, dtype=bool)
    rejected = np.zeros(n, dtype=bool)

    empty = (text == "").to_numpy()
    if dash_is_missing:
        empty |= (text == "-").to_numpy()
    # to_numeric also takes "nan", "inf", "1e5": only plain decimals count as numbers.
    suspicious = ~empty & (np.isnan(values) | ~np.isfinite(values))
    suspicious |= (
        ~empty & ~np.isnan(values) & text.str.contains(r"[^0-9.+-]").to_numpy()
    )
    values[suspicious | empty] = np.nan

    if suspicious.any():
        odd = text[suspicious]
        marked = odd.str.match(_MARKED.pattern).to_numpy()
        known = marked | odd.isin(["NR", "NA"]).to_numpy()
        index = np.flatnonzero(suspicious)
        flagged[index] = True
        rejected[index[~known]] = True
        if item == "rainfall":
            values[index[(odd == "NR").to_numpy()]] = 0.0

    if item in WIND_DIRECTIONS:
        codes = text.isin(WIND_DIRECTION_CODES).to_numpy()
        values[codes] = np.nan
        flagged |= codes

    reasons = {
        int(position): f"{text.iloc[position]!r} is neither a number nor a MOENV marker"
        for position in np.flatnonzero(rejected)
    }

    low, high = BOUNDS.get(item, (-np.inf, np.inf))
    with np.errstate(invalid="ignore"):
        outside = ~np.isnan(values) & ((values < low) | (values > high))
    for position in np.flatnonzero(outside):
        reasons[int(position)] = (
            f"{text.iloc[position]} is outside the physical range "
            f"{low:g}..{high:g} of {item}"
        )
    values[outside] = np.nan
    flagged |= outside
    rejected |= outside

    return ParsedCells(
        values=values, flagged=flagged, rejected=rejected, reasons=reasons
    )
