"""The global LightGBM experiment on real hours of stations 1 and 43."""

from __future__ import annotations

import pandas as pd
import pytest

from training.backtest import CSV_COLUMNS, run_backtest
from training.experiments import train_global

pytestmark = pytest.mark.slow

TZ = "Asia/Taipei"
STATIONS = ["1", "43"]


@pytest.fixture(scope="module")
def model(sample_store):
    hourly = sample_store.read(
        STATIONS, start="2026-07-03 22:00+08:00", end="2026-08-01 23:00+08:00"
    )
    return train_global(hourly, target="change", num_boost_round=10)


def test_global_model_forecasts_like_a_bundle(sample_store, model):
    history = sample_store.read(STATIONS, start="2026-07-28 00:00+08:00")
    issued = [pd.Timestamp("2026-08-02 05:00", tz=TZ)]

    out = model.forecast(history, issued_at=issued)

    assert list(out.columns) == list(CSV_COLUMNS)
    assert len(out) == 2 * 12
    assert set(out["site_id"]) == set(STATIONS)
    assert (out["aqi_p10"] <= out["aqi_pred"]).all()
    assert (out["aqi_pred"] <= out["aqi_p90"]).all()
    probs = out[[c for c in CSV_COLUMNS if c.startswith("p_")]].sum(axis=1)
    assert probs.round(6).eq(1.0).all()


def test_global_model_is_backtested_on_the_expected_rows(sample_store, model):
    result = run_backtest(
        sample_store,
        "2026-08-02 00:00",
        "2026-08-02 11:00",
        STATIONS,
        model="global-change",
        progress=False,
        bundle=model,
    )

    assert result.headline["n_expected"] == 2 * 12 * 12
    assert result.headline["n_scored"] == 2 * 12 * 12
    # a change model starts from the last AQI: one hour ahead it stays close
    h1 = result.by_horizon.query("predictor == 'model' and horizon == 1")
    assert h1["mae"].iloc[0] < 10
