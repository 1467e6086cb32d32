"""The AQI engine against MOENV's published rows (tests/data/RULES.md §7).

``aqi_vectors.csv``: 350 real AQX_P_432 rows with the published moving values and
the published ``aqi``/``pollutant``/``status``. ``hourly_vectors.csv``: 22 station
windows of 24 hourly values with the moving value MOENV published at their end.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.aqi import aqi_from_moving_values, compute_aqi

DATA = Path(__file__).parent / "data"
HOUR_COLUMNS = [f"h_minus_{k}" for k in range(23, -1, -1)]


def _publish_time(text: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(text, format="%Y/%m/%d %H:%M:%S")
    return stamps.dt.tz_localize("Asia/Taipei")


@pytest.fixture(scope="module")
def aqi_vectors() -> pd.DataFrame:
    vectors = pd.read_csv(DATA / "aqi_vectors.csv", dtype={"site_id": str})
    vectors["time"] = _publish_time(vectors["publish_time"])
    return vectors


def _text(values: pd.Series) -> list[str]:
    return ["" if pd.isna(v) else str(v) for v in values]


def test_published_rows_reproduce_aqi_pollutant_and_status(aqi_vectors):
    vectors = aqi_vectors[~aqi_vectors["tags"].str.contains("published_anomaly")]
    result = aqi_from_moving_values(vectors)

    # The feed shows "no AQI" as aqi 0 with a blank status.
    expected_aqi = vectors["aqi"].where(vectors["status"].notna()).to_numpy()
    got_aqi = result["aqi"].to_numpy()
    aqi_ok = (got_aqi == expected_aqi) | (np.isnan(got_aqi) & np.isnan(expected_aqi))
    pollutant_ok = np.array(_text(result["pollutant"])) == _text(vectors["pollutant"])
    status_ok = np.array(_text(result["status"])) == _text(vectors["status"])

    failing = vectors.loc[~(aqi_ok & pollutant_ok & status_ok)]
    report = pd.concat(
        [
            failing[["site_id", "publish_time", "aqi", "pollutant", "status", "tags"]],
            result.loc[failing.index, ["aqi", "pollutant", "status"]].add_prefix(
                "got_"
            ),
        ],
        axis=1,
    )
    assert len(vectors) == 340
    assert failing.empty, f"rows not reproduced:\n{report.to_string()}"


def test_published_anomalies_agree_with_their_own_status(aqi_vectors):
    # aqi 0 published with a status: the status is what the other fields give.
    anomalies = aqi_vectors[aqi_vectors["tags"].str.contains("published_anomaly")]
    result = aqi_from_moving_values(anomalies)

    assert (anomalies["aqi"] == 0).all()
    with_aqi = result["aqi"].notna()
    assert _text(result.loc[with_aqi, "status"]) == _text(
        anomalies.loc[with_aqi, "status"]
    )
    assert with_aqi.sum() == 9


def _same(got: float, expected: float) -> bool:
    return bool(got == expected or (np.isnan(got) and np.isnan(expected)))


def _window_frame(window: pd.DataFrame) -> pd.DataFrame:
    """The 24 hourly values of one window as an hourly frame (blank = NaN)."""
    end = _publish_time(window["end_publish_time"]).iloc[0]
    frame = pd.DataFrame(
        {
            "site_id": window["site_id"].iloc[0],
            "time": pd.date_range(end - pd.Timedelta(hours=23), end, freq="h"),
        }
    )
    for _, row in window.iterrows():
        frame[row["series"]] = row[HOUR_COLUMNS].to_numpy(dtype=np.float64)
    return frame


def _hourly_windows() -> list:
    vectors = pd.read_csv(DATA / "hourly_vectors.csv", dtype={"site_id": str})
    params = []
    for window_id, window in vectors.groupby("window_id", sort=True):
        tags = window["window_tags"].iloc[0]
        marks = [pytest.mark.xfail(strict=True)] if "o3_feed_ambiguous" in tags else []
        params.append(pytest.param(window, id=f"{window_id}-{tags}", marks=marks))
    return params


@pytest.mark.parametrize("window", _hourly_windows())
def test_hourly_window_reproduces_published_moving_values_and_aqi(window):
    frame = _window_frame(window)
    end = compute_aqi(frame).iloc[-1]

    wrong = []
    for _, row in window.iterrows():
        field = row["published_field"]
        got = end[field] if field in end.index else frame[field].iloc[-1]
        expected = row["published_value"]
        if not _same(got, expected):
            wrong.append(f"{field}: computed {got}, published {expected}")

    status = window["end_status"].iloc[0]
    expected_aqi = np.nan if pd.isna(status) else float(window["end_aqi"].iloc[0])
    if not _same(end["aqi"], expected_aqi):
        wrong.append(f"aqi: computed {end['aqi']}, published {expected_aqi}")
    for field in ("pollutant", "status"):
        published = window[f"end_{field}"].iloc[:1]
        if _text(pd.Series([end[field]])) != _text(published):
            wrong.append(
                f"{field}: computed {end[field]}, published {published.iloc[0]}"
            )
    assert not wrong, "; ".join(wrong)
