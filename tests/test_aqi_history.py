"""The AQI engine over the whole bundled AQX_P_432 history (84 stations, 750 hours).

Read straight from the gzip'd JSON payload, so this test depends on the engine
only. RULES.md §6 reports, on a longer span of the same feed, 98.1 % exact and
99.6 % within one point on windows with a full history.
"""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest

from forecasting.aqi import aqi_from_moving_values, compute_aqi
from forecasting.config import SAMPLE_DATA

PAYLOAD = SAMPLE_DATA / "aqx_p_432_2026070322_2026080823.json.gz"
NUMBERS = {
    "aqi": "aqi",
    "so2": "so2",
    "co": "co",
    "o3": "o3",
    "o3_8hr": "o3_8hr",
    "pm10": "pm10",
    "pm2.5": "pm2_5",
    "no2": "no2",
    "co_8hr": "co_8hr",
    "pm2.5_avg": "pm2_5_avg",
    "pm10_avg": "pm10_avg",
    "so2_avg": "so2_avg",
}


@pytest.fixture(scope="module")
def feed() -> pd.DataFrame:
    with gzip.open(PAYLOAD, "rt", encoding="utf-8") as handle:
        records = json.load(handle)["records"]
    raw = pd.DataFrame(records)

    frame = pd.DataFrame({"site_id": raw["siteid"].astype(str)})
    frame["time"] = pd.to_datetime(
        raw["publishtime"], format="%Y/%m/%d %H:%M:%S"
    ).dt.tz_localize("Asia/Taipei")
    for field, column in NUMBERS.items():  # '' and '-' mean missing
        frame[column] = pd.to_numeric(raw[field], errors="coerce")
    for column in ("pollutant", "status"):
        text = raw[column].astype(object)
        frame[column] = text.where(~text.isin(["", "-"]), None)
    return frame


def _full_history(frame: pd.DataFrame) -> np.ndarray:
    """True where the station has a row for each of the 23 hours before."""
    ordered = frame.sort_values(["site_id", "time"])
    hours = pd.DatetimeIndex(ordered["time"]).as_unit("s").asi8 // 3600
    earlier = ordered.groupby("site_id")["time"].shift(23)
    span = hours - pd.DatetimeIndex(earlier).as_unit("s").asi8 // 3600
    full = pd.Series(earlier.notna().to_numpy() & (span == 23), index=ordered.index)
    return full.loc[frame.index].to_numpy()


def _published(frame: pd.DataFrame) -> np.ndarray:
    """Rows with a published AQI: a number and a status (not the 0/blank quirk)."""
    return (frame["aqi"] > 0).to_numpy() & frame["status"].notna().to_numpy()


def test_published_moving_values_give_the_published_aqi_everywhere(feed):
    result = aqi_from_moving_values(feed)
    published = _published(feed)

    aqi_ok = result["aqi"].to_numpy() == feed["aqi"].to_numpy()
    pollutant_ok = result["pollutant"].fillna("") == feed["pollutant"].fillna("")
    status_ok = result["status"].fillna("") == feed["status"].fillna("")
    agree = aqi_ok & pollutant_ok.to_numpy() & status_ok.to_numpy()

    assert published.sum() == 62_509
    assert agree[published].all(), feed.loc[published & ~agree].head(20).to_string()
    no_status = feed["status"].isna().to_numpy()
    assert no_status.sum() == 419
    assert result["aqi"][no_status].isna().all()


def test_hourly_concentrations_give_the_published_aqi_on_full_windows(feed):
    result = compute_aqi(feed)
    scored = _published(feed) & _full_history(feed)
    difference = (result["aqi"] - feed["aqi"]).to_numpy()[scored]

    exact = float(np.mean(difference == 0))
    within_one = float(np.mean(np.abs(difference) <= 1))
    assert scored.sum() == 49_068
    assert exact >= 0.98, f"exact {exact:.4f} on {scored.sum()} rows"
    assert within_one >= 0.995, f"within one {within_one:.4f}"


def test_hourly_concentrations_give_the_published_moving_values(feed):
    result = compute_aqi(feed)
    full = _full_history(feed)
    floors = {
        "pm2_5_avg": 0.99,
        "pm10_avg": 0.99,
        "o3_8hr": 0.91,
        "co_8hr": 0.995,
        "so2_avg": 0.995,
    }
    for column, floor in floors.items():
        scored = full & feed[column].notna().to_numpy()
        share = float(
            np.mean(result[column].to_numpy()[scored] == feed[column][scored])
        )
        assert share >= floor, f"{column}: {share:.4f} reproduced"
