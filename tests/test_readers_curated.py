"""The curated bundled layout: ``*.hourly.parquet`` with its ``*.flags.parquet``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.readers import read_path

YEARLY = Path(__file__).parents[1] / "forecasting" / "sample_data" / "yearly"
HSINCHU = YEARLY / "hsinchu_24_2019_2021.hourly.parquet"


def test_bundled_file_is_read_cell_by_cell() -> None:
    result = read_path(HSINCHU)
    source = pd.read_parquet(HSINCHU).sort_values(["site_id", "time"])
    flags = pd.read_parquet(YEARLY / "hsinchu_24_2019_2021.flags.parquet")

    assert len(result.hourly) == len(source) == 20_927
    for column in ("pm2_5", "amb_temp", "wind_direc", "rainfall"):
        np.testing.assert_array_equal(result.hourly[column], source[column])
    assert (result.hourly["source_kind"] == "yearly").all()
    assert len(result.flags) == len(flags)
    assert set(result.flags["item"]) <= set(result.hourly.columns)
    assert "pm2_5" in set(result.flags["item"])
    assert result.stations.iloc[0].to_dict() == {
        "site_id": "24",
        "name_zh": "新竹",
        "county": "新竹市",
    }


def test_duplicate_and_impossible_rows_are_counted(tmp_path: Path) -> None:
    frame = pd.read_parquet(YEARLY / "pingzhen_20_2019.hourly.parquet")
    frame.loc[3, "rh"] = 140.0
    frame = pd.concat([frame, frame.iloc[[10]]], ignore_index=True)
    path = tmp_path / "copy.hourly.parquet"
    frame.to_parquet(path)

    result = read_path(path)

    found = [(r.line, r.field) for r in result.rejections]
    assert found == [(len(frame), "time"), (4, "rh")]
    assert np.isnan(result.hourly.loc[3, "rh"])
    assert result.flags["raw"].tolist() == ["140"]
    assert len(result.hourly) == len(frame) - 1
