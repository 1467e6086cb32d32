"""Experiments against the per-station champion: a global LightGBM.

:class:`GlobalModel` is one booster per horizon for the whole network, with the
station as a categorical feature, on the same feature rows as the per-station
bundle (:func:`features.build_features`). Its booster's output is added to what
``target`` names, as for a per-station member (:func:`training.fit.offset`:
``"change"``, ``"flat"`` or ``"level"``), and it takes its p10/p90 and band
probabilities from the validation residuals of each horizon (pooled over
stations), through :mod:`training.intervals`. It has the bundle's ``forecast``
face, so :func:`training.backtest.run_backtest` scores it on the same rows.

Run the comparison of the issue's goal (train to ``train_end``, backtest the
following week) with :func:`run_experiment`; each model's backtest is one MLflow
run of experiment ``experiments``.
"""

from __future__ import annotations

import logging
import time as clock
from collections.abc import Sequence
from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd

from features import DEFAULT_SPEC, FeatureSpec, build_features, horizon_matrix
from features import targets as feature_targets
from forecasting.config import TIMEZONE, Settings
from forecasting.schema import HORIZONS
from training.bundle import FORECAST_COLUMNS
from training.fit import offset, split_masks
from training.intervals import (
    BAND_COLUMNS,
    WIDENING,
    band_probabilities,
    interval,
    residual_quantiles,
)

logger = logging.getLogger(__name__)

EXPERIMENT = "experiments"
GLOBAL_PARAMS = {
    "objective": "l1",
    "learning_rate": 0.1,
    "num_leaves": 31,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "cat_smooth": 10.0,
    "num_threads": 2,
    "verbosity": -1,
    "seed": 7,
    "deterministic": True,
}


@dataclass
class GlobalModel:
    """One booster per horizon for all stations (station = categorical feature).

    Attributes
    ----------
    boosters:
        Horizon -> booster.
    quantiles:
        Horizon -> 21 residual quantiles (validation, all stations pooled).
    codes:
        Station id -> integer category.
    target:
        ``"change"`` or ``"level"``.
    spec:
        Feature spec of the rows.
    metadata:
        Training span and parameters.
    """

    boosters: dict[int, lgb.Booster]
    quantiles: dict[int, np.ndarray]
    codes: dict[str, int]
    target: str
    spec: FeatureSpec = DEFAULT_SPEC
    metadata: dict = field(default_factory=dict)

    @property
    def history_hours(self) -> int:
        """Hours of history before ``issued_at`` the features need."""
        return self.spec.history_hours

    def _matrix(self, rows: pd.DataFrame, horizon: int) -> np.ndarray:
        station = rows["site_id"].map(self.codes).to_numpy(dtype="float32")
        return np.column_stack([horizon_matrix(rows, horizon, self.spec), station])

    def forecast(
        self,
        history: pd.DataFrame,
        issued_at: pd.Timestamp | Sequence[pd.Timestamp] | None = None,
    ) -> pd.DataFrame:
        """Forecast horizons 1..12 like ``ForecastBundle.forecast``.

        Returns
        -------
        pandas.DataFrame
            ``FORECAST_COLUMNS``, one row per known station, issue hour, horizon.
        """
        features = build_features(history[history["site_id"].isin(self.codes)])
        if issued_at is None:
            rows = features[features["has_data"]]
            last = rows.groupby("site_id")["issued_at"].transform("max")
            rows = rows[rows["issued_at"] == last]
        else:
            wanted = pd.DatetimeIndex(
                [issued_at] if isinstance(issued_at, pd.Timestamp) else issued_at
            ).tz_convert(TIMEZONE)
            rows = features[features["issued_at"].isin(wanted)]
        rows = rows.reset_index(drop=True)
        if rows.empty:
            return pd.DataFrame(columns=list(FORECAST_COLUMNS))

        parts = []
        for horizon, booster in self.boosters.items():
            raw = booster.predict(self._matrix(rows, horizon))
            pred = np.clip(raw + offset(self.target, rows, horizon), 0, None)
            quantiles = np.tile(self.quantiles[horizon], (len(rows), 1))
            low, high = interval(np.nan_to_num(pred), quantiles)
            frame = pd.DataFrame(
                {
                    "site_id": rows["site_id"].to_numpy(),
                    "issued_at": rows["issued_at"].to_numpy(),
                    "target_time": (rows["issued_at"] + pd.Timedelta(hours=horizon))
                    .dt.tz_convert(TIMEZONE)
                    .to_numpy(),
                    "horizon": horizon,
                    "aqi_pred": pred,
                    "aqi_p10": np.where(np.isnan(pred), np.nan, low),
                    "aqi_p90": np.where(np.isnan(pred), np.nan, high),
                }
            )
            probs = band_probabilities(np.nan_to_num(pred), quantiles)
            probs[np.isnan(pred)] = np.nan
            frame[list(BAND_COLUMNS)] = probs
            parts.append(frame)
        out = pd.concat(parts, ignore_index=True)
        for column in ("issued_at", "target_time"):
            out[column] = pd.to_datetime(out[column], utc=True).dt.tz_convert(TIMEZONE)
        return out.loc[:, list(FORECAST_COLUMNS)]


def train_global(
    hourly: pd.DataFrame,
    target: str = "change",
    params: dict | None = None,
    num_boost_round: int = 300,
    horizons: tuple[int, ...] = HORIZONS,
) -> GlobalModel:
    """Train one booster per horizon on every station's rows of ``hourly``.

    Each station's latest issue hours are held out for early stopping and for
    the residual quantiles, as for the champion
    (:func:`training.fit.split_masks`); the booster is then refitted on all
    rows with the early-stopped number of rounds.

    Returns
    -------
    GlobalModel
        Ready to forecast.

    Raises
    ------
    ValueError
        When ``target`` is not ``change``, ``flat`` or ``level``.
    """
    if target not in ("change", "flat", "level"):
        raise ValueError(f"target {target!r}: use 'change', 'flat' or 'level'")
    started = clock.perf_counter()
    params = dict(params or GLOBAL_PARAMS)
    features = build_features(hourly)
    truth = feature_targets(features, horizons)
    codes = {site: i for i, site in enumerate(sorted(features["site_id"].unique()))}
    model = GlobalModel({}, {}, codes, target)
    usable = features["aqi_last"].notna() & truth.notna().any(axis=1)
    in_train, in_valid = split_masks(features, usable, max(horizons))
    station = len(feature_matrix_names(model.spec)) - 1

    for horizon in horizons:
        y = truth[f"y_h{horizon:02d}"].to_numpy(dtype="float64")
        y = y - offset(target, features, horizon)
        ok = ~np.isnan(y)
        x = model._matrix(features, horizon)
        train, valid = ok & in_train, ok & in_valid
        data = lgb.Dataset(x[train], y[train], categorical_feature=[station])
        check = lgb.Dataset(x[valid], y[valid], reference=data)
        booster = lgb.train(
            params,
            data,
            num_boost_round=num_boost_round,
            valid_sets=[check],
            callbacks=[lgb.early_stopping(20, verbose=False)],
        )
        pred = booster.predict(x[valid])
        model.quantiles[horizon] = residual_quantiles(y[valid] - pred, WIDENING)
        full = lgb.Dataset(x[ok], y[ok], categorical_feature=[station])
        rounds = max(booster.best_iteration, 1)
        model.boosters[horizon] = lgb.train(params, full, num_boost_round=rounds)
        logger.info("global h%d: %d rounds, %d rows", horizon, rounds, int(ok.sum()))
    model.metadata = {
        "span": [str(hourly["time"].min()), str(hourly["time"].max())],
        "target": target,
        "kind": "global lightgbm",
    }
    logger.info(
        "trained the global model (%s, %d stations) in %.1f s",
        target,
        len(codes),
        clock.perf_counter() - started,
    )
    return model


def feature_matrix_names(spec: FeatureSpec = DEFAULT_SPEC) -> list[str]:
    """Return the global model's input columns: the bundle's, then ``station``."""
    from features import feature_names

    return feature_names(spec) + ["station"]


def run_experiment(
    store,
    settings: Settings,
    train_end: str,
    start: str,
    end: str,
    models: dict | None = None,
    out_dir=None,
    targets: tuple[str, ...] = ("change",),
    model: str = "champion",
) -> pd.DataFrame:
    """Backtest the champion and global models on the same week; log each.

    Parameters
    ----------
    store:
        The hourly store.
    settings:
        Where MLflow lives.
    train_end:
        Last hour the global models train on; they read the store as the
        champion's training does (:func:`training.train.read_training_data`).
    start, end:
        Backtest issue hours.
    models:
        Name -> loaded model with a ``forecast`` method; default ``model`` from
        the registry plus one global model per entry of ``targets`` trained here.
    out_dir:
        Folder for each backtest's CSV and report (default: not written).
    targets:
        Targets of the global models trained when ``models`` is None.
    model:
        Registry alias, version or run id of the per-station bundle compared
        when ``models`` is None.

    Returns
    -------
    pandas.DataFrame
        One row per model: mean MAE over horizons, the baselines' mean MAE,
        skill, coverage range and CSI (model and persistence).
    """
    from pathlib import Path

    from training.backtest import run_backtest, write_csv
    from training.backtest_mlflow import log_backtest
    from training.registry import load_bundle
    from training.report import write_report

    if models is None:
        from training.train import read_training_data

        models = {model: load_bundle(model, settings)}  # fails before training
        hourly = read_training_data(store, end=train_end)
        for target in targets:
            models[f"global-{target}"] = train_global(hourly, target=target)
    rows = []
    for name, loaded in models.items():
        result = run_backtest(store, start, end, model=name, bundle=loaded)
        files = []
        if out_dir is not None:
            path = Path(out_dir) / f"{name}.csv"
            write_csv(result.forecasts, path)
            files = [path, write_report(result, path)]
        log_backtest(result, settings, files, f"experiment-{name}", EXPERIMENT)
        rows.append({"model": name} | result.headline)
    return pd.DataFrame(rows)
