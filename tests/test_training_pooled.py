"""Pooled (network-wide) boosters and neighbour features, trained on real hours."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features import FeatureSpec
from forecasting.config import Settings
from training.bundle import ForecastBundle
from training.fit import MEMBERS, horizon_members, split_masks
from training.train import run_training

pytestmark = pytest.mark.slow

STATIONS = ["1", "2"]  # 基隆, 汐止: neighbours


@pytest.fixture(scope="module")
def pooled(sample_store, tmp_path_factory):
    root = tmp_path_factory.mktemp("pooled")
    settings = Settings(
        home=root / "home",
        tracking_uri=f"sqlite:///{root / 'mlflow.db'}",
        artifact_root=root / "artifacts",
    )
    return run_training(
        sample_store,
        stations=STATIONS,
        end="2026-08-05 23:00",
        alias=None,
        n_jobs=1,
        settings=settings,
        spec=FeatureSpec(network_k=3),
        members=("pooled",),
        num_boost_round=30,
        lookback_days=14,
        run_name="test-pooled",
    )


def test_only_the_asked_stations_get_models_from_the_pooled_boosters(pooled):
    bundle = pooled.bundle
    assert sorted(bundle.stations) == STATIONS
    assert sorted(bundle.pooled) == list(range(1, 13))
    members = {
        m
        for s in bundle.stations.values()
        for h in s.model_strings
        for m in s.members(h)
    }
    assert members == {"pooled"}
    # Positions of the whole registry, so serving finds the same neighbours.
    assert bundle.spec.neighbours()["1"][:2] == ("2", "15")


def test_pooled_bundle_round_trips_and_reads_the_neighbours(
    pooled, sample_store, tmp_path
):
    history = sample_store.read(start="2026-08-03 00:00+08:00")
    hour = pd.Timestamp("2026-08-06 14:00", tz="Asia/Taipei")
    loaded = ForecastBundle.load(pooled.bundle.save(tmp_path / "bundle"))

    network = pooled.bundle.forecast(history, issued_at=hour)
    pd.testing.assert_frame_equal(loaded.forecast(history, issued_at=hour), network)
    assert len(network) == 24 and network["aqi_pred"].notna().all()
    alone = loaded.forecast(history[history["site_id"] == "1"], issued_at=hour)
    assert len(alone) == 12 and alone["aqi_pred"].notna().all()
    keelung = network[network["site_id"] == "1"].reset_index(drop=True)
    assert not np.allclose(alone["aqi_pred"], keelung["aqi_pred"])


def test_pooled_split_validates_each_stations_last_fifth():
    hours = pd.date_range("2026-07-01", periods=10, freq="h", tz="Asia/Taipei")
    features = pd.DataFrame(
        {"site_id": ["1"] * 10 + ["2"] * 5, "issued_at": list(hours) + list(hours[:5])}
    )
    usable = pd.Series([True] * 15)
    in_train, in_valid = split_masks(features, usable, gap_hours=2)
    # Station 1: 10 usable hours, the last 2 validate, training ends 2 h before.
    assert in_valid[:10].tolist() == [False] * 8 + [True] * 2
    assert in_train[:10].tolist() == [True] * 6 + [False] * 4
    # Station 2: 5 usable hours, the last one validates.
    assert in_valid[10:].tolist() == [False] * 4 + [True]
    assert in_train[10:].tolist() == [True] * 2 + [False] * 3


def test_pooled_split_validates_on_recent_days_and_trains_on_old_years():
    # A multi-year station: 10 hours of 2005 and 10 hours of 2026.
    old = pd.date_range("2005-03-01", periods=10, freq="h", tz="Asia/Taipei")
    new = pd.date_range("2026-07-01", periods=10, freq="h", tz="Asia/Taipei")
    features = pd.DataFrame(
        {"site_id": ["49"] * 20, "issued_at": list(old) + list(new)}
    )
    in_train, in_valid = split_masks(features, pd.Series([True] * 20), gap_hours=2)
    # A fifth of the 2026 hours validate (not a fifth of all 20 hours) ...
    assert in_valid.tolist() == [False] * 18 + [True] * 2
    # ... and the 2005 hours train, with the 2026 hours up to the gap.
    assert in_train.tolist() == [True] * 16 + [False] * 4


def test_flat_member_joins_the_network_ones_for_the_first_four_hours_only():
    assert horizon_members(MEMBERS, 1) == ["network", "pooled", "flat"]
    assert horizon_members(MEMBERS, 4) == ["network", "pooled", "flat"]
    assert horizon_members(MEMBERS, 5) == ["network", "pooled"]
    assert horizon_members(MEMBERS, 12) == ["network", "pooled"]
    # without a network booster, or asked for alone, a member serves every hour
    assert horizon_members(MEMBERS, 12, pooled=False) == ["flat"]
    assert horizon_members(("change", "flat"), 8) == ["change"]
