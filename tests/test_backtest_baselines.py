"""Baselines on the real 2026 AQX_P_432 hours of station 1 (基隆).

Published AQI, read by hand from the bundled payload: 2026-08-05 10:00 = 27,
2026-08-04 13:00 = 18, 2026-08-04 22:00 = 20; 2026-07-04 10:00 = 31 and
2026-07-05 10:00 = 33; 2026-07-14 15:00 = 30, the hour 16:00 is absent from the
feed, 17:00 = 27.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from forecasting.errors import ValidationError
from training.backtest import expected_rows, observed_frame
from training.baselines import baseline_forecasts, hourly_climatology

TZ = "Asia/Taipei"


def at(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ)


@pytest.fixture(scope="module")
def keelung_observed(sample_store) -> pd.DataFrame:
    hourly = sample_store.read(stations=["1"], start="2026-07-03 22:00+08:00")
    return observed_frame(hourly)


def test_persistence_is_the_published_aqi_at_issue_hour(keelung_observed):
    rows = expected_rows(["1"], pd.date_range(at("2026-08-05 10:00"), periods=1))
    clim = hourly_climatology(keelung_observed, at("2026-08-01 00:00"))

    out = baseline_forecasts(rows, keelung_observed, clim)

    assert len(out) == 12
    assert out["persistence"].tolist() == [27.0] * 12


def test_same_hour_yesterday_is_the_aqi_24_hours_before_target(keelung_observed):
    rows = expected_rows(["1"], pd.date_range(at("2026-08-05 10:00"), periods=1))
    clim = hourly_climatology(keelung_observed, at("2026-08-01 00:00"))

    out = baseline_forecasts(rows, keelung_observed, clim).set_index("horizon")

    assert out.loc[3, "target_time"] == at("2026-08-05 13:00")
    assert out.loc[3, "same_hour_yesterday"] == 18.0
    assert out.loc[12, "same_hour_yesterday"] == 20.0


def test_persistence_carries_the_last_aqi_over_a_missing_hour(keelung_observed):
    rows = expected_rows(["1"], pd.date_range(at("2026-07-14 16:00"), periods=2))
    clim = hourly_climatology(keelung_observed, at("2026-07-10 00:00"))

    out = baseline_forecasts(rows, keelung_observed, clim)
    first = out[out["issued_at"] == at("2026-07-14 16:00")]
    second = out[out["issued_at"] == at("2026-07-14 17:00")]

    assert first["persistence"].eq(30.0).all()
    assert second["persistence"].eq(27.0).all()


def test_same_hour_yesterday_is_missing_when_that_hour_was(keelung_observed):
    rows = expected_rows(["1"], pd.date_range(at("2026-07-15 04:00"), periods=1))
    clim = hourly_climatology(keelung_observed, at("2026-07-10 00:00"))

    out = baseline_forecasts(rows, keelung_observed, clim).set_index("horizon")

    # target 2026-07-15 16:00 - 24 h is the hour absent from the feed
    assert out.loc[12, "target_time"] == at("2026-07-15 16:00")
    assert math.isnan(out.loc[12, "same_hour_yesterday"])
    assert out.loc[11, "same_hour_yesterday"] == 30.0


def test_climatology_averages_only_hours_before_the_start(keelung_observed):
    clim = hourly_climatology(keelung_observed, at("2026-07-06 00:00"))
    rows = expected_rows(["1"], pd.date_range(at("2026-08-05 00:00"), periods=1))

    out = baseline_forecasts(rows, keelung_observed, clim).set_index("horizon")

    ten = clim[(clim["site_id"] == "1") & (clim["hour"] == 10)]
    assert ten["climatology"].iloc[0] == pytest.approx((31 + 33) / 2)
    assert out.loc[10, "climatology"] == pytest.approx(32.0)


def test_baselines_refuse_a_frame_without_aqi(keelung_observed):
    rows = expected_rows(["1"], pd.date_range(at("2026-08-05 10:00"), periods=1))

    with pytest.raises(ValidationError, match="aqi"):
        baseline_forecasts(rows, keelung_observed.drop(columns="aqi"), pd.DataFrame())
