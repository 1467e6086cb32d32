"""Record a backtest in MLflow: one run per backtest, scores as metrics, files as
artifacts."""

from __future__ import annotations

import logging
import math
from pathlib import Path

from forecasting.config import Settings
from training.backtest import BacktestResult

logger = logging.getLogger(__name__)

#: MLflow experiment of the backtests.
EXPERIMENT = "backtests"


def _metrics(result: BacktestResult) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for row in result.by_horizon.itertuples(index=False):
        prefix = "" if row.predictor == "model" else f"{row.predictor}_"
        h = f"h{int(row.horizon):02d}"
        metrics[f"{prefix}mae_{h}"] = row.mae
        if row.predictor == "model":
            for name in ("rmse", "bias", "skill", "coverage", "band_hit", "csi"):
                metrics[f"{name}_{h}"] = getattr(row, name)
            metrics[f"brier_{h}"] = row.brier
        elif row.predictor == "persistence":
            metrics[f"persistence_csi_{h}"] = row.csi
    metrics |= result.headline
    metrics["forecast_seconds"] = result.seconds
    metrics["in_sample_issue_hours"] = result.in_sample
    metrics["in_sample_share"] = result.in_sample / result.n_issue_hours
    return {k: float(v) for k, v in metrics.items() if not math.isnan(float(v))}


def log_backtest(
    result: BacktestResult,
    settings: Settings,
    files: list[Path],
    run_name: str | None = None,
    experiment: str = EXPERIMENT,
) -> str:
    """Log one backtest as an MLflow run of experiment :data:`EXPERIMENT`.

    Parameters
    ----------
    result:
        The finished backtest.
    settings:
        Where MLflow lives (``settings.mlflow_uri``, ``settings.artifact_root``).
    files:
        Files to attach (the CSV, the report and its figures).
    run_name:
        Name of the run; default ``backtest-<model ref>``.
    experiment:
        MLflow experiment name.

    Returns
    -------
    str
        The MLflow run id.

    Raises
    ------
    mlflow.exceptions.MlflowException
        When the tracking store cannot be reached or written.
    """
    import mlflow

    from training.registry import client_for, experiment_id

    experiment_key = experiment_id(client_for(settings), settings, experiment)
    stations = ",".join(result.stations)
    params = {
        "model_ref": result.model_ref,
        "start": result.start.isoformat(),
        "end": result.end.isoformat(),
        "n_stations": len(result.stations),
        "n_issue_hours": result.n_issue_hours,
        "in_sample_issue_hours": result.in_sample,
        "stations": stations if len(stations) <= 500 else stations[:497] + "...",
    }
    params |= {f"model_{k}": v for k, v in result.model_info.items()}
    with mlflow.start_run(
        experiment_id=experiment_key,
        run_name=run_name or f"backtest-{result.model_ref}",
    ) as run:
        mlflow.log_params(params)
        mlflow.log_metrics(_metrics(result))
        for path in files:
            mlflow.log_artifact(str(path))
    logger.info("backtest logged to MLflow run %s", run.info.run_id)
    return run.info.run_id
