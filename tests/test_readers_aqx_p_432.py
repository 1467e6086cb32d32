"""AQX_P_432 real-time feed: API layout, scraper layout, CamelCase, CSV with BOM."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.readers import read_aqx_p_432_records, read_path

RAW = Path(__file__).parent / "data" / "raw"
CRAB = RAW / "crab650_aqx_p_432"
OFFICIAL = CRAB / "official" / "aqx_p_432_2026080111.json.gz"
SCRAPED = CRAB / "aqi_json_publish20260801T11_commit85698bb2.json"
CSV = RAW / "aqx_p_432_csv_snapshot_yii157" / "air_quality_data.csv"
BUNDLED = (
    Path(__file__).parents[1]
    / "forecasting"
    / "sample_data"
    / "aqx_p_432_2026070322_2026080823.json.gz"
)
CAMEL = {
    "sitename": "SiteName",
    "county": "County",
    "aqi": "AQI",
    "pollutant": "Pollutant",
    "status": "Status",
    "so2": "SO2",
    "co": "CO",
    "co_8hr": "CO_8hr",
    "o3": "O3",
    "o3_8hr": "O3_8hr",
    "pm10": "PM10",
    "pm2.5": "PM2.5",
    "no2": "NO2",
    "nox": "NOx",
    "no": "NO",
    "wind_speed": "WindSpeed",
    "wind_direc": "WindDirec",
    "publishtime": "PublishTime",
    "pm2.5_avg": "PM2.5_AVG",
    "pm10_avg": "PM10_AVG",
    "so2_avg": "SO2_AVG",
    "longitude": "Longitude",
    "latitude": "Latitude",
    "siteid": "SiteId",
}


def _official_records() -> list[dict]:
    return json.loads(gzip.decompress(OFFICIAL.read_bytes()))["records"]


def _at(result, site_id: str) -> pd.Series:
    hourly = result.hourly
    return hourly.loc[hourly["site_id"] == site_id].iloc[0]


def test_api_payload_cells_are_the_published_strings() -> None:
    path = CRAB / "official" / "aqx_p_432_2026070322.json.gz"
    result = read_path(path)
    nantou = _at(result, "36")  # 南投, published 2026/07/03 22:00:00

    assert nantou["time"] == pd.Timestamp("2026-07-03 22:00", tz="Asia/Taipei")
    assert (nantou["aqi"], nantou["pm2_5"], nantou["pm2_5_avg"]) == (44.0, 10.0, 11.0)
    assert (nantou["o3_8hr"], nantou["co"], nantou["nox"]) == (36.0, 0.13, 4.2)
    assert nantou["status"] == "良好" and nantou["pollutant"] is None
    assert len(result.hourly) == 84 and result.hourly["site_id"].is_unique
    assert (result.hourly["source_kind"] == "realtime").all()
    assert (result.hourly["source"] == path.name).all()
    station = result.stations.set_index("site_id").loc["36"]
    assert (station["latitude"], station["longitude"]) == (23.913, 120.6853)


def test_scraper_renamed_fields_read_like_the_api_payload() -> None:
    scraped = read_path(SCRAPED).hourly.drop(columns="source")
    official = read_path(OFFICIAL).hourly.drop(columns="source")

    pd.testing.assert_frame_equal(scraped, official)


def test_camel_case_fields_read_like_lower_case() -> None:
    records = _official_records()
    camel = [{CAMEL[key]: value for key, value in r.items()} for r in records]

    pd.testing.assert_frame_equal(
        read_aqx_p_432_records(camel, "camel").hourly.drop(columns="source"),
        read_aqx_p_432_records(records, "lower").hourly.drop(columns="source"),
    )


@pytest.mark.parametrize("compress", [False, True])
def test_bare_list_plain_or_gzip_reads_like_records(
    tmp_path: Path, compress: bool
) -> None:
    data = json.dumps(_official_records(), ensure_ascii=False).encode("utf-8")
    path = tmp_path / ("bare.json.gz" if compress else "bare.json")
    path.write_bytes(gzip.compress(data) if compress else data)

    pd.testing.assert_frame_equal(
        read_path(path).hourly.drop(columns="source"),
        read_path(OFFICIAL).hourly.drop(columns="source"),
    )


def test_csv_with_bom_and_dash_wind() -> None:
    result = read_path(CSV)
    keelung = _at(result, "1")

    assert keelung["time"] == pd.Timestamp("2026-05-12 10:00", tz="Asia/Taipei")
    assert (keelung["aqi"], keelung["so2"], keelung["pm2_5_avg"]) == (30.0, 1.1, 5.2)
    assert (keelung["wind_speed"], keelung["wind_direc"]) == (1.7, 83.0)
    names = result.stations.set_index("site_id")["name_zh"]
    no_wind = result.hourly[result.hourly["site_id"].map(names).isin(["三重", "大同"])]
    assert len(no_wind) == 2 and no_wind["wind_speed"].isna().all()
    assert result.flags.empty and result.rejections == []
    assert result.hourly["pollutant"].isna().sum() == 35


def test_scraper_aqi_zero_is_no_aqi_and_kept_in_flags() -> None:
    result = read_path(CRAB / "aqi_json_publish20260703T22_commitecbb8e67.json")
    records = json.loads(
        (CRAB / "aqi_json_publish20260703T22_commitecbb8e67.json").read_text("utf-8")
    )
    zero = [r["site_id"] for r in records if r["aqi"] == 0]

    assert zero == result.flags["site_id"].tolist()
    assert result.flags["item"].tolist() == ["aqi"] * len(zero)
    assert result.flags["raw"].tolist() == ["0"] * len(zero)
    assert np.isnan(_at(result, zero[0])["aqi"])


def test_duplicate_station_hour_is_a_counted_rejection() -> None:
    records = _official_records()
    result = read_aqx_p_432_records([*records, dict(records[5])], "dup.json")

    assert len(result.hourly) == 84
    assert [(r.source, r.line, r.field) for r in result.rejections] == [
        ("dup.json", 85, "publishtime")
    ]
    assert "first seen on line 6" in result.rejections[0].reason


def test_impossible_value_is_a_counted_rejection_of_the_cell() -> None:
    records = [dict(r) for r in _official_records()]
    records[0]["pm2.5"] = "-40"
    records[1]["wind_direc"] = "720"
    result = read_aqx_p_432_records(records, "odd.json")

    assert [(r.line, r.field) for r in result.rejections] == [
        (1, "pm2_5"),
        (2, "wind_direc"),
    ]
    assert set(result.flags["raw"]) == {"-40", "720"}
    assert np.isnan(_at(result, records[0]["siteid"])["pm2_5"])


def test_bundled_payload_reads_whole() -> None:
    result = read_path(BUNDLED)
    hourly = result.hourly

    assert len(hourly) == 63_000
    assert hourly["site_id"].nunique() == 84 and hourly["time"].nunique() == 750
    assert hourly["time"].min() == pd.Timestamp("2026-07-03 22:00", tz="Asia/Taipei")
    assert hourly["time"].max() == pd.Timestamp("2026-08-08 23:00", tz="Asia/Taipei")
    keys = list(zip(hourly["site_id"], hourly["time"], strict=True))
    assert keys == sorted(keys)
    assert result.rejections == []
    records = json.loads(gzip.decompress(BUNDLED.read_bytes()))["records"]
    assert hourly["aqi"].isna().sum() == sum(r["aqi"] == "" for r in records)
    assert hourly["pm2_5"].isna().sum() == sum(r["pm2.5"] == "" for r in records)
