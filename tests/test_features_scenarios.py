"""Scenario AQIs on the real 2026 hours of station 1 (基隆).

Hand-checked window, issue hour 2026-08-06 14:00 (hourly O3 in ppb, from the
bundled AQX_P_432 payload): 08:00..14:00 read 10, 16, 25, 26, 25, 23, 25. If the
air stays as at 14:00, the 8-hour O3 of 15:00 is (150 + 25) / 8 = 21.875 ppb,
sub-index 21.875 x 50 / 54 = 20.3 -> 20.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features import build_features, complete_grid, horizon_matrix, official_components
from features.scenarios import flat_base, scenario_feature_names, stored_name
from features.windows import feature_names

TZ = "Asia/Taipei"
ISSUED = pd.Timestamp("2026-08-06 14:00", tz=TZ)


@pytest.fixture(scope="module")
def keelung(sample_store) -> pd.DataFrame:
    hourly = sample_store.read(stations=["1"], start="2026-07-03 22:00+08:00")
    return hourly.reset_index(drop=True)


@pytest.fixture(scope="module")
def features(keelung) -> pd.DataFrame:
    return build_features(keelung)


def test_flat_scenario_of_the_next_hour_matches_the_hand_checked_window(features):
    row = features[features["issued_at"] == ISSUED]
    o3 = features.set_index("issued_at")["o3_lag0"]
    assert o3.loc[ISSUED - pd.Timedelta(hours=6) : ISSUED].tolist() == [
        10.0, 16.0, 25.0, 26.0, 25.0, 23.0, 25.0,
    ]  # fmt: skip

    assert row[stored_name("flat_si_o3_8hr", 1)].item() == 20.0
    # PM2.5 drives the AQI (31, as published at 14:00); the hourly O3 index
    # stays off below 101 ppb.
    assert row[stored_name("flat_aqi", 1)].item() == 31.0
    assert np.isnan(row[stored_name("flat_si_o3", 1)].item())


def test_yesterday_scenario_at_12_hours_is_the_official_index_12_hours_earlier(
    keelung, features
):
    # At 12 hours every hour of the PM windows (12 h, 4 h) and of the 8-hour
    # O3 window is a guess: the same hours a day earlier, i.e. exactly the
    # windows MOENV averaged 12 hours before the issue hour.
    grid = complete_grid(keelung)
    official = official_components(grid).set_index(grid["time"])
    earlier = features["issued_at"] - pd.Timedelta(hours=12)
    for name in ("si_pm2_5", "si_o3_8hr"):
        guessed = features[stored_name(f"yesterday_{name}", 12)].to_numpy()
        truth = official[name].reindex(earlier).to_numpy()
        both = ~np.isnan(guessed) & ~np.isnan(truth)
        assert both.sum() > 700
        # Official moving values are cut to 1 decimal (PM) or whole ppb (O3)
        # first; the scenario averages do not cut, so an index may differ by 1.
        assert np.mean(np.abs(guessed[both] - truth[both]) <= 1) > 0.99


def test_each_horizon_reads_its_own_scenario_columns(features):
    names = feature_names()
    row = features[features["issued_at"] == ISSUED]
    for horizon in (1, 12):
        x = horizon_matrix(row, horizon)
        for name in scenario_feature_names():
            value = x[0, names.index(name)]
            expected = row[stored_name(name, horizon)].item()
            assert value == pytest.approx(expected, nan_ok=True)


def test_flat_base_falls_back_to_the_last_aqi_and_keeps_its_gaps(features):
    rows = features.iloc[[0, 1]].copy()
    rows[stored_name("flat_aqi", 3)] = [np.nan, 40.0]
    rows["aqi_last"] = [55.0, np.nan]

    base = flat_base(rows, 3)

    assert base[0] == 55.0
    assert np.isnan(base[1])
