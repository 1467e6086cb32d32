"""Broken copies of real files give an InputFormatError naming file and line."""

from __future__ import annotations

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
