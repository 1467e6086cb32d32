"""Feature windows on the real 2026 AQX_P_432 hours: grid, lags, means, no leak.

Hand-checked values come from the bundled payload (station 1 = 基隆): its feed
skipped the hour 2026-07-14 16:00; published AQI 13:00..19:00 was
28, 28, 30, (none), 27, 30, 29.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from features import (
    FeatureSpec,
    build_features,
    complete_grid,
    observed_aqi,
    target_calendar,
    targets,
    wind_uv,
)
from forecasting.aqi import compute_aqi
from forecasting.errors import ValidationError

TZ = "Asia/Taipei"


def at(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ)


@pytest.fixture(scope="module")
def network(sample_store) -> pd.DataFrame:
    """The 2026 hours of every station (the AQX_P_432 payload)."""
    return sample_store.read(start="2026-07-03 22:00+08:00")


@pytest.fixture(scope="module")
def keelung(network) -> pd.DataFrame:
    return network[network["site_id"] == "1"].reset_index(drop=True)


@pytest.fixture(scope="module")
def keelung_features(keelung) -> pd.DataFrame:
    return build_features(keelung).set_index("issued_at")


def test_complete_grid_keeps_a_missing_hour_as_a_nan_row(keelung):
    grid = complete_grid(keelung)

    assert len(keelung) == 750
    assert len(grid) == 866  # 2026-07-03 22:00 .. 2026-08-08 23:00, hourly
    assert grid["time"].diff().dropna().eq(pd.Timedelta(hours=1)).all()
    gap = grid[grid["time"] == at("2026-07-14 16:00")].iloc[0]
    assert math.isnan(gap["pm2_5"]) and math.isnan(gap["aqi"])
    assert gap["site_id"] == "1"


def test_complete_grid_refuses_duplicates_and_naive_times(keelung):
    with pytest.raises(ValidationError, match="appears"):
        complete_grid(pd.concat([keelung, keelung.iloc[:1]]))
    with pytest.raises(ValidationError, match="timezone"):
        complete_grid(keelung.assign(time=keelung["time"].dt.tz_localize(None)))


def test_lag_one_across_the_real_gap_is_nan_not_the_hour_before(keelung_features):
    row = keelung_features.loc[at("2026-07-14 17:00")]

    assert row["aqi_lag0"] == 27
    assert math.isnan(row["aqi_lag1"])  # 16:00 was never published
    assert row["aqi_lag2"] == 30  # 15:00
    assert row["aqi_lag4"] == 28  # 13:00
    assert bool(row["has_data"])
    assert not bool(keelung_features.loc[at("2026-07-14 16:00"), "has_data"])


def test_rolling_means_match_hand_computed_windows(keelung_features):
    at_15 = keelung_features.loc[at("2026-07-14 15:00")]
    at_17 = keelung_features.loc[at("2026-07-14 17:00")]
    at_19 = keelung_features.loc[at("2026-07-14 19:00")]

    assert at_15["aqi_mean3h"] == pytest.approx((28 + 28 + 30) / 3)
    assert at_17["aqi_mean3h"] == pytest.approx((30 + 27) / 2)  # 16:00 missing
    assert at_19["aqi_mean3h"] == pytest.approx((27 + 30 + 29) / 3)
    assert at_19["aqi_mean6h"] == pytest.approx((28 + 30 + 27 + 30 + 29) / 5)


def test_last_aqi_carries_over_the_gap_but_lag_zero_does_not(keelung_features):
    at_16 = keelung_features.loc[at("2026-07-14 16:00")]

    assert math.isnan(at_16["aqi_lag0"])
    assert at_16["aqi_last"] == 30


def test_observed_aqi_is_published_else_computed_where_measured(network):
    station = complete_grid(network[network["site_id"] == "1"])
    observed = observed_aqi(station)
    computed = compute_aqi(station)["aqi"]
    published = station["aqi"]

    unpublished = station["time"] == at("2026-08-05 12:00")  # pollutants, no AQI
    assert published[unpublished].isna().all()
    assert observed[unpublished].iloc[0] == computed[unpublished].iloc[0]
    assert observed[unpublished].iloc[0] > 0
    both = published.notna()
    assert (observed[both] == published[both]).all()
    gap = station["time"] == at("2026-07-14 16:00")
    assert observed[gap].isna().all()  # computed AQI exists there, but no data


@pytest.fixture(scope="module")
def network_spec(sample_store) -> FeatureSpec:
    """Two neighbours per station, picked from the store's registry."""
    registry = sample_store.registry().dropna(subset=["latitude", "longitude"])
    positions = tuple(
        (site, float(lat), float(lon))
        for site, lat, lon in registry[["site_id", "latitude", "longitude"]].itertuples(
            index=False
        )
    )
    return FeatureSpec(network_k=2, positions=positions)


@pytest.mark.parametrize("with_network", [False, True], ids=["own", "network"])
def test_no_feature_for_issue_time_reads_a_later_value(
    network, network_spec, with_network
):
    spec = network_spec if with_network else FeatureSpec()
    # 1 (Keelung) and 2 (Xizhi) are neighbours; 85 is far from both.
    stations = network[network["site_id"].isin(["1", "2", "85"])]
    cut = at("2026-07-25 12:00")
    before = build_features(stations, spec)

    garbled = stations.copy()
    later = garbled["time"] > cut
    numeric = garbled.select_dtypes("number").columns
    rng = np.random.default_rng(0)
    garbled.loc[later, numeric] = rng.uniform(0, 900, size=(later.sum(), len(numeric)))
    garbled.loc[later & (rng.uniform(size=len(garbled)) < 0.3), numeric] = np.nan
    after = build_features(garbled, spec)
    truncated = build_features(stations[~later], spec)

    def up_to_cut(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["issued_at"] <= cut].reset_index(drop=True)

    pd.testing.assert_frame_equal(up_to_cut(before), up_to_cut(after))
    # Without the later rows at all, a station's grid may end earlier (85's
    # feed stops before the cut); every row it still has is the same.
    kept = up_to_cut(before).merge(truncated[["site_id", "issued_at"]])
    pd.testing.assert_frame_equal(kept, up_to_cut(truncated))
    assert len(up_to_cut(before)) == 3 * len(
        pd.date_range(at("2026-07-03 22:00"), cut, freq="h")
    )
    changed = before[before["issued_at"] > cut].reset_index(drop=True)
    assert not changed.equals(after[after["issued_at"] > cut].reset_index(drop=True))
    if with_network:
        # The network columns are real numbers that the later hours do change.
        keelung = up_to_cut(before).query("site_id == '1'")
        assert keelung["nb_aqi_mean_lag0"].notna().mean() > 0.8
        late = before["issued_at"] > cut
        assert not np.allclose(
            before.loc[late, "nb_aqi_max_lag1"].fillna(-1),
            after.loc[late, "nb_aqi_max_lag1"].fillna(-1),
        )


def test_wind_components_point_where_the_wind_blows(keelung):
    uv = wind_uv(pd.Series([2.0, 3.0, 0.5]), pd.Series([0.0, 90.0, 296.0]))

    assert uv.loc[0].tolist() == pytest.approx([0.0, -2.0])  # from north: southward
    assert uv.loc[1].tolist() == pytest.approx([-3.0, 0.0])  # from east: westward
    first = keelung.iloc[0]  # 2026-07-03 22:00: 0.5 m/s from 296°
    assert (first["wind_speed"], first["wind_direc"]) == (0.5, 296.0)
    assert uv.loc[2, "wind_u"] == pytest.approx(0.4494, abs=1e-4)
    assert uv.loc[2, "wind_v"] == pytest.approx(-0.2192, abs=1e-4)


def test_target_calendar_is_the_hour_of_the_target_time():
    issued = pd.Series([at("2026-08-08 23:00"), at("2026-08-08 05:00")])
    calendar = target_calendar(issued, horizon=1)

    assert calendar.loc[0].tolist() == pytest.approx([0.0, 1.0])  # 00:00
    assert calendar.loc[1].tolist() == pytest.approx([1.0, 0.0])  # 06:00


def test_targets_are_the_aqi_h_hours_later_and_nan_across_gaps(keelung):
    features = build_features(keelung)
    future = targets(features, (1, 2)).set_index(features["issued_at"])

    assert future.loc[at("2026-07-14 14:00"), "y_h01"] == 30
    assert math.isnan(future.loc[at("2026-07-14 15:00"), "y_h01"])
    assert future.loc[at("2026-07-14 15:00"), "y_h02"] == 27
    assert math.isnan(future.loc[at("2026-08-08 23:00"), "y_h01"])  # last hour


def test_neighbour_features_are_the_nearest_stations_values(network, network_spec):
    # Keelung's two nearest stations are Xizhi (2) and 15 (per the registry).
    assert network_spec.neighbours()["1"] == ("2", "15")
    three = network[network["site_id"].isin(["1", "2", "15"])]
    features = build_features(three, network_spec).set_index(["site_id", "issued_at"])
    # Published AQI at 02:00 / 03:00 on 2026-07-18: Keelung 38 / 38,
    # Xizhi 52 / 48, station 15 35 / 33.
    row = features.loc[("1", at("2026-07-18 03:00"))]
    assert row["nb_aqi_mean_lag1"] == pytest.approx((52 + 35) / 2)
    assert row["nb_aqi_max_lag1"] == 52
    assert row["nb_aqi_mean_lag0"] == pytest.approx((48 + 33) / 2)
    assert row["net_aqi_chg1h"] == pytest.approx((0 - 4 - 2) / 3)
