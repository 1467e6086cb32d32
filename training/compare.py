"""Two or more models on the same backtest rows, and the champion's promotion.

The promotion rule (the README's metric): on a backtest window, the challenger
replaces the champion only when its **mean MAE over horizons 1..12** (each
horizon's MAE weighted equally) is strictly lower than the champion's, both
scored on the same rows: the rows where the AQI was observed and both models
gave a forecast.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.config import Settings
from forecasting.errors import ModelNotFoundError, StoreError, ValidationError
from training.backtest import BacktestResult, run_backtest
from training.scores import mean_over_horizons, score_table

logger = logging.getLogger(__name__)

METRICS = ("mae", "rmse")
#: Label of the side-by-side table's last row: metrics are averaged over the
#: horizons (each weighted equally), the row count is summed.
SUMMARY_LABEL = "mean h1-12 (n_scored: total)"


def common_rows(results: list[BacktestResult]) -> list[pd.DataFrame]:
    """Return each backtest's scored frame masked to the rows every model forecast.

    Returns
    -------
    list[pandas.DataFrame]
        The scored frames, with ``aqi_obs`` set to NaN on rows some model left
        without a forecast, so every model is scored on the same rows.
    """
    keys = ["site_id", "issued_at", "horizon"]
    frames = [r.scored.sort_values(keys, ignore_index=True) for r in results]
    shared = np.logical_and.reduce([f["aqi_pred"].notna().to_numpy() for f in frames])
    return [f.assign(aqi_obs=f["aqi_obs"].where(shared)) for f in frames]


def side_by_side(results: list[BacktestResult], names: list[str]) -> pd.DataFrame:
    """Return per-horizon MAE, coverage and CSI of each model on the same rows.

    Returns
    -------
    pandas.DataFrame
        ``horizon`` (``"1"``..``"12"``, then :data:`SUMMARY_LABEL`), per name
        ``mae_<name>``, ``coverage_<name>``, ``csi_<name>``, then
        ``mae_persistence`` and ``n_scored`` (integer). The summary row holds
        the mean over horizons of every metric and the total of ``n_scored``.
    """
    tables = [score_table(f, "horizon") for f in common_rows(results)]
    horizons = sorted(tables[0]["horizon"].unique())
    out = pd.DataFrame({"horizon": [str(h) for h in horizons]})
    for name, table in zip(names, tables, strict=True):
        model = table.loc[table["predictor"] == "model"].sort_values("horizon")
        for metric in ("mae", "coverage", "csi"):
            out[f"{metric}_{name}"] = model[metric].to_numpy()
    first = tables[0]
    persistence = first.loc[first["predictor"] == "persistence"]
    out["mae_persistence"] = persistence.sort_values("horizon")["mae"].to_numpy()
    model = first.loc[first["predictor"] == "model"].sort_values("horizon")
    out["n_scored"] = model["n_scored"].to_numpy().astype("int64")

    summary: dict[str, object] = {"horizon": SUMMARY_LABEL}
    for column in out.columns[1:-1]:
        summary[column] = float(out[column].astype("float64").mean())
    summary["n_scored"] = int(out["n_scored"].sum())
    table = pd.concat([out, pd.DataFrame([summary])], ignore_index=True)
    return table.astype({"n_scored": "int64"})


def compare(
    store,
    refs: list[str],
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    stations: list[str] | None = None,
    progress: bool = True,
    settings: Settings | None = None,
) -> tuple[pd.DataFrame, list[BacktestResult]]:
    """Backtest every model of ``refs`` on the same span and stations.

    Returns
    -------
    tuple
        The :func:`side_by_side` table and the backtests, in ``refs`` order.

    Raises
    ------
    ValidationError
        When a reference is given twice (the same backtest would run twice),
        or from :func:`training.backtest.run_backtest`.
    ModelNotFoundError
        When a reference names no model.
    StoreError
        From :func:`training.backtest.run_backtest`.
    """
    repeated = sorted({ref for ref in refs if refs.count(ref) > 1})
    if repeated:
        raise ValidationError(
            f"compare: model {', '.join(repeated)} is given more than once; name "
            "each model once, e.g. `compare champion challenger`"
        )
    results = []
    for ref in refs:
        result = run_backtest(
            store,
            start,
            end,
            stations=stations,
            model=ref,
            progress=progress,
            settings=settings,
        )
        stations = result.stations
        results.append(result)
    return side_by_side(results, list(refs)), results


def last_week(store) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Return the default promotion window: the last 168 issue hours whose 12-hour
    targets are all in the store.

    Raises
    ------
    StoreError
        When the store holds no data.
    """
    latest = [store.latest_time(site) for site in store.station_ids()]
    latest = [t for t in latest if t is not None]
    if not latest:
        raise StoreError(
            f"store {store.root}: no hourly data; ingest data before promoting"
        )
    end = pd.Timestamp(max(latest)).tz_convert("Asia/Taipei") - pd.Timedelta(hours=12)
    return end - pd.Timedelta(hours=167), end


@dataclass
class Promotion:
    """What :func:`promote` decided and why."""

    promoted: bool
    metric: str
    challenger: float
    champion: float | None
    challenger_version: str
    champion_version: str | None
    table: pd.DataFrame


def _alias_version(client, name: str, alias: str) -> str | None:
    from mlflow.exceptions import MlflowException

    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def promote(
    store,
    settings: Settings,
    metric: str = "mae",
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    stations: list[str] | None = None,
    progress: bool = True,
) -> Promotion:
    """Move the ``champion`` alias to the challenger only when it wins.

    The challenger wins when its ``metric`` averaged over horizons 1..12, on the
    rows both models forecast, is strictly lower than the champion's. With no
    champion yet, the challenger becomes champion.

    Parameters
    ----------
    store:
        The hourly store to backtest on.
    settings:
        Where MLflow and the registry live.
    metric:
        ``mae`` (the README's rule) or ``rmse``.
    start, end:
        Backtest window; default :func:`last_week`.
    stations:
        Stations; default every station with recent data.
    progress:
        Show progress bars.

    Returns
    -------
    Promotion
        Both figures, the versions, the side-by-side table and the decision.

    Raises
    ------
    ModelNotFoundError
        When no model carries the ``challenger`` alias.
    ValidationError
        When ``metric`` is not one of :data:`METRICS`.
    """
    from training.registry import client_for

    if metric not in METRICS:
        raise ValidationError(
            f"--metric: {metric!r} is not a promotion metric; use one of {METRICS}"
        )
    client = client_for(settings)
    name = settings.registered_model
    challenger = _alias_version(client, name, "challenger")
    if challenger is None:
        raise ModelNotFoundError(
            f"registered model {name!r}: no version has the alias 'challenger'; "
            "train one with `aqi-forecast train --alias challenger`"
        )
    champion = _alias_version(client, name, "champion")
    if start is None or end is None:
        start, end = last_week(store)

    refs = ["challenger"] + (["champion"] if champion is not None else [])
    table, results = compare(store, refs, start, end, stations, progress, settings)
    frames = common_rows(results)
    figures = [
        float(mean_over_horizons(score_table(f, "horizon"), metric)["model"])
        for f in frames
    ]
    won = champion is None or figures[0] < figures[1]
    if won:
        client.set_registered_model_alias(name, "champion", challenger)
    logger.info(
        "promote: challenger v%s %s %.3f, champion %s %s; %s",
        challenger,
        metric,
        figures[0],
        f"v{champion}" if champion else "none",
        f"{figures[1]:.3f}" if champion else "-",
        "promoted" if won else "kept the champion",
    )
    return Promotion(
        promoted=won,
        metric=metric,
        challenger=figures[0],
        champion=figures[1] if champion is not None else None,
        challenger_version=challenger,
        champion_version=champion,
        table=table,
    )
