"""Yearly station files: every real sample against the curated bundled data."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.errors import InputFormatError
from forecasting.readers import read_path
from forecasting.readers._values import item_column, parse_cells

RAW = Path(__file__).parent / "data" / "raw"
YEARLY = Path(__file__).parents[1] / "forecasting" / "sample_data" / "yearly"

SAMPLES = {
    "renwu_2002_2015/91年仁武站_first3days.csv": "renwu_49_2002_2013",
    "renwu_2002_2015/99年仁武站_first3days.csv": "renwu_49_2002_2013",
    "renwu_2002_2015/101年仁武站_first3days.csv": "renwu_49_2002_2013",
    "renwu_2002_2015/102年仁武站_first3days.csv": "renwu_49_2002_2013",
    "hsinchu_2019_2021/新竹_2019_first3days.csv": "hsinchu_24_2019_2021",
    "hsinchu_2019_2021/新竹_2020_first3days.csv": "hsinchu_24_2019_2021",
    "hsinchu_2019_2021/新竹_2021_xls_first3days_transcribed.csv": (
        "hsinchu_24_2019_2021"
    ),
    "lunbei_2017/AQIofLunbei_2017_xls_first3days_transcribed.csv": "lunbei_38_2017",
    "pingzhen_2019/108年平鎮站_ods_first3days_transcribed.csv": "pingzhen_20_2019",
    "ml_hw1_2014_fengyuan_dali/ML2016_hw1_train_fengyuan_first3days.csv": (
        "fengyuan_28_dali_30_2014"
    ),
    "ml_hw1_2014_fengyuan_dali/"
    "ML2017_hw1_train_fengyuan_big5_noheader_first2days.csv": (
        "fengyuan_28_dali_30_2014"
    ),
    "ml_hw1_2014_fengyuan_dali/ML2018SPRING_hw1_train_dali_first3days.csv": (
        "fengyuan_28_dali_30_2014"
    ),
}


def _curated_window(name: str, result) -> tuple[pd.DataFrame, pd.DataFrame]:
    hourly = pd.read_parquet(YEARLY / f"{name}.hourly.parquet")
    flags = pd.read_parquet(YEARLY / f"{name}.flags.parquet")
    got = result.hourly
    site, start, end = got["site_id"].iloc[0], got["time"].min(), got["time"].max()

    def window(frame: pd.DataFrame) -> pd.DataFrame:
        keep = (frame.site_id == site) & (frame.time >= start) & (frame.time <= end)
        return frame.loc[keep].sort_values("time").reset_index(drop=True)

    return window(hourly), window(flags)


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_sample_cells_equal_the_curated_data(sample: str) -> None:
    result = read_path(RAW / sample)
    expected, expected_flags = _curated_window(SAMPLES[sample], result)

    assert len(result.hourly) == len(expected) > 0
    assert result.hourly["time"].tolist() == expected["time"].tolist()
    for column in result.hourly.columns.drop(
        ["site_id", "time", "source_kind", "source"]
    ):
        np.testing.assert_array_equal(
            result.hourly[column].to_numpy(),
            expected[column].to_numpy(),
            err_msg=column,
        )
    for column in expected.select_dtypes("float64").columns:
        if column not in result.hourly.columns:
            assert expected[column].isna().all(), column

    flags = result.flags
    cells = set(zip(flags["time"], flags["item"], flags["raw"], strict=True))
    curated = set(
        zip(
            expected_flags["time"],
            expected_flags["item"].map(item_column),
            expected_flags["raw"],
            strict=True,
        )
    )
    assert cells == curated
    assert result.rejections == []
    assert (result.hourly["source_kind"] == "yearly").all()


def test_hour_column_zero_is_the_hour_ending_at_one() -> None:
    result = read_path(RAW / "hsinchu_2019_2021" / "新竹_2019_first3days.csv")
    hourly = result.hourly.set_index("time")

    assert (
        hourly.loc[pd.Timestamp("2019-01-01 01:00", tz="Asia/Taipei"), "amb_temp"]
        == 17.5
    )
    # the last column of 2019-01-01 (label 23) is the hour ending at midnight
    assert (
        hourly.loc[pd.Timestamp("2019-01-02 00:00", tz="Asia/Taipei"), "amb_temp"]
        == 17.5
    )
    assert hourly.index.min() == pd.Timestamp("2019-01-01 01:00", tz="Asia/Taipei")
    assert str(result.hourly["time"].dtype) == "datetime64[us, Asia/Taipei]"
    assert result.hourly["site_id"].unique().tolist() == ["24"]


@pytest.mark.parametrize(
    ("sample", "first_amb_temp"),
    [
        ("renwu_2002_2015/91年仁武站_first3days.csv", 16.89),  # 01..24, Big5 CRLF
        ("renwu_2002_2015/99年仁武站_first3days.csv", 16.73),  # 1..24, Big5 CRLF
        ("renwu_2002_2015/102年仁武站_first3days.csv", 13.0),  # 00..23, UTF-8 LF
        ("ml_hw1_2014_fengyuan_dali/ML2016_hw1_train_fengyuan_first3days.csv", 14.0),
    ],
)
def test_every_label_style_starts_at_the_hour_ending_at_one(
    sample: str, first_amb_temp: float
) -> None:
    hourly = read_path(RAW / sample).hourly

    first = hourly.iloc[0]
    assert first["time"].hour == 1 and first["time"].minute == 0
    assert first["amb_temp"] == first_amb_temp


def test_markers_become_nan_and_keep_the_raw_text() -> None:
    result = read_path(RAW / "renwu_2002_2015" / "91年仁武站_first3days.csv")
    flags = result.flags

    assert {"888", "999", "NR", "7.3#", "3x"} <= set(flags["raw"])
    hourly = result.hourly.set_index("time")
    for raw in ("888", "999"):
        hours = flags.loc[
            (flags["raw"] == raw) & (flags["item"] == "wind_direc"), "time"
        ]
        assert not hours.empty
        assert hourly.loc[hours, "wind_direc"].isna().all()
    rain = flags.loc[flags["raw"] == "NR", "time"]
    assert (hourly.loc[rain, "rainfall"] == 0).all()


def test_no_rain_is_nan_for_acid_rain_items() -> None:
    result = read_path(
        RAW / "lunbei_2017" / "AQIofLunbei_2017_xls_first3days_transcribed.csv"
    )
    nr = result.flags[result.flags["raw"] == "NR"]

    assert set(nr["item"]) == {"rainfall", "ph_rain", "rain_cond"}
    at = result.hourly.set_index("time")
    ph_hours = nr.loc[nr["item"] == "ph_rain", "time"]
    assert at.loc[ph_hours, "ph_rain"].isna().all()
    assert {"220*", "11x", "0#"} <= set(result.flags["raw"])


def test_padded_bare_marker_is_flagged_stripped() -> None:
    result = read_path(RAW / "hsinchu_2019_2021" / "新竹_2020_first3days.csv")

    assert result.flags["raw"].tolist() == ["A", "A", "A"]


@pytest.mark.parametrize(
    ("token", "item", "value", "flagged", "rejected"),
    [
        ("54#", "pm10", np.nan, True, False),
        ("#", "pm10", np.nan, True, False),
        ("*", "o3", np.nan, True, False),
        ("x", "no", np.nan, True, False),
        ("A", "so2", np.nan, True, False),
        ("0.3A", "so2", np.nan, True, False),
        ("NR", "rainfall", 0.0, True, False),
        ("NR", "rain_cond", np.nan, True, False),
        ("NA", "pm2_5", np.nan, True, False),
        ("888", "wind_direc", np.nan, True, False),
        ("999", "wind_direc", np.nan, True, False),
        ("-0.2", "no", -0.2, False, False),
        ("", "no", np.nan, False, False),
        ("abc", "no", np.nan, True, True),
        ("20000", "pm10", np.nan, True, True),
        ("101", "rh", np.nan, True, True),
        ("-6", "pm2_5", np.nan, True, True),
        ("400", "wd_hr", np.nan, True, True),
    ],
)
def test_every_token_is_read_by_the_rules(
    token: str, item: str, value: float, flagged: bool, rejected: bool
) -> None:
    parsed = parse_cells(pd.Series([token]), item)

    np.testing.assert_array_equal(parsed.values, [value])
    assert parsed.flagged[0] == flagged
    assert parsed.rejected[0] == rejected


def _copy_lines(source: Path, target: Path, edit) -> Path:
    lines = source.read_bytes().decode("utf-8").splitlines(keepends=True)
    target.write_bytes("".join(edit(lines)).encode("utf-8"))
    return target


def test_duplicate_row_is_a_counted_rejection(tmp_path: Path) -> None:
    source = RAW / "renwu_2002_2015" / "102年仁武站_first3days.csv"
    copy = _copy_lines(source, tmp_path / "dup.csv", lambda lines: [*lines, lines[1]])

    result = read_path(copy)

    assert len(result.rejections) == 1
    rejection = result.rejections[0]
    assert (rejection.source, rejection.line, rejection.field) == (
        "dup.csv",
        56,
        "測項",
    )
    assert "first seen on line 2" in rejection.reason
    assert len(result.hourly) == 72


def test_impossible_value_is_rejected_and_kept_in_flags(tmp_path: Path) -> None:
    source = RAW / "renwu_2002_2015" / "102年仁武站_first3days.csv"

    def edit(lines: list[str]) -> list[str]:
        row = lines[10].split(",")  # line 11: 2013/01/01 PM2.5
        assert row[2] == "PM2.5"
        row[3] = "12000"
        return [*lines[:10], ",".join(row), *lines[11:]]

    result = read_path(_copy_lines(source, tmp_path / "odd.csv", edit))

    assert [(r.line, r.field) for r in result.rejections] == [(11, "00")]
    first = result.hourly.iloc[0]
    assert np.isnan(first["pm2_5"])
    assert "12000" in set(result.flags.loc[result.flags["item"] == "pm2_5", "raw"])


def test_spreadsheet_reads_like_the_csv(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    source = RAW / "lunbei_2017" / "AQIofLunbei_2017_xls_first3days_transcribed.csv"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    with source.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.reader(handle)):
            cells: list[object] = []
            for position, text in enumerate(row):
                if number and position == 0:
                    cells.append(pd.Timestamp(text).to_pydatetime())
                elif number and position > 2:
                    try:
                        cells.append(float(text) if text else None)
                    except ValueError:
                        cells.append(text)
                else:
                    cells.append(text)
            sheet.append(cells)
    path = tmp_path / "AQIofLunbei_2017.xlsx"
    workbook.save(path)

    from_sheet = read_path(path)
    from_csv = read_path(source)

    pd.testing.assert_frame_equal(
        from_sheet.hourly.drop(columns="source"), from_csv.hourly.drop(columns="source")
    )
    assert set(from_sheet.flags["raw"]) == set(from_csv.flags["raw"])


def test_unknown_station_names_the_line(tmp_path: Path) -> None:
    source = RAW / "renwu_2002_2015" / "102年仁武站_first3days.csv"
    copy = _copy_lines(
        source,
        tmp_path / "x.csv",
        lambda lines: [lines[0], lines[1].replace("仁武", "火星")],
    )

    with pytest.raises(InputFormatError, match=r"x\.csv:2: field '測站'.*火星"):
        read_path(copy)
