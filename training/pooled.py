"""A network-wide booster per horizon that every station's booster starts from.

The pooled booster learns, from every station's rows, how the AQI changes from
the last observation; each station's own booster then adds a few rounds on the
station's rows, starting from the pooled prediction (LightGBM's ``init_model``
idea, done with ``init_score`` so that the pooled trees are stored once per
horizon and not copied into every station's model). A forecast is the last
observed AQI + the pooled change + the station's correction.
"""

from __future__ import annotations

import logging
import time as _time

import lightgbm as lgb
import numpy as np
import pandas as pd

from features import FeatureSpec, horizon_matrix
from training.fit import EARLY_STOPPING_ROUNDS, MIN_TRAIN_ROWS, split_masks

logger = logging.getLogger(__name__)

#: LightGBM parameters of the pooled boosters (many rows: bigger leaves).
POOLED_PARAMS = {
    "objective": "l1",
    "learning_rate": 0.15,
    "num_leaves": 31,
    "min_data_in_leaf": 100,
    "max_bin": 63,
    "feature_fraction": 0.6,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "num_threads": 2,
    "verbosity": -1,
    "seed": 7,
    "deterministic": True,
}
POOLED_ROUNDS = 200


def fit_pooled(
    features: pd.DataFrame,
    future: pd.DataFrame,
    spec: FeatureSpec,
    horizons: tuple[int, ...],
    params: dict | None = None,
    num_boost_round: int = POOLED_ROUNDS,
) -> tuple[dict[int, str], dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Fit one change booster per horizon on every station's rows.

    Parameters
    ----------
    features, future:
        :func:`features.build_features` and :func:`features.targets` of the
        whole network (same index).
    spec, horizons:
        Feature spec and hours ahead.
    params, num_boost_round:
        LightGBM parameters (default :data:`POOLED_PARAMS`) and upper bound of
        rounds (early stopping on the pooled validation rows picks fewer).

    Returns
    -------
    tuple
        Model strings per horizon (refit on train + validation rows: the latest
        hours matter most), and per horizon the pooled change predicted for
        every row by the booster that saw only training rows (to fit and
        validate the stations) and by the refit booster (to refit them).
    """
    params = dict(params or POOLED_PARAMS)
    base = features["aqi_last"].to_numpy(dtype="float64")
    usable = features["aqi_last"].notna() & future.notna().any(axis=1)
    in_train, in_valid = split_masks(features, usable, max(horizons))
    strings: dict[int, str] = {}
    early: dict[int, np.ndarray] = {}
    final: dict[int, np.ndarray] = {}
    for horizon in horizons:
        started = _time.perf_counter()
        y = future[f"y_h{horizon:02d}"].to_numpy(dtype="float64") - base
        ok = np.isfinite(y)
        train_rows, valid_rows = ok & in_train, ok & in_valid
        x = horizon_matrix(features, horizon, spec)
        if train_rows.sum() < MIN_TRAIN_ROWS:
            continue
        train_set = lgb.Dataset(x[train_rows], y[train_rows])
        booster = lgb.train(
            params,
            train_set,
            num_boost_round=num_boost_round,
            valid_sets=[lgb.Dataset(x[valid_rows], y[valid_rows], reference=train_set)],
            callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
        )
        rounds = max(booster.best_iteration, 1)
        early[horizon] = booster.predict(x, num_iteration=rounds)
        rows = ok & (in_train | in_valid)
        refit = lgb.train(params, lgb.Dataset(x[rows], y[rows]), num_boost_round=rounds)
        strings[horizon] = refit.model_to_string()
        final[horizon] = refit.predict(x)
        logger.info(
            "pooled booster h%02d: %d train / %d valid rows, %d rounds, %.1f s",
            horizon,
            int(train_rows.sum()),
            int(valid_rows.sum()),
            rounds,
            _time.perf_counter() - started,
        )
    return strings, early, final
