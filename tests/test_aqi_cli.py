"""``aqi-forecast aqi``: the official AQI of stored hours written as CSV."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from forecasting.cli import app
from forecasting.config import SAMPLE_DATA
from forecasting.readers import read_aqx_p_432_records
from forecasting.store import HourlyStore

PAYLOAD = SAMPLE_DATA / "aqx_p_432_2026070322_2026080823.json.gz"
STATIONS = ("50", "1", "24")  # 鳳山, 基隆, 新竹


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> str:
    """A store holding the bundled feed's 750 hours of three stations."""
    with gzip.open(PAYLOAD, "rt", encoding="utf-8") as handle:
        records = json.load(handle)["records"]
    chosen = [record for record in records if record["siteid"] in STATIONS]
    home = tmp_path_factory.mktemp("aqi_home")
    HourlyStore(home / "store").ingest(read_aqx_p_432_records(chosen, PAYLOAD.name))
    return str(home)


def _run(*args: str):
    return CliRunner().invoke(app, ["aqi", *args])


def _read(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"site_id": str})


def test_writes_every_stored_station_hour_with_the_published_aqi(home, tmp_path):
    out = tmp_path / "aqi.csv"
    result = _run("--home", home, "--out", str(out))
    assert result.exit_code == 0, result.output

    table = _read(out)
    assert len(table) == 3 * 750
    assert list(table.columns[:5]) == ["site_id", "time", "aqi", "pollutant", "status"]
    assert {"pm2_5_avg", "so2_avg", "si_o3", "si_no2", "color"} <= set(table.columns)

    last = table.set_index(["site_id", "time"]).loc[("50", "2026-08-08T23:00:00+08:00")]
    # Published for 鳳山 at that hour: 104, 臭氧八小時, moving values 22.4/34/72.
    assert (last["aqi"], last["pollutant"]) == (104, "臭氧八小時")
    assert last["status"] == "對敏感族群不健康"
    assert (last["pm2_5_avg"], last["pm10_avg"], last["o3_8hr"]) == (22.4, 34, 72)


def test_a_range_reads_warm_up_hours_before_start(home, tmp_path):
    whole, part = tmp_path / "whole.csv", tmp_path / "part.csv"
    assert _run("--home", home, "--out", str(whole), "-s", "1").exit_code == 0
    result = _run(
        "--home", home, "--out", str(part), "-s", "1",
        "--start", "2026-08-03T05:00", "--end", "2026-08-03 08:00+08:00",
    )  # fmt: skip
    assert result.exit_code == 0, result.output

    ranged = _read(part)
    assert ranged["time"].tolist() == [
        f"2026-08-03T0{hour}:00:00+08:00" for hour in (5, 6, 7, 8)
    ]
    expected = _read(whole).set_index("time").loc[ranged["time"]].reset_index()
    pd.testing.assert_frame_equal(ranged, expected[ranged.columns], check_dtype=False)
    assert ranged["so2_avg"].notna().all()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-s", "999"], "--stations 999: no data in the store"),
        (["--start", "first of August"], "--start: 'first of August' is not a time"),
        (["--start", "2026-08-02", "--end", "2026-08-01"], "is after --end"),
    ],
)
def test_user_mistakes_exit_2_with_a_message_and_write_nothing(
    home, tmp_path, args, message
):
    out = tmp_path / "aqi.csv"
    result = _run("--home", home, "--out", str(out), *args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert not out.exists()


def test_an_empty_store_is_reported(tmp_path):
    result = _run("--home", str(tmp_path), "--out", str(tmp_path / "aqi.csv"))
    assert result.exit_code == 2
    assert "holds no data" in result.output
