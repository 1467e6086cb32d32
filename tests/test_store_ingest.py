"""The store keeps source cells as read, refuses bad frames, changes nothing twice."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.errors import ValidationError
from forecasting.readers import read_path
from forecasting.schema import HOURLY_COLUMNS, MEASUREMENTS
from forecasting.store import HourlyStore

YEARLY = Path(__file__).resolve().parents[1] / "forecasting" / "sample_data" / "yearly"
OFFICIAL = Path(__file__).parent / "data" / "raw" / "crab650_aqx_p_432" / "official"


@pytest.fixture(scope="module")
def lunbei():
    return read_path(YEARLY / "lunbei_38_2017.hourly.parquet")


def _files(root: Path) -> dict[str, float]:
    return {
        p.relative_to(root).as_posix(): p.stat().st_mtime_ns
        for p in root.rglob("*")
        if p.is_file() and p.name != ".lock"
    }


def test_stored_cells_equal_yearly_source_cells(sample_store):
    source = pd.read_parquet(YEARLY / "renwu_49_2002_2013.hourly.parquet")
    stored = sample_store.read(["49"], end="2013-12-31")

    assert len(stored) == len(source) == 97967
    row = stored.loc[stored["time"] == pd.Timestamp("2010-06-15 14:00+08:00")]
    assert row[["so2", "co", "o3", "pm10", "pm2_5"]].iloc[0].tolist() == [
        4.4,
        0.18,
        18.8,
        43.0,
        22.0,
    ]
    assert row["wind_direc"].iloc[0] == 216.36
    assert row["source_kind"].iloc[0] == "yearly"

    items = [c for c in source.columns if c in MEASUREMENTS]
    expected = source.sort_values("time").reset_index(drop=True)
    pd.testing.assert_series_equal(stored["time"], expected["time"])
    for item in items:
        np.testing.assert_array_equal(stored[item], expected[item], err_msg=item)


def test_stored_cells_equal_aqx_p_432_record(sample_store):
    stored = sample_store.read(["12"], start="2026-08-01 11:00", end="2026-08-01 11:00")

    assert len(stored) == 1
    row = stored.iloc[0]
    assert row["time"] == pd.Timestamp("2026-08-01 11:00+08:00")
    assert (row["so2"], row["co"], row["o3"], row["pm10"]) == (1.2, 0.3, 42.0, 21.0)
    assert (row["no2"], row["nox"], row["no"]) == (11.0, 14.3, 3.1)
    assert (row["wind_speed"], row["wind_direc"]) == (1.6, 196.0)
    assert np.isnan(row["pm2_5"]) and np.isnan(row["pm2_5_avg"])
    assert (row["aqi"], row["o3_8hr"], row["pm10_avg"], row["co_8hr"]) == (
        33.0,
        19.0,
        20.0,
        0.2,
    )
    assert row["so2_avg"] == 0.0
    assert row["pollutant"] is None
    assert row["status"] == "良好"


def test_read_has_fixed_columns_sorted_and_taipei_time(sample_store):
    frame = sample_store.read(["49", "12"], start="2013-03-15 22:00", end="2026-07-04")

    assert list(frame.columns) == list(HOURLY_COLUMNS)
    assert str(frame["time"].dt.tz) == "Asia/Taipei"
    assert frame["site_id"].tolist() == sorted(frame["site_id"])
    assert frame["site_id"].iloc[0] == "12"
    renwu = frame.loc[frame["site_id"] == "49", "time"]
    assert renwu.iloc[0] == pd.Timestamp("2013-03-15 22:00+08:00")
    assert renwu.iloc[2] == pd.Timestamp("2026-07-03 22:00+08:00")
    assert frame.loc[frame["site_id"] == "12", "time"].max() == pd.Timestamp(
        "2026-07-04 00:00+08:00"
    )
    some = sample_store.read(["38"], end="2017-12-31", columns=["pm2_5"])
    assert list(some.columns) == ["site_id", "time", "pm2_5"]
    assert len(some) == 7007
    assert sample_store.read(["no-such-station"]).empty


def test_station_ids_and_latest_time(sample_store):
    ids = sample_store.station_ids()

    assert len(ids) == 84  # the real-time network holds every yearly station
    assert {"49", "24", "38", "20", "28", "30"} <= set(ids)
    assert sample_store.latest_time("12") == pd.Timestamp("2026-08-08 23:00+08:00")
    assert sample_store.latest_time("38") == pd.Timestamp("2026-08-08 23:00+08:00")
    spans = sample_store.time_spans().set_index("site_id")
    assert spans.loc["49", "first"] == pd.Timestamp("2002-01-01 01:00+08:00")
    assert spans.loc["49", "rows"] == 97967 + 750
    assert sample_store.latest_time("999") is None


def test_flags_keep_raw_cells_with_station_hour_item_source(sample_store):
    source = pd.read_parquet(YEARLY / "lunbei_38_2017.flags.parquet")
    flags = sample_store.read_flags(["38"])

    assert len(flags) == len(source) == 21007
    first = flags.loc[
        (flags["time"] == pd.Timestamp("2017-01-01 01:00+08:00"))
        & (flags["raw"] == "52x")
    ]
    assert len(first) == 1
    assert first["source"].iloc[0] == "lunbei_38_2017.hourly.parquet"
    expected = source.groupby("raw").size().sort_index()
    assert flags.groupby("raw").size().sort_index().to_dict() == expected.to_dict()


def test_second_ingest_adds_replaces_and_rewrites_nothing(tmp_path, lunbei):
    store = HourlyStore(tmp_path / "store")
    first = store.ingest(lunbei)
    before = _files(store.root)
    manifest = (store.root / "manifest.json").read_bytes()

    second = store.ingest(lunbei)

    assert first.stations["38"].added == 7007
    assert (second.total.added, second.total.replaced) == (0, 0)
    assert second.total.unchanged == 7007
    assert second.stations["38"].flagged == 21007
    assert _files(store.root) == before
    assert (store.root / "manifest.json").read_bytes() == manifest


def test_time_without_timezone_is_refused_and_store_kept(tmp_path, lunbei):
    store = HourlyStore(tmp_path / "store")
    store.ingest(lunbei)
    before = store.read()
    naive = lunbei.hourly.assign(time=lunbei.hourly["time"].dt.tz_localize(None))

    with pytest.raises(ValidationError, match="lunbei_38_2017.*'time'.*timezone"):
        store.ingest(type(lunbei)(hourly=naive))

    pd.testing.assert_frame_equal(store.read(), before)


def test_repeated_station_hour_is_refused(tmp_path, lunbei):
    store = HourlyStore(tmp_path / "store")
    doubled = pd.concat([lunbei.hourly, lunbei.hourly.iloc[[10]]])

    with pytest.raises(ValidationError, match=r"lunbei.*'site_id', 'time' repeat"):
        store.ingest(type(lunbei)(hourly=doubled))

    assert store.read().empty
    assert not (store.root / "manifest.json").exists()


def test_infinite_value_is_refused_naming_field_and_row(tmp_path, lunbei):
    store = HourlyStore(tmp_path / "store")
    broken = lunbei.hourly.copy()
    broken.loc[5, "pm10"] = np.inf

    with pytest.raises(ValidationError, match=r"lunbei.*'pm10' is infinite in row 6"):
        store.ingest(type(lunbei)(hourly=broken))

    assert store.read().empty


def test_manifest_lists_station_year_partitions(sample_store):
    manifest = json.loads((sample_store.root / "manifest.json").read_text())

    assert sorted(k for k in manifest["hourly"] if k.startswith("24/")) == [
        "24/2019",
        "24/2020",
        "24/2021",
        "24/2026",
    ]
    entry = manifest["hourly"]["24/2020"]
    assert entry["file"].startswith("hourly/site_id=24/year=2020/part-")
    assert (sample_store.root / entry["file"]).exists()


def test_empty_store_reads_empty_frames_with_the_columns(tmp_path):
    store = HourlyStore(tmp_path / "nothing-here")

    frame = store.read()

    assert frame.empty and list(frame.columns) == list(HOURLY_COLUMNS)
    assert str(frame["time"].dtype) == "datetime64[us, Asia/Taipei]"
    assert store.read_flags().empty
    assert store.station_ids() == []
    assert store.latest_time("12") is None
    assert len(store.registry()) == 84


def test_source_with_only_rejections_stores_nothing_and_counts_them(tmp_path):
    from forecasting.readers import ReadResult, Rejection

    store = HourlyStore(tmp_path / "store")
    rejection = Rejection("cut.csv", 4, "PM2.5", "row cut short: 7 of 27 fields")

    summary = store.ingest(
        ReadResult(hourly=pd.DataFrame(), rejections=[rejection]), label="cut.csv"
    )

    assert summary.ok and summary.total.added == 0
    assert summary.stations["?"].rejected == 1
    assert str(summary.rejections[0]) == (
        "cut.csv:4 field 'PM2.5': row cut short: 7 of 27 fields"
    )
    assert store.read().empty
