"""Fit one station's boosters: each member at each horizon, validated in time order.

This is the unit of work that :func:`training.train.train` runs in parallel, one
station per worker process, each booster on one thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd

from features import FeatureSpec, horizon_matrix
from features.scenarios import flat_base
from training.intervals import WIDENING, residual_quantiles

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

#: The members of every station's forecast; the forecast is their mean. Each
#: is a station booster per horizon that starts from a different place (see
#: :func:`offset`), except ``network``: the network booster's forecast alone,
#: with no station booster. ``network`` and ``pooled`` (the station's booster
#: on top of the network's) serve every horizon, so the station's correction
#: counts half; ``flat`` joins them for the first hours
#: (:data:`MEMBER_HORIZONS`). Chosen on two held-out weeks (README, "The
#: models").
MEMBERS = ("network", "pooled", "flat")
#: Hours ahead that a member is fit for, when not every horizon.
MEMBER_HORIZONS = {"flat": (1, 2, 3, 4)}
#: Members that start from the network booster (they need one).
NETWORK_MEMBERS = ("network", "pooled")

#: Share of a station's recent issue hours (the latest ones) used for validation.
VALID_FRACTION = 0.2
#: Days before a station's last hour that count as recent: validation rows are
#: drawn from them only, so the older years of a multi-year station add
#: training rows without moving its validation period back in time.
RECENT_DAYS = 365
#: Least rows to train and to validate one station's boosters.
MIN_TRAIN_ROWS = 168
MIN_VALID_ROWS = 48


@dataclass
class StationFit:
    """What fitting one station produced (model text, calibration, figures)."""

    site_id: str
    model_strings: dict[int, dict[str, str]] = field(default_factory=dict)
    quantiles: dict[int, list[float]] = field(default_factory=dict)
    trained_through: str = ""
    valid_start: str = ""
    scores: list[dict] = field(default_factory=list)
    skipped: str | None = None


def split_masks(
    features: pd.DataFrame, usable: pd.Series, gap_hours: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-station time-ordered train and validation masks (of ``fit_station``,
    of the network boosters and of the global experiment).

    Returns
    -------
    tuple
        Boolean arrays ``in_train`` and ``in_valid`` on ``features``' rows: the
        last :data:`VALID_FRACTION` of each station's usable issue hours of its
        last :data:`RECENT_DAYS` days validate, training rows (older years
        included) end ``gap_hours`` before them.
    """
    issued = features["issued_at"]
    site = features["site_id"]
    last = issued.groupby(site, sort=False).transform("max")
    recent = usable & (issued > last - pd.Timedelta(days=RECENT_DAYS))
    rank = recent.groupby(site, sort=False).cumsum()
    total = recent.groupby(site, sort=False).transform("sum")
    first_valid = (rank > (total * (1 - VALID_FRACTION)).astype(int)) & recent
    start = issued.where(first_valid).groupby(site, sort=False).transform("min")
    in_valid = (issued >= start).to_numpy()
    in_train = (issued + pd.Timedelta(hours=gap_hours) < start).to_numpy()
    return in_train, in_valid


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


def offset(
    mode: str,
    features: pd.DataFrame,
    horizon: int,
    pooled_change: np.ndarray | None = None,
) -> np.ndarray:
    """What a booster's output is added to, per mode.

    ``"level"``: 0 (the booster predicts the AQI); ``"change"``: the last
    observed AQI; ``"flat"``: the AQI the target hour would have if the air
    stayed as last observed (:func:`features.scenarios.flat_base`);
    ``"pooled"`` and ``"network"``: the last observed AQI plus the network
    booster's change ``pooled_change``.
    """
    last = features["aqi_last"].to_numpy(dtype="float64")
    if mode == "level":
        return np.zeros_like(last)
    if mode == "flat":
        return flat_base(features, horizon)
    if mode in NETWORK_MEMBERS and pooled_change is not None:
        return last + pooled_change
    return last


def horizon_members(
    members: tuple[str, ...], horizon: int, pooled: bool = True
) -> list[str]:
    """The members fit at ``horizon``: those of ``members`` whose
    :data:`MEMBER_HORIZONS` hold it, else all of them (a member asked for alone
    serves every horizon); :data:`NETWORK_MEMBERS` only when a network
    booster exists."""
    usable = [m for m in members if m not in NETWORK_MEMBERS or pooled]
    chosen = [m for m in usable if horizon in MEMBER_HORIZONS.get(m, (horizon,))]
    return chosen or usable


def fit_station(
    site_id: str,
    features: pd.DataFrame,
    targets: pd.DataFrame,
    spec: FeatureSpec,
    horizons: tuple[int, ...],
    members: tuple[str, ...] = MEMBERS,
    params: dict | None = None,
    num_boost_round: int = NUM_BOOST_ROUND,
    refit: bool = True,
    pooled: dict[int, tuple[np.ndarray, np.ndarray]] | None = None,
) -> StationFit:
    """Fit the boosters of one station: every member at every horizon.

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
    members:
        What each member booster starts from (:func:`offset`): ``"level"``,
        ``"change"``, ``"flat"``, ``"pooled"``, ``"network"``, each fit at the
        horizons of :func:`horizon_members`. The forecast is their mean.
    params:
        LightGBM parameters (default :data:`LGB_PARAMS`).
    num_boost_round:
        Upper bound of boosting rounds (early stopping picks fewer).
    refit:
        Refit on train + validation rows with the early-stopped round count.
    pooled:
        Per horizon, the network booster's predicted change on these rows
        (from the booster fit on training rows, and from its refit; see
        :func:`training.pooled.fit_pooled`). Needed by ``"pooled"`` and
        ``"network"``; without it these members are left out.

    Returns
    -------
    StationFit
        Model strings per horizon and member, residual quantiles of the
        members' mean per horizon, and one score dict per horizon (validation
        MAE of the mean, of each member, and of persistence on the same rows).
        ``skipped`` names why a station with too little data got no model.
    """
    params = dict(params or LGB_PARAMS)
    result = StationFit(site_id=site_id)
    issued = features["issued_at"]
    base = features["aqi_last"].to_numpy(dtype="float64")
    usable = features["aqi_last"].notna() & targets.notna().any(axis=1)
    if usable.sum() < MIN_TRAIN_ROWS + MIN_VALID_ROWS:
        result.skipped = f"{int(usable.sum())} usable issue hours"
        return result

    in_train, in_valid = split_masks(features, usable, max(horizons))
    result.valid_start = issued[in_valid].min().isoformat()

    for horizon in horizons:
        y = targets[f"y_h{horizon:02d}"].to_numpy(dtype="float64")
        ok = np.isfinite(y) & np.isfinite(base)
        train_rows, valid_rows = ok & in_train, ok & in_valid
        all_rows = ok & (in_train | in_valid)
        if train_rows.sum() < MIN_TRAIN_ROWS or valid_rows.sum() < MIN_VALID_ROWS:
            result.skipped = (
                f"horizon {horizon}: {int(train_rows.sum())} train / "
                f"{int(valid_rows.sum())} validation rows"
            )
            return result
        x = horizon_matrix(features, horizon, spec)
        early, final = (pooled or {}).get(horizon, (None, None))
        score = {"site_id": site_id, "horizon": horizon}
        predictions, strings, rounds = [], {}, []
        for member in horizon_members(members, horizon, early is not None):
            start = offset(member, features, horizon, early)
            if member == "network":
                # No booster of its own: the network booster's forecast.
                pred = np.clip(start[valid_rows], 0.0, None)
                score["val_mae_network"] = float(np.mean(np.abs(y[valid_rows] - pred)))
                predictions.append(pred)
                strings[member] = ""
                continue
            booster = _booster(
                params,
                x[train_rows],
                (y - start)[train_rows],
                x[valid_rows],
                (y - start)[valid_rows],
                num_boost_round,
            )
            pred = booster.predict(x[valid_rows], num_threads=1) + start[valid_rows]
            pred = np.clip(pred, 0.0, None)
            score[f"val_mae_{member}"] = float(np.mean(np.abs(y[valid_rows] - pred)))
            predictions.append(pred)
            best = max(booster.best_iteration, 1)
            rounds.append(best)
            if refit:
                start = offset(member, features, horizon, final)
                booster = lgb.train(
                    params,
                    lgb.Dataset(x[all_rows], (y - start)[all_rows]),
                    num_boost_round=best,
                )
            strings[member] = booster.model_to_string(
                num_iteration=None if refit else best
            )

        pred = np.mean(predictions, axis=0)
        last_row = all_rows if refit else train_rows
        result.trained_through = issued[last_row].iloc[-1].isoformat()
        result.model_strings[horizon] = strings
        residuals = y[valid_rows] - pred
        result.quantiles[horizon] = residual_quantiles(residuals, WIDENING).tolist()
        score.update(
            members=",".join(strings),
            val_mae=float(np.mean(np.abs(y[valid_rows] - pred))),
            persistence_mae=float(np.mean(np.abs(y[valid_rows] - base[valid_rows]))),
            n_train=int(train_rows.sum()),
            n_valid=int(valid_rows.sum()),
            rounds=int(np.mean(rounds)) if rounds else 0,
        )
        result.scores.append(score)
    return result
