"""Scores of a backtest: errors, skill, AQI bands, intervals, alerts.

The input is a *scored frame*: one row per expected (station, issue hour,
horizon), with the observed AQI ``aqi_obs`` (NaN when MOENV published none),
the model's ``aqi_pred``, ``aqi_p10``, ``aqi_p90`` and band probabilities, and one
column per baseline (:data:`training.baselines.BASELINES`). A row counts as
*expected* whether or not anything was forecast for it; a predictor is *scored*
on the rows where both the observation and its forecast exist, so a model that
skips hard cases shows as fewer scored rows.

Definitions (AQI values are rounded as MOENV publishes integers):

* band: 0 good (<= 50), 1 moderate (<= 100), 2 unhealthy for sensitive groups
  (<= 150), 3 unhealthy (<= 200), 4 very unhealthy (<= 300), 5 hazardous;
* an *event* is AQI > 100 (band >= 2); the critical success index is
  hits / (hits + misses + false alarms), NaN when there is none of the three;
* skill = 1 - MAE / MAE of persistence, both on the rows where both are scored;
* coverage = share of scored rows with ``aqi_p10 <= aqi_obs <= aqi_p90``;
* brier = mean over rows of the sum over the six bands of
  (probability - 1 if the band was observed else 0) squared (0 is perfect, 2 worst).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.baselines import BASELINES
from training.intervals import BAND_COLUMNS, BANDS

#: Upper edges of the AQI bands, on AQI values rounded half up.
BAND_EDGES = tuple(edge for _, edge in BANDS[:-1])
EVENT_BAND = 2
#: Predictors scored, the model first: column of the point forecast per name.
PREDICTORS = {"model": "aqi_pred"} | {name: name for name in BASELINES}


def aqi_band(values: pd.Series | np.ndarray) -> np.ndarray:
    """Return the AQI band (0..5) of each value, -1 where the value is NaN."""
    array = np.asarray(values, dtype="float64")
    bands = np.searchsorted(BAND_EDGES, array, side="right")
    return np.where(np.isnan(array), -1, bands)


def critical_success_index(observed: np.ndarray, predicted: np.ndarray) -> dict:
    """Return hits, misses, false alarms and CSI of the event AQI > 100.

    Parameters
    ----------
    observed, predicted:
        AQI values on the same rows; rows where either is NaN are ignored.

    Returns
    -------
    dict
        ``hits``, ``misses``, ``false_alarms`` (int) and ``csi`` (float, NaN when
        the three counts are all 0).
    """
    observed = np.asarray(observed, dtype="float64")
    predicted = np.asarray(predicted, dtype="float64")
    both = ~np.isnan(observed) & ~np.isnan(predicted)
    seen = aqi_band(observed[both]) >= EVENT_BAND
    said = aqi_band(predicted[both]) >= EVENT_BAND
    hits = int(np.sum(seen & said))
    misses = int(np.sum(seen & ~said))
    false_alarms = int(np.sum(~seen & said))
    total = hits + misses + false_alarms
    csi = hits / total if total else float("nan")
    return {"hits": hits, "misses": misses, "false_alarms": false_alarms, "csi": csi}


def _errors(observed: np.ndarray, predicted: np.ndarray) -> dict:
    both = ~np.isnan(observed) & ~np.isnan(predicted)
    error = predicted[both] - observed[both]
    n = int(both.sum())
    hit = aqi_band(predicted[both]) == aqi_band(observed[both])
    return {
        "n_predicted": int((~np.isnan(predicted)).sum()),
        "n_scored": n,
        "mae": float(np.abs(error).mean()) if n else float("nan"),
        "rmse": float(np.sqrt((error**2).mean())) if n else float("nan"),
        "bias": float(error.mean()) if n else float("nan"),
        "band_hit": float(hit.mean()) if n else float("nan"),
    }


def _interval_and_bands(group: pd.DataFrame) -> dict:
    observed = group["aqi_obs"].to_numpy(dtype="float64")
    low = group["aqi_p10"].to_numpy(dtype="float64")
    high = group["aqi_p90"].to_numpy(dtype="float64")
    ok = ~np.isnan(observed) & ~np.isnan(low) & ~np.isnan(high)
    inside = (low[ok] <= observed[ok]) & (observed[ok] <= high[ok])

    probs = group.loc[:, list(BAND_COLUMNS)].to_numpy(dtype="float64")
    ok_p = ~np.isnan(observed) & ~np.isnan(probs).any(axis=1)
    onehot = np.eye(len(BAND_COLUMNS))[aqi_band(observed[ok_p])]
    brier = ((probs[ok_p] - onehot) ** 2).sum(axis=1)
    return {
        "coverage": float(inside.mean()) if ok.any() else float("nan"),
        "width": float((high[ok] - low[ok]).mean()) if ok.any() else float("nan"),
        "brier": float(brier.mean()) if ok_p.any() else float("nan"),
    }


def _skill(
    observed: np.ndarray, predicted: np.ndarray, persistence: np.ndarray
) -> dict:
    """1 - MAE / MAE of persistence, and that persistence MAE, both on the rows
    where all three exist (a model that skips hard rows gains nothing)."""
    common = ~np.isnan(predicted) & ~np.isnan(persistence) & ~np.isnan(observed)
    if not common.any():
        return {"skill": float("nan"), "persistence_mae": float("nan")}
    mae = np.abs(predicted[common] - observed[common]).mean()
    mae_p = np.abs(persistence[common] - observed[common]).mean()
    skill = float(1 - mae / mae_p) if mae_p else float("nan")
    return {"skill": skill, "persistence_mae": float(mae_p)}


def _score_group(group: pd.DataFrame) -> list[dict]:
    observed = group["aqi_obs"].to_numpy(dtype="float64")
    persistence = group["persistence"].to_numpy(dtype="float64")
    rows = []
    for name, column in PREDICTORS.items():
        predicted = group[column].to_numpy(dtype="float64")
        row = {"predictor": name, "n_expected": len(group)}
        row["n_observed"] = int((~np.isnan(observed)).sum())
        row |= _errors(observed, predicted)

        row |= _skill(observed, predicted, persistence)
        row |= critical_success_index(observed, predicted)
        if name == "model":
            row |= _interval_and_bands(group)
        rows.append(row)
    return rows


def score_table(scored: pd.DataFrame, by: str | None = "horizon") -> pd.DataFrame:
    """Return scores of the model and every baseline, per group of ``by``.

    Parameters
    ----------
    scored:
        The scored frame (see the module docstring).
    by:
        ``"horizon"``, ``"site_id"`` or None for one pooled group (``all``).

    Returns
    -------
    pandas.DataFrame
        One row per group and predictor: the group key, ``predictor``,
        ``n_expected``, ``n_observed``, ``n_predicted``, ``n_scored``, ``mae``,
        ``rmse``, ``bias``, ``band_hit``, ``skill`` and ``persistence_mae``
        (persistence's MAE on the rows the predictor was scored on), ``hits``,
        ``misses``, ``false_alarms``, ``csi`` and, for the model, ``coverage``,
        ``width`` (mean p90 - p10) and ``brier``.

    Raises
    ------
    KeyError
        When ``scored`` lacks a column of the scored frame.
    """
    key = by or "group"
    groups = [("all", scored)] if by is None else scored.groupby(by, sort=True)
    records = []
    for value, group in groups:
        for row in _score_group(group):
            records.append({key: value} | row)
    return pd.DataFrame.from_records(records)


def mean_over_horizons(by_horizon: pd.DataFrame, metric: str = "mae") -> pd.Series:
    """Return each predictor's ``metric`` averaged over horizons (equal weights).

    Returns
    -------
    pandas.Series
        Indexed by predictor name, in :data:`PREDICTORS` order.
    """
    table = by_horizon.pivot(index="horizon", columns="predictor", values=metric)
    order = [name for name in PREDICTORS if name in table.columns]
    return table.loc[:, order].mean(axis=0)


def headline(by_horizon: pd.DataFrame, overall: pd.DataFrame) -> dict[str, float]:
    """Return the figures a backtest is judged on, as flat metric names.

    Returns
    -------
    dict
        ``mae_mean`` (model MAE averaged over horizons), ``<baseline>_mae_mean``
        (each on the rows it forecast), ``skill_mean`` (1 - model mean MAE over
        persistence's mean MAE on the model's rows, ``persistence_mae_model_rows``),
        ``coverage_min`` and
        ``coverage_max`` over horizons, ``csi`` and ``persistence_csi`` (pooled),
        ``brier`` (pooled) and ``n_expected`` / ``n_scored`` (model, pooled).
    """
    mae = mean_over_horizons(by_horizon, "mae")
    model = by_horizon.loc[by_horizon["predictor"] == "model"]
    pooled = overall.set_index("predictor")
    figures = {"mae_mean": float(mae["model"])}
    figures |= {f"{name}_mae_mean": float(mae[name]) for name in BASELINES}
    same_rows = float(model["persistence_mae"].mean())
    figures["persistence_mae_model_rows"] = same_rows
    figures["skill_mean"] = float(1 - mae["model"] / same_rows)
    figures["coverage_min"] = float(model["coverage"].min())
    figures["coverage_max"] = float(model["coverage"].max())
    figures["csi"] = float(pooled.loc["model", "csi"])
    figures["persistence_csi"] = float(pooled.loc["persistence", "csi"])
    figures["brier"] = float(pooled.loc["model", "brier"])
    figures["n_expected"] = float(pooled.loc["model", "n_expected"])
    figures["n_scored"] = float(pooled.loc["model", "n_scored"])
    return figures


def reliability_table(scored: pd.DataFrame, n_bins: int = 10) -> pd.DataFrame:
    """Return how often events happened against the probability forecast for them.

    Two kinds of event are tabled: ``band`` pools the six band probabilities (each
    row gives six forecasts, one per band), ``aqi>100`` uses the summed probability
    of the bands above moderate.

    Returns
    -------
    pandas.DataFrame
        ``event``, ``bin_low``, ``bin_high``, ``n``, ``mean_p`` and
        ``observed_freq`` for every non-empty probability bin.
    """
    observed = scored["aqi_obs"].to_numpy(dtype="float64")
    probs = scored.loc[:, list(BAND_COLUMNS)].to_numpy(dtype="float64")
    ok = ~np.isnan(observed) & ~np.isnan(probs).any(axis=1)
    bands = aqi_band(observed[ok])
    onehot = np.eye(len(BAND_COLUMNS))[bands]
    kinds = {
        "band": (probs[ok].ravel(), onehot.ravel()),
        "aqi>100": (
            probs[ok][:, EVENT_BAND:].sum(axis=1),
            (bands >= EVENT_BAND).astype(float),
        ),
    }
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    records = []
    for event, (p, outcome) in kinds.items():
        which = np.clip(np.digitize(p, edges[1:-1]), 0, n_bins - 1)
        for b in range(n_bins):
            inside = which == b
            if inside.any():
                records.append(
                    {
                        "event": event,
                        "bin_low": edges[b],
                        "bin_high": edges[b + 1],
                        "n": int(inside.sum()),
                        "mean_p": float(p[inside].mean()),
                        "observed_freq": float(outcome[inside].mean()),
                    }
                )
    return pd.DataFrame.from_records(records)
