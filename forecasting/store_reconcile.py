"""Validation at the store's door and the reconciliation of overlapping sources.

The rule itself is stated in :mod:`forecasting.store`; this module applies it to
frames in the store's on-disk form: ``time`` in UTC, every column of
:data:`forecasting.schema.HOURLY_COLUMNS`, indexed by ``(site_id, time)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.config import TIMEZONE
from forecasting.errors import ValidationError
from forecasting.schema import (
    FLAG_COLUMNS,
    MEASUREMENTS,
    PROVENANCE,
    PUBLISHED_NUMBERS,
    PUBLISHED_TEXT,
    SOURCE_RANK,
)

NUMBERS = MEASUREMENTS + PUBLISHED_NUMBERS
PUBLISHED = PUBLISHED_NUMBERS + PUBLISHED_TEXT
TEXT = PUBLISHED_TEXT + PROVENANCE
#: Columns whose change makes a row count as ``replaced``. The file name
#: (``source``) is left out: the same values from a renamed copy are unchanged.
COMPARED = MEASUREMENTS + PUBLISHED + ("source_kind",)
FLAG_KEY = ("site_id", "time", "item", "source")


def _label(frame: pd.DataFrame, fallback: str) -> str:
    if "source" in frame.columns and len(frame):
        names = frame["source"].dropna().unique()
        if len(names):
            return ", ".join(sorted(map(str, names))[:3])
    return fallback


def _utc_time(frame: pd.DataFrame, label: str, table: str) -> pd.Series:
    if "time" not in frame.columns:
        raise ValidationError(
            f"{label}: the {table} frame has no field 'time'; readers must give "
            "the hour-ending time of every row"
        )
    time = frame["time"]
    if not isinstance(time.dtype, pd.DatetimeTZDtype):
        raise ValidationError(
            f"{label}: field 'time' of the {table} frame has no timezone "
            f"(dtype {time.dtype}); localise it to {TIMEZONE} before ingesting"
        )
    return time.dt.tz_convert("UTC").astype("datetime64[us, UTC]")


def _text(series: pd.Series) -> pd.Series:
    """Stripped strings as object with ``None`` for blank or missing cells."""
    values = series.astype("string").str.strip()
    values = values.mask(values == "")
    return values.astype(object).where(values.notna(), None)


def normalise_hourly(hourly: pd.DataFrame, fallback_label: str) -> pd.DataFrame:
    """Return ``hourly`` in the store's form, or refuse it.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(site_id, time)`` (time in UTC), columns ``HOURLY_COLUMNS``
        minus the keys, numbers as float64, text as object with ``None``.

    Raises
    ------
    ValidationError
        When ``time`` is missing or has no timezone, ``site_id`` is missing or
        blank, a station-hour repeats, a number column holds text or an
        infinite value, or
        ``source_kind`` is not one of :data:`forecasting.schema.SOURCE_RANK`.
    """
    if len(hourly) == 0:  # nothing to store: any layout of an empty frame will do
        hourly = pd.DataFrame(
            {
                "site_id": pd.Series(dtype=object),
                "time": pd.Series(dtype="datetime64[us, UTC]"),
                "source_kind": pd.Series(dtype=object),
            }
        )
    label = _label(hourly, fallback_label)
    time = _utc_time(hourly, label, "hourly")
    if "site_id" not in hourly.columns:
        raise ValidationError(f"{label}: the hourly frame has no field 'site_id'")
    site = _text(hourly["site_id"])
    if site.isna().any():
        row = int(np.flatnonzero(site.isna().to_numpy())[0])
        raise ValidationError(f"{label}: field 'site_id' is blank in row {row + 1}")
    if time.isna().any():
        row = int(np.flatnonzero(time.isna().to_numpy())[0])
        raise ValidationError(f"{label}: field 'time' is missing in row {row + 1}")

    keys = pd.DataFrame({"site_id": site, "time": time}).reset_index(drop=True)
    repeated = keys.duplicated(keep=False)
    if repeated.any():
        first = keys.loc[repeated].iloc[0]
        when = first["time"].tz_convert(TIMEZONE)
        raise ValidationError(
            f"{label}: fields 'site_id', 'time' repeat: station {first['site_id']} "
            f"hour {when:%Y-%m-%d %H:%M} appears {int(repeated.sum())} times among "
            "the repeated rows; a source must hold each station-hour once"
        )

    out = pd.DataFrame(index=pd.MultiIndex.from_frame(keys))
    for name in NUMBERS:
        if name not in hourly.columns:
            out[name] = np.nan
            continue
        try:
            out[name] = pd.to_numeric(hourly[name]).astype("float64").to_numpy()
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                f"{label}: field {name!r} holds values that are not numbers ({exc});"
                " readers must move raw cells to the flags table"
            ) from exc
        infinite = np.isinf(out[name].to_numpy())
        if infinite.any():
            row = int(np.flatnonzero(infinite)[0])
            raise ValidationError(
                f"{label}: field {name!r} is infinite in row {row + 1}; a "
                "measurement is a finite number or missing (NaN)"
            )
    for name in TEXT:
        blank = pd.Series(None, index=hourly.index, dtype=object)
        out[name] = _text(hourly.get(name, blank)).to_numpy()
    if out["source"].isna().any():
        out["source"] = out["source"].where(out["source"].notna(), fallback_label)

    kinds = set(out["source_kind"].dropna()) | (
        {None} if out["source_kind"].isna().any() else set()
    )
    unknown = kinds - set(SOURCE_RANK)
    if unknown:
        raise ValidationError(
            f"{label}: field 'source_kind' holds {sorted(map(str, unknown))}; "
            f"expected one of {sorted(SOURCE_RANK)}"
        )
    return out


def normalise_flags(flags: pd.DataFrame, fallback_label: str) -> pd.DataFrame:
    """Return ``flags`` with exactly ``FLAG_COLUMNS``, time in UTC, no repeats.

    Raises
    ------
    ValidationError
        When ``time`` has no timezone or a column of ``FLAG_COLUMNS`` other than
        ``source`` is missing.
    """
    if flags is None or len(flags) == 0:
        empty = {name: pd.Series(dtype=object) for name in FLAG_COLUMNS}
        empty["time"] = pd.Series(dtype="datetime64[us, UTC]")
        return pd.DataFrame(empty)
    label = _label(flags, fallback_label)
    missing = [n for n in FLAG_COLUMNS if n not in flags.columns and n != "source"]
    if missing:
        raise ValidationError(f"{label}: the flags frame has no field {missing[0]!r}")
    out = pd.DataFrame({"time": _utc_time(flags, label, "flags")})
    for name in ("site_id", "item", "raw", "source"):
        if name not in flags.columns:
            out[name] = fallback_label
        elif name == "raw":
            raw = flags[name].astype(object)
            out[name] = raw.where(raw.notna(), None)
        else:
            out[name] = _text(flags[name])
    out = out.reset_index(drop=True)
    out = out.loc[:, list(FLAG_COLUMNS)]
    return out.drop_duplicates(subset=list(FLAG_KEY), keep="last")


def _same(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Elementwise equality where two missing cells are equal."""
    missing_a = pd.isna(a).to_numpy()
    missing_b = pd.isna(b).to_numpy()
    if a.dtype.kind == "f" and b.dtype.kind == "f":
        equal = a.to_numpy() == b.to_numpy()
    else:
        equal = a.to_numpy(dtype=object) == b.to_numpy(dtype=object)
    return (equal & ~missing_a & ~missing_b) | (missing_a & missing_b)


def reconcile(
    stored: pd.DataFrame, incoming: pd.DataFrame
) -> tuple[pd.DataFrame, pd.Index, pd.Index, pd.Index]:
    """Merge ``incoming`` into ``stored`` by the store's rule.

    Both frames are in the store's form (see :func:`normalise_hourly`);
    ``stored`` holds at least every partition ``incoming`` touches.

    Returns
    -------
    tuple
        ``(merged, added, replaced, unchanged)``: the merged frame, sorted by
        ``(site_id, time)``, and the index of the incoming rows in each case.
    """
    common = incoming.index.intersection(stored.index)
    new = incoming.index.difference(stored.index)
    old = stored.loc[common]
    inc = incoming.loc[common]

    rank_old = old["source_kind"].map(SOURCE_RANK).to_numpy()
    rank_inc = inc["source_kind"].map(SOURCE_RANK).to_numpy()
    takes_measured = rank_inc >= rank_old
    takes_published = (inc["source_kind"] == "realtime").to_numpy()

    merged = old.copy()
    for name in MEASUREMENTS + PROVENANCE:
        merged[name] = np.where(takes_measured, inc[name], old[name])
    for name in PUBLISHED:
        merged[name] = np.where(takes_published, inc[name], old[name])
    for name in NUMBERS:
        merged[name] = merged[name].astype("float64")

    same = np.ones(len(common), dtype=bool)
    for name in COMPARED:
        same &= _same(merged[name], old[name])
    changed = merged.loc[~same]

    result = stored.copy()
    if len(changed):
        result.loc[changed.index, :] = changed
    result = pd.concat([result, incoming.loc[new]]).sort_index()
    for name in NUMBERS:
        result[name] = result[name].astype("float64")

    return result, new, common[~same], common[same]
