"""Long-format hourly datasets (AQX_P_189..264, AQX_P_461, AQX_P_13, AQX_P_319).

One real recorded payload exists in ``tests/data/raw/station_hourly`` (AQX_P_319,
two records). The other tests reshape real AQX_P_432 hours into the long layout
(one record per station, item and hour): the values are real, the layout is
derived.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.readers import (
    read_aqx_p_432_records,
    read_path,
    read_station_hourly_records,
)

RAW = Path(__file__).parent / "data" / "raw"
OFFICIAL = RAW / "crab650_aqx_p_432" / "official" / "aqx_p_432_2026080111.json.gz"
ITEMS = {
    "so2": "SO2",
    "co": "CO",
    "o3": "O3",
    "pm10": "PM10",
    "pm2.5": "PM2.5",
    "no2": "NO2",
    "nox": "NOx",
    "no": "NO",
    "wind_speed": "WIND_SPEED",
    "wind_direc": "WIND_DIREC",
}


def _official() -> list[dict]:
    return json.loads(gzip.decompress(OFFICIAL.read_bytes()))["records"]


def _long(records: list[dict]) -> list[dict]:
    """Reshape AQX_P_432 records: one record per station, item and hour."""
    return [
        {
            "siteid": r["siteid"],
            "sitename": r["sitename"],
            "county": r["county"],
            "itemid": str(number),
            "itemname": field,
            "itemengname": item,
            "itemunit": "",
            "monitordate": r["publishtime"],
            "concentration": r[field],
        }
        for r in records
        for number, (field, item) in enumerate(ITEMS.items())
    ]


def test_real_recorded_payload_is_read() -> None:
    result = read_path(RAW / "station_hourly" / "aqx_p_319_20220930T08.json")
    hourly = result.hourly.set_index("site_id")

    assert hourly.loc["85", "pm10"] == 62.0 and hourly.loc["84", "pm10"] == 16.0
    assert (hourly["time"] == pd.Timestamp("2022-09-30 08:00", tz="Asia/Taipei")).all()
    assert (hourly["source_kind"] == "station_hourly").all()
    assert set(result.stations["name_zh"]) == {"大城", "富貴角"}


def test_reshaped_hour_equals_the_realtime_reader() -> None:
    records = _official()
    long = read_station_hourly_records(_long(records), "long")
    wide = read_aqx_p_432_records(records, "wide")

    columns = [item.lower().replace(".", "_") for item in ITEMS.values()]
    pd.testing.assert_frame_equal(
        long.hourly[["site_id", "time", *columns]],
        wide.hourly[["site_id", "time", *columns]],
        check_like=True,
    )


def test_markers_and_camel_case_fields(tmp_path: Path) -> None:
    records = _long(_official()[:1])
    records[0]["concentration"] = "54#"
    records.append({**records[1], "itemengname": "RAINFALL", "concentration": "NR"})
    camel = [
        {key.title().replace("name", "Name"): value for key, value in r.items()}
        for r in records
    ]
    path = tmp_path / "long.json"
    path.write_text(json.dumps({"records": camel}, ensure_ascii=False), "utf-8")

    result = read_path(path)
    row = result.hourly.iloc[0]

    assert np.isnan(row["so2"]) and row["rainfall"] == 0.0
    assert sorted(result.flags["raw"]) == ["54#", "NR"]


def test_csv_download_with_bom(tmp_path: Path) -> None:
    records = _long(_official())
    frame = pd.DataFrame(records)
    path = tmp_path / "aqx_p_200.csv"
    path.write_bytes(frame.to_csv(index=False).encode("utf-8-sig"))

    from_csv = read_path(path).hourly.drop(columns="source")
    from_json = read_station_hourly_records(records, "x").hourly.drop(columns="source")

    pd.testing.assert_frame_equal(from_csv, from_json)


def test_duplicate_item_hour_is_a_counted_rejection() -> None:
    records = _long(_official()[:2])
    result = read_station_hourly_records([*records, dict(records[3])], "dup")

    assert [(r.line, r.field) for r in result.rejections] == [(21, "monitordate")]
    assert len(result.hourly) == 2
