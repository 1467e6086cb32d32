"""Fit one station's boosters: one per horizon, time-ordered validation, calibration.

This is the unit of work that :func:`training.train.train` runs in parallel, one
station per worker process, each booster on one thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd

from features import FeatureSpec, horizon_matrix
from training.intervals import residual_quantiles

#: LightGBM parameters: small trees, few rounds, one thread per booster.
LGB_PARAMS = {
    "objective": "l1",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "num_threads": 1,
    "verbosity": -1,
    "seed": 7,
    "deterministic": True,
}
NUM_BOOST_ROUND = 300
EARLY_STOPPING_ROUNDS = 30

#: Share of a station's issue hours (the latest ones) used for validation.
VALID_FRACTION = 0.2
#: Least rows to train and to validate one station's boosters.
MIN_TRAIN_ROWS = 168
MIN_VALID_ROWS = 48


@dataclass
class StationFit:
    """What fitting one station produced (model text, calibration, figures)."""

    site_id: str
    model_strings: dict[int, str] = field(default_factory=dict)
    modes: dict[int, str] = field(default_factory=dict)
    quantiles: dict[int, list[float]] = field(default_factory=dict)
    trained_through: str = ""
    valid_start: str = ""
    scores: list[dict] = field(default_factory=list)
    skipped: str | None = None


def _booster(
    params: dict,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_valid: np.ndarray,
    y_valid: np.ndarray,
    num_boost_round: int,
) -> lgb.Booster:
    """Train with early stopping on the validation rows."""
    train_set = lgb.Dataset(x_train, y_train, free_raw_data=True)
    valid_set = lgb.Dataset(x_valid, y_valid, reference=train_set)
    return lgb.train(
        params,
        train_set,
        num_boost_round=num_boost_round,
        valid_sets=[valid_set],
        callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
    )


def _offset(
    mode: str,
    base: np.ndarray,
    pooled: dict[int, tuple[np.ndarray, np.ndarray]] | None,
    horizon: int,
    refit: bool,
) -> np.ndarray:
    """What the booster's output is added to: 0, the last AQI, or the last AQI
    plus the pooled change (of the early or the refit pooled booster)."""
    if mode == "level":
        return np.zeros_like(base)
    if mode == "pooled" and pooled is not None:
        return base + pooled[horizon][1 if refit else 0]
    return base


def fit_station(
    site_id: str,
    features: pd.DataFrame,
    targets: pd.DataFrame,
    spec: FeatureSpec,
    horizons: tuple[int, ...],
    target: str = "change",
    params: dict | None = None,
    num_boost_round: int = NUM_BOOST_ROUND,
    refit: bool = True,
    pooled: dict[int, tuple[np.ndarray, np.ndarray]] | None = None,
) -> StationFit:
    """Fit the boosters of one station for every horizon.

    Parameters
    ----------
    site_id:
        The station.
    features, targets:
        The station's rows of :func:`features.build_features` and
        :func:`features.targets` (same index, time order).
    spec:
        The feature spec of ``features``.
    horizons:
        Hours ahead to fit.
    target:
        ``"level"`` (predict the AQI), ``"change"`` (predict AQI minus the last
        observed AQI) or ``"auto"`` (fit both, keep the lower validation MAE per
        horizon).
    params:
        LightGBM parameters (default :data:`LGB_PARAMS`).
    num_boost_round:
        Upper bound of boosting rounds (early stopping picks fewer).
    refit:
        Refit on train + validation rows with the early-stopped round count.
    pooled:
        Per horizon, the network booster's predicted change on these rows
        (from the booster fit on training rows, and from its refit; see
        :func:`training.pooled.fit_pooled`). Given, the station's booster
        starts from it: mode ``"pooled"``, target AQI minus the last observed
        AQI minus the pooled change.

    Returns
    -------
    StationFit
        Model strings, modes and residual quantiles per horizon, and one score
        dict per horizon (validation MAE of the kept model, of both modes, and
        of persistence on the same rows). ``skipped`` names why a station with
        too little data got no model.
    """
    params = dict(params or LGB_PARAMS)
    result = StationFit(site_id=site_id)
    issued = features["issued_at"]
    base = features["aqi_last"].to_numpy(dtype="float64")
    usable = features["aqi_last"].notna() & targets.notna().any(axis=1)
    if usable.sum() < MIN_TRAIN_ROWS + MIN_VALID_ROWS:
        result.skipped = f"{int(usable.sum())} usable issue hours"
        return result

    valid_start = issued[usable].iloc[int(usable.sum() * (1 - VALID_FRACTION))]
    gap = pd.Timedelta(hours=max(horizons))
    in_train = (issued + gap < valid_start).to_numpy()
    in_valid = (issued >= valid_start).to_numpy()
    result.valid_start = valid_start.isoformat()

    for horizon in horizons:
        y = targets[f"y_h{horizon:02d}"].to_numpy(dtype="float64")
        ok = np.isfinite(y) & np.isfinite(base)
        train_rows, valid_rows = ok & in_train, ok & in_valid
        if train_rows.sum() < MIN_TRAIN_ROWS or valid_rows.sum() < MIN_VALID_ROWS:
            result.skipped = (
                f"horizon {horizon}: {int(train_rows.sum())} train / "
                f"{int(valid_rows.sum())} validation rows"
            )
            return result
        x = horizon_matrix(features, horizon, spec)
        modes = ("level", "change") if target == "auto" else (target,)
        if pooled is not None and horizon in pooled:
            modes = ("pooled",)
        best: tuple[float, str, lgb.Booster, np.ndarray] | None = None
        score = {"site_id": site_id, "horizon": horizon}
        for mode in modes:
            offset = _offset(mode, base, pooled, horizon, refit=False)
            booster = _booster(
                params,
                x[train_rows],
                (y - offset)[train_rows],
                x[valid_rows],
                (y - offset)[valid_rows],
                num_boost_round,
            )
            pred = np.clip(
                booster.predict(x[valid_rows], num_threads=1) + offset[valid_rows],
                0.0,
                None,
            )
            mae = float(np.mean(np.abs(y[valid_rows] - pred)))
            score[f"val_mae_{mode}"] = mae
            if best is None or mae < best[0]:
                best = (mae, mode, booster, pred)

        mae, mode, booster, pred = best
        rounds = max(booster.best_iteration, 1)
        if refit:
            offset = _offset(mode, base, pooled, horizon, refit=True)
            rows = ok & (in_train | in_valid)
            booster = lgb.train(
                params,
                lgb.Dataset(x[rows], (y - offset)[rows]),
                num_boost_round=rounds,
            )
            result.trained_through = issued[rows].iloc[-1].isoformat()
        else:
            result.trained_through = issued[train_rows].iloc[-1].isoformat()
        result.model_strings[horizon] = booster.model_to_string(
            num_iteration=rounds if not refit else None
        )
        result.modes[horizon] = mode
        result.quantiles[horizon] = residual_quantiles(y[valid_rows] - pred).tolist()
        score.update(
            mode=mode,
            val_mae=mae,
            persistence_mae=float(np.mean(np.abs(y[valid_rows] - base[valid_rows]))),
            n_train=int(train_rows.sum()),
            n_valid=int(valid_rows.sum()),
            rounds=rounds,
        )
        result.scores.append(score)
    return result
