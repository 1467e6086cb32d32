"""Intervals and band probabilities from residual quantiles, checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from training.intervals import (
    BAND_COLUMNS,
    QUANTILE_LEVELS,
    band_probabilities,
    interval,
    residual_quantiles,
)

# Residuals -10, -9, ..., 10: their 21 quantiles are exactly those values.
EVEN = np.arange(-10.0, 11.0)


def test_residual_quantiles_are_the_empirical_quantiles():
    assert residual_quantiles(EVEN) == pytest.approx(EVEN)
    assert residual_quantiles(np.array([np.nan, 3.0])).tolist() == [3.0] * 21
    assert residual_quantiles(np.array([np.nan])).tolist() == [0.0] * 21
    assert len(QUANTILE_LEVELS) == 21


def test_interval_is_the_10_and_90_percent_points_around_the_prediction():
    lower, upper = interval(np.array([40.0, 3.0]), np.vstack([EVEN, EVEN]))

    assert lower.tolist() == [32.0, 0.0]  # 40 - 8; 3 - 8 clipped at 0
    assert upper.tolist() == [48.0, 11.0]


def test_interval_always_contains_the_prediction():
    biased = np.linspace(2.0, 12.0, 21)  # every residual positive
    lower, upper = interval(np.array([30.0]), biased[None, :])

    assert lower[0] == 30.0
    assert upper[0] == pytest.approx(30.0 + 11.0)  # the 90 % residual


def test_band_probabilities_split_the_residual_distribution_at_band_edges():
    # 45 +- 10: the good/moderate edge 50.5 sits at residual 5.5, the 77.5 %
    # point of a uniform spread between -10 and 10.
    probs = band_probabilities(np.array([45.0]), EVEN[None, :])[0]

    assert probs[0] == pytest.approx(0.775)
    assert probs[1] == pytest.approx(0.225)
    assert probs[2:].tolist() == [0.0] * 4


def test_band_probabilities_sum_to_one_and_reach_every_band():
    preds = np.array([0.0, 50.5, 120.0, 180.0, 250.0, 450.0])
    quantiles = np.tile(EVEN * 3, (len(preds), 1))
    probs = band_probabilities(preds, quantiles)

    assert probs.shape == (6, len(BAND_COLUMNS))
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert (probs >= 0).all()
    assert probs[0, 0] == 1.0  # AQI 0 +- 30: all "good"
    assert probs[1, :2] == pytest.approx([0.5, 0.5])
    assert probs.argmax(axis=1).tolist() == [0, 0, 2, 3, 4, 5]


def test_widening_scales_every_residual_quantile():
    widened = residual_quantiles(EVEN, widening=1.5)
    assert widened == pytest.approx(1.5 * EVEN)
    # an interval around 40 from residuals -10..10: p10 = 40 - 8 x 1.5
    low, high = interval(np.array([40.0]), widened[None, :])
    assert (low[0], high[0]) == pytest.approx((28.0, 52.0))
