"""Broken copies of real files give an InputFormatError naming file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from forecasting.errors import InputFormatError
from forecasting.readers import read_path

RAW = Path(__file__).parent / "data" / "raw"
SAMPLE = Path(__file__).parents[1] / "forecasting" / "sample_data"
RENWU_2013 = RAW / "renwu_2002_2015" / "102年仁武站_first3days.csv"
RENWU_2002 = RAW / "renwu_2002_2015" / "91年仁武站_first3days.csv"
OFFICIAL = RAW / "crab650_aqx_p_432" / "official" / "aqx_p_432_2026070322.json.gz"
SCRAPED = RAW / "crab650_aqx_p_432" / "aqi_json_publish20260703T22_commitecbb8e67.json"


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_shuffled_header(tmp_path: Path) -> None:
    data = RENWU_2013.read_bytes().replace(b",00,01,", b",01,00,", 1)
    path = _write(tmp_path, "shuffled.csv", data)

    with pytest.raises(InputFormatError, match=r"shuffled\.csv:1: unexpected header"):
        read_path(path)


def test_swapped_leading_columns(tmp_path: Path) -> None:
    data = RENWU_2013.read_bytes().replace(
        "日期,測站,測項".encode(), "測項,測站,日期".encode()
    )
    with pytest.raises(InputFormatError, match=r"swapped\.csv:1"):
        read_path(_write(tmp_path, "swapped.csv", data))


def test_cut_short_row(tmp_path: Path) -> None:
    data = RENWU_2013.read_bytes()[:-40]
    with pytest.raises(InputFormatError, match=r"cut\.csv:55: .*cut short"):
        read_path(_write(tmp_path, "cut.csv", data))


def test_cut_inside_a_utf8_character(tmp_path: Path) -> None:
    data = RENWU_2013.read_bytes()
    end = data.index("仁武".encode()) + 1
    with pytest.raises(InputFormatError, match=r"mid\.csv:2: .*cut short"):
        read_path(_write(tmp_path, "mid.csv", data[:end]))


def test_wrong_encoding(tmp_path: Path) -> None:
    text = RENWU_2002.read_bytes().decode("cp950")
    path = _write(tmp_path, "utf16.csv", text.encode("utf-16"))

    with pytest.raises(InputFormatError, match=r"utf16\.csv:1"):
        read_path(path)


def test_truncated_gzip(tmp_path: Path) -> None:
    data = OFFICIAL.read_bytes()
    with pytest.raises(InputFormatError, match=r"half\.json\.gz: the gzip stream"):
        read_path(_write(tmp_path, "half.json.gz", data[: len(data) // 2]))


def test_truncated_json(tmp_path: Path) -> None:
    data = SCRAPED.read_bytes()
    with pytest.raises(InputFormatError, match=r"half\.json:\d+: not valid JSON"):
        read_path(_write(tmp_path, "half.json", data[: len(data) // 2]))


def test_unknown_json_layout(tmp_path: Path) -> None:
    path = _write(tmp_path, "other.json", b'[{"name": "x", "value": 1}]')
    with pytest.raises(InputFormatError, match=r"other\.json: record 1 has fields"):
        read_path(path)


def test_unknown_csv_layout(tmp_path: Path) -> None:
    path = _write(tmp_path, "other.csv", b"a,b,c\n1,2,3\n")
    with pytest.raises(InputFormatError, match=r"other\.csv:1: unexpected header"):
        read_path(path)


def test_bad_publish_time_names_the_record(tmp_path: Path) -> None:
    text = SCRAPED.read_text("utf-8").replace("2026/07/03 22:00:00", "yesterday", 1)
    path = _write(tmp_path, "late.json", text.encode("utf-8"))
    with pytest.raises(InputFormatError, match=r"late\.json:1: field 'publishtime'"):
        read_path(path)


def test_tidy_time_without_timezone(tmp_path: Path) -> None:
    frame = pd.read_parquet(SAMPLE / "yearly" / "pingzhen_20_2019.hourly.parquet")
    frame["time"] = frame["time"].dt.tz_localize(None)
    path = tmp_path / "naive.hourly.parquet"
    frame.to_parquet(path)

    with pytest.raises(
        InputFormatError, match=r"naive\.hourly\.parquet: field 'time' has no"
    ):
        read_path(path)


def test_cut_short_parquet(tmp_path: Path) -> None:
    data = (SAMPLE / "yearly" / "pingzhen_20_2019.hourly.parquet").read_bytes()
    with pytest.raises(InputFormatError, match=r"cut\.hourly\.parquet: cannot be read"):
        read_path(_write(tmp_path, "cut.hourly.parquet", data[: len(data) // 2]))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFormatError, match="no such file"):
        read_path(tmp_path / "absent.csv")


YII157 = RAW / "aqx_p_432_csv_snapshot_yii157" / "air_quality_data.csv"


def _with_header(tmp_path: Path, name: str, swap: tuple[str, str]) -> Path:
    """Copy the real AQX_P_432 CSV with two header fields swapped."""
    header, body = YII157.read_bytes().split(b"\n", 1)
    fields = header.decode("utf-8-sig").rstrip("\r").split(",")
    first, second = fields.index(swap[0]), fields.index(swap[1])
    fields[first], fields[second] = fields[second], fields[first]
    return _write(tmp_path, name, (",".join(fields) + "\n").encode() + body)


def test_swapped_siteid_and_sitename_are_refused_naming_siteid(
    tmp_path: Path,
) -> None:
    path = _with_header(tmp_path, "names.csv", ("siteid", "sitename"))

    with pytest.raises(InputFormatError) as error:
        read_path(path)

    message = str(error.value)
    assert message.startswith("names.csv:2: field 'siteid' holds '基隆'")
    assert "not a MOENV station id" in message
    assert "header order" in message


def test_swapped_aqi_and_pm2_5_are_refused_as_shuffled(tmp_path: Path) -> None:
    path = _with_header(tmp_path, "values.csv", ("aqi", "pm2.5"))

    with pytest.raises(InputFormatError) as error:
        read_path(path)

    message = str(error.value)
    assert message.startswith("values.csv: ")
    assert "columns look shuffled" in message
    assert "'aqi'" in message and "'pm2.5_avg'" in message


def test_unswapped_aqx_p_432_csv_still_reads(tmp_path: Path) -> None:
    result = read_path(_with_header(tmp_path, "same.csv", ("aqi", "aqi")))

    keelung = result.hourly.set_index("site_id").loc["1"]
    assert len(result.hourly) == 84
    assert keelung["aqi"] == 30
    assert keelung["pm2_5"] == 5


def test_station_hourly_non_digit_station_id_is_refused(tmp_path: Path) -> None:
    payload = json.loads(
        (RAW / "station_hourly" / "aqx_p_319_20220930T08.json").read_text("utf-8")
    )
    payload["records"][0]["siteid"] = payload["records"][0]["sitename"]
    path = _write(tmp_path, "long.json", json.dumps(payload).encode())

    with pytest.raises(InputFormatError, match=r"long\.json:\d+: field 'siteid'"):
        read_path(path)
