"""Scores on a small frame computed by hand (see the comments for the sums)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from training.scores import (
    aqi_band,
    critical_success_index,
    headline,
    mean_over_horizons,
    reliability_table,
    score_table,
)

NAN = float("nan")
BANDS = ["p_good", "p_moderate", "p_usg", "p_unhealthy", "p_very_unhealthy"]


def _probs(**given: float) -> dict[str, float]:
    out = dict.fromkeys(BANDS + ["p_hazardous"], 0.0)
    return out | given


@pytest.fixture
def scored() -> pd.DataFrame:
    rows = [
        # h, obs, pred, p10, p90, persistence, probabilities
        (1, 40, 45, 35, 50, 50, _probs(p_good=1.0)),
        (1, 120, 110, 100, 115, 90, _probs(p_moderate=0.5, p_usg=0.5)),
        (1, 80, 105, 90, 120, 102, _probs(p_moderate=1.0)),
        (1, NAN, 60, 50, 70, 70, _probs(p_moderate=1.0)),  # no observation
        (1, 60, NAN, NAN, NAN, 55, _probs()),  # the model skipped it
        (2, 50, 52, 45, 60, 50, _probs(p_good=1.0)),
    ]
    records = []
    for i, (h, obs, pred, p10, p90, pers, probs) in enumerate(rows):
        records.append(
            {
                "site_id": "1",
                "issued_at": pd.Timestamp("2026-08-02 00:00", tz="Asia/Taipei")
                + pd.Timedelta(hours=i),
                "horizon": h,
                "aqi_obs": obs,
                "aqi_pred": pred,
                "aqi_p10": p10,
                "aqi_p90": p90,
                "persistence": pers,
                "same_hour_yesterday": 40.0,
                "climatology": 45.0,
            }
            | probs
        )
    frame = pd.DataFrame.from_records(records)
    frame.loc[4, BANDS + ["p_hazardous"]] = NAN
    return frame


def _row(table: pd.DataFrame, predictor: str, horizon: int = 1) -> pd.Series:
    found = table[(table["predictor"] == predictor) & (table["horizon"] == horizon)]
    return found.iloc[0]


def test_mae_rmse_bias_and_counts_of_the_model(scored):
    model = _row(score_table(scored, "horizon"), "model")

    # errors on the three scored rows: +5, -10, +25
    assert model["n_expected"] == 5
    assert model["n_observed"] == 4
    assert model["n_predicted"] == 4
    assert model["n_scored"] == 3
    assert model["mae"] == pytest.approx(40 / 3)
    assert model["rmse"] == pytest.approx(math.sqrt((25 + 100 + 625) / 3))
    assert model["bias"] == pytest.approx(20 / 3)


def test_persistence_is_scored_on_its_own_rows_and_skill_on_common_rows(scored):
    table = score_table(scored, "horizon")
    persistence = _row(table, "persistence")
    model = _row(table, "model")

    # persistence errors: +10, -30, +22 and -5 (the row the model skipped)
    assert persistence["n_scored"] == 4
    assert persistence["mae"] == pytest.approx(67 / 4)
    assert persistence["skill"] == pytest.approx(0.0)
    # on the model's three rows persistence has MAE 62 / 3
    assert model["skill"] == pytest.approx(1 - (40 / 3) / (62 / 3))


def test_csi_counts_hits_misses_and_false_alarms_above_100(scored):
    table = score_table(scored, "horizon")
    model = _row(table, "model")
    persistence = _row(table, "persistence")

    assert (model["hits"], model["misses"], model["false_alarms"]) == (1, 0, 1)
    assert model["csi"] == pytest.approx(0.5)
    assert (persistence["hits"], persistence["misses"]) == (0, 1)
    assert persistence["false_alarms"] == 1
    assert persistence["csi"] == 0.0


def test_coverage_band_hit_and_brier_of_the_model(scored):
    model = _row(score_table(scored, "horizon"), "model")

    assert model["coverage"] == pytest.approx(1 / 3)  # only 40 in [35, 50]
    assert model["band_hit"] == pytest.approx(2 / 3)  # 80 is moderate, 105 not
    assert model["brier"] == pytest.approx((0 + 0.5 + 0) / 3)
    assert model["width"] == pytest.approx((15 + 15 + 30) / 3)


def test_mean_over_horizons_weighs_each_horizon_equally(scored):
    table = score_table(scored, "horizon")
    overall = score_table(scored, None)

    mae = mean_over_horizons(table)
    figures = headline(table, overall)

    assert mae["model"] == pytest.approx((40 / 3 + 2) / 2)
    assert mae["persistence"] == pytest.approx((67 / 4 + 0) / 2)
    # Skill on the model's rows: persistence errs 10, 30, 22 there at 1 h
    # (not on the row the model skipped), 0 at 2 h.
    assert figures["persistence_mae_model_rows"] == pytest.approx((62 / 3 + 0) / 2)
    assert figures["skill_mean"] == pytest.approx(1 - mae["model"] / (31 / 3))
    assert figures["n_expected"] == 6
    assert figures["n_scored"] == 4


def test_aqi_bands_follow_published_integers():
    bands = aqi_band(np.array([0, 50, 50.4, 50.5, 100, 101, 151, 201, 301, NAN]))

    assert bands.tolist() == [0, 0, 0, 1, 1, 2, 3, 4, 5, -1]


def test_csi_is_nan_without_any_event():
    result = critical_success_index(np.array([20.0, 30.0]), np.array([25.0, NAN]))

    assert result["hits"] == result["misses"] == result["false_alarms"] == 0
    assert math.isnan(result["csi"])


def test_reliability_bins_pool_the_band_probabilities(scored):
    table = reliability_table(scored).set_index(["event", "bin_low"])

    # four observed rows with all probabilities: 24 band forecasts; p = 0.5
    # twice (row 2, moderate and usg: usg happened) in the bin [0.5, 0.6)
    half = table.loc[("band", 0.5)]
    assert half["n"] == 2
    assert half["observed_freq"] == pytest.approx(0.5)
    assert table.xs("band", level="event")["n"].sum() == 4 * 6
