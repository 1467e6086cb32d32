"""Overlapping sources: the rank rule, published AQI kept, order-independent."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from forecasting.readers import ReadResult, read_path
from forecasting.store import HourlyStore

OFFICIAL = Path(__file__).parent / "data" / "raw" / "crab650_aqx_p_432" / "official"
HOUR = pd.Timestamp("2026-08-01 11:00+08:00")


@pytest.fixture(scope="module")
def realtime() -> ReadResult:
    """The real AQX_P_432 payload of 2026-08-01 11:00 (84 stations)."""
    return read_path(OFFICIAL / "aqx_p_432_2026080111.json.gz")


@pytest.fixture(scope="module")
def validated(realtime: ReadResult) -> ReadResult:
    """A yearly-file row for 中山 (12) at the same hour.

    The real-time record's values, with the corrections a validated yearly file
    makes: PM2.5, blank in the feed, measured as 7, and O3 revised from 42 to 41.
    """
    row = realtime.hourly.loc[realtime.hourly["site_id"] == "12"].copy()
    row = row.drop(columns=[c for c in ("aqi", "pollutant", "status") if c in row])
    row = row.assign(pm2_5=7.0, o3=41.0, source_kind="yearly", source="中山_2026.csv")
    return ReadResult(hourly=row.reset_index(drop=True))


def test_yearly_row_replaces_measurements_and_keeps_published_aqi(
    tmp_path, realtime, validated
):
    store = HourlyStore(tmp_path / "store")
    store.ingest(realtime)

    summary = store.ingest(validated)

    assert summary.stations["12"].replaced == 1
    assert summary.total.added == 0
    row = store.read(["12"]).iloc[0]
    assert (row["pm2_5"], row["o3"], row["so2"]) == (7.0, 41.0, 1.2)
    assert (row["aqi"], row["o3_8hr"], row["status"]) == (33.0, 19.0, "良好")
    assert (row["source_kind"], row["source"]) == ("yearly", "中山_2026.csv")
    other = store.read(["1"]).iloc[0]
    assert other["source_kind"] == "realtime"


def test_realtime_after_yearly_changes_only_published_columns(
    tmp_path, realtime, validated
):
    store = HourlyStore(tmp_path / "store")
    first = store.ingest(validated)

    summary = store.ingest(realtime)

    assert first.stations["12"].added == 1
    assert summary.stations["12"].replaced == 1  # the published AQI arrived
    assert summary.stations["12"].added == 0
    assert summary.total.added == 83
    row = store.read(["12"]).iloc[0]
    assert (row["pm2_5"], row["o3"], row["aqi"]) == (7.0, 41.0, 33.0)
    assert row["source_kind"] == "yearly"

    again = store.ingest(realtime)
    assert (again.total.added, again.total.replaced) == (0, 0)
    assert again.total.unchanged == 84


def test_order_of_ingest_gives_the_same_store(tmp_path, realtime, validated):
    later = read_path(OFFICIAL / "aqx_p_432_2026080112.json.gz")
    sources = [realtime, validated, later]
    stores = []
    for name, order in (("a", [0, 1, 2]), ("b", [2, 1, 0])):
        store = HourlyStore(tmp_path / name)
        for index in order:
            store.ingest(sources[index])
        stores.append(store)

    frames = [store.read() for store in stores]
    assert len(frames[0]) == 168
    for frame in frames[1:]:
        pd.testing.assert_frame_equal(frame, frames[0])
    flags = [store.read_flags() for store in stores]
    for frame in flags[1:]:
        pd.testing.assert_frame_equal(frame, flags[0])


def test_newer_ingest_wins_at_equal_rank(tmp_path, realtime):
    store = HourlyStore(tmp_path / "store")
    store.ingest(realtime)
    revised = realtime.hourly.copy()
    revised.loc[revised["site_id"] == "12", ["pm10", "aqi"]] = [25.0, 34.0]
    revised["source"] = "aqx_p_432_2026080111_revised.json"

    summary = store.ingest(ReadResult(hourly=revised))

    assert summary.stations["12"].replaced == 1
    assert summary.total.unchanged == 83
    row = store.read(["12"]).iloc[0]
    assert (row["pm10"], row["aqi"]) == (25.0, 34.0)
    assert row["source"] == "aqx_p_432_2026080111_revised.json"
    assert store.read(["1"]).iloc[0]["source"] == "aqx_p_432_2026080111.json.gz"


def test_registry_adds_stations_met_in_sources(tmp_path, realtime):
    store = HourlyStore(tmp_path / "store")
    store.ingest(realtime)
    unknown = realtime.hourly.loc[realtime.hourly["site_id"] == "12"].assign(
        site_id="9901", source="new_station.csv"
    )
    seen = pd.DataFrame(
        {"site_id": ["9901"], "name_zh": ["測試站"], "county": ["臺北市"]}
    )

    store.ingest(ReadResult(hourly=unknown, stations=seen))

    registry = store.registry()
    assert len(registry) == 85
    new = registry.loc[registry["site_id"] == "9901"].iloc[0]
    assert (new["name_zh"], new["county"], new["name_en"]) == ("測試站", "臺北市", None)
    zhongshan = registry.loc[registry["site_id"] == "12"].iloc[0]
    assert (zhongshan["name_zh"], zhongshan["name_en"]) == ("中山", "Zhongshan")
    assert zhongshan["latitude"] == pytest.approx(25.06236)
