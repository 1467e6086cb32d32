"""MLflow side of the models: log a training run, register it, load it back.

The whole network's bundle is ONE MLflow pyfunc model (``python_model`` =
:class:`ForecastModel`, the bundle folder as its artifact), registered as
``Settings.registered_model``. Aliases (``champion``, ``challenger``) point at
versions; serving and backtests load by alias, version (``v3``) or run id.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import time as _time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import mlflow
import pandas as pd
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from forecasting.config import Settings, get_settings
from forecasting.errors import ModelNotFoundError
from training.bundle import ForecastBundle

logger = logging.getLogger(__name__)

#: The models-from-code file MLflow logs instead of a pickled ForecastModel.
PYFUNC_CODE = Path(__file__).with_name("pyfunc_model.py")

#: MLflow experiment of the training runs.
EXPERIMENT = "aqi-forecast"
#: Name of the model inside a run.
MODEL_NAME = "model"
#: Requirements written with the model, given so MLflow need not infer them.
PIP_REQUIREMENTS = [
    "lightgbm>=4.5",
    "mlflow>=3.1",
    "pandas>=2.2",
    "numpy>=1.26",
    "pyarrow>=17",
]


class ForecastModel(mlflow.pyfunc.PythonModel):
    """Pyfunc face of a :class:`ForecastBundle`, for notebooks.

    ``mlflow.pyfunc.load_model("models:/aqi-forecast@champion").predict(history)``
    returns :meth:`ForecastBundle.forecast` of an hourly history frame.
    """

    def load_context(self, context: Any) -> None:
        """Read the bundle from the model's ``bundle`` artifact."""
        self.bundle = ForecastBundle.load(Path(context.artifacts["bundle"]))

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict | None = None
    ) -> pd.DataFrame:
        """Forecast from ``model_input``, an hourly frame (see ``forecast``).

        Returns
        -------
        pandas.DataFrame
            :meth:`ForecastBundle.forecast` of ``model_input``; ``params`` may
            carry ``issued_at``.
        """
        issued_at = (params or {}).get("issued_at")
        return self.bundle.forecast(model_input, issued_at=issued_at)


@contextmanager
def _quiet_artifact_copies() -> Iterator[None]:
    """No MLflow progress bar while copying the bundle's files (CLI, server log);
    a value the user set is kept."""
    name = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"
    before = os.environ.get(name)
    os.environ.setdefault(name, "false")
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)


def _is_local(uri: str) -> bool:
    return urlparse(uri).scheme in ("", "file", "sqlite")


def client_for(settings: Settings | None = None) -> MlflowClient:
    """An MLflow client on the settings' tracking (and registry) URI.

    Also points the fluent ``mlflow`` API at that URI.

    Returns
    -------
    mlflow.tracking.MlflowClient
    """
    settings = settings or get_settings()
    uri = settings.mlflow_uri
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def experiment_id(
    client: MlflowClient, settings: Settings, name: str = EXPERIMENT
) -> str:
    """Id of experiment ``name``, created on first use.

    With a local tracking store the experiment keeps its artifacts under
    ``Settings.artifact_root`` (never in the working directory).

    Returns
    -------
    str
    """
    existing = client.get_experiment_by_name(name)
    if existing is not None:
        return existing.experiment_id
    location = None
    if _is_local(settings.mlflow_uri):
        settings.artifact_root.mkdir(parents=True, exist_ok=True)
        location = settings.artifact_root.resolve().as_uri()
    return client.create_experiment(name, artifact_location=location)


def log_training(
    bundle: ForecastBundle,
    scores: pd.DataFrame,
    skipped: dict[str, str],
    valid_starts: dict[str, str],
    settings: Settings,
    alias: str | None = "champion",
    run_name: str | None = None,
    n_jobs: int = 2,
) -> tuple[str, str]:
    """Log one training run with its bundle, register it and set ``alias``.

    Returns
    -------
    tuple[str, str]
        ``(run_id, version)``.

    Raises
    ------
    mlflow.exceptions.MlflowException
        If the tracking store cannot be written.
    """
    client = client_for(settings)
    exp = experiment_id(client, settings)
    meta = bundle.metadata
    table = scores.groupby("horizon")[["val_mae", "persistence_mae"]].mean()
    starts = sorted(valid_starts.values())
    params = {
        "stations": len(bundle.stations),
        "stations_skipped": len(skipped),
        "horizons": ",".join(map(str, bundle.horizons)),
        "data_first_hour": meta["span"][0],
        "data_last_hour": meta["span"][1],
        "valid_start_earliest": starts[0] if starts else "",
        "valid_start_latest": starts[-1] if starts else "",
        "valid_fraction": 0.2,
        "train_valid_gap_hours": max(bundle.horizons),
        "members": ",".join(meta["members"]),
        "refit": meta["refit"],
        "num_boost_round": meta["num_boost_round"],
        "n_jobs": n_jobs,
        "features": len(meta["feature_names"]),
        "history_hours": bundle.history_hours,
    }
    params.update({f"lgb_{k}": v for k, v in meta["lightgbm"].items()})
    now = int(_time.time() * 1000)
    metrics = []
    for horizon, row in table.iterrows():
        metrics.append(Metric(f"val_mae_h{horizon:02d}", row["val_mae"], now, 0))
        metrics.append(
            Metric(f"persistence_mae_h{horizon:02d}", row["persistence_mae"], now, 0)
        )
    mean_val, mean_pers = table["val_mae"].mean(), table["persistence_mae"].mean()
    metrics += [
        Metric("val_mae_mean", mean_val, now, 0),
        Metric("persistence_mae_mean", mean_pers, now, 0),
        Metric("skill_vs_persistence", 1 - mean_val / mean_pers, now, 0),
    ]

    with (
        _quiet_artifact_copies(),
        mlflow.start_run(experiment_id=exp, run_name=run_name) as run,
    ):
        run_id = run.info.run_id
        client.log_batch(
            run_id,
            metrics=metrics,
            params=[Param(k, str(v)) for k, v in params.items()],
            tags=[RunTag("aqi.kind", "training")],
        )
        mlflow.log_dict(
            {"features": meta["feature_names"], "spec": bundle.spec.to_dict()},
            "features.json",
        )
        mlflow.log_text(scores.to_csv(index=False), "station_scores.csv")
        if skipped:
            mlflow.log_dict(skipped, "skipped_stations.json")
        with tempfile.TemporaryDirectory() as tmp:
            folder = bundle.save(Path(tmp) / "bundle")
            info = mlflow.pyfunc.log_model(
                name=MODEL_NAME,
                python_model=str(PYFUNC_CODE),
                artifacts={"bundle": str(folder)},
                pip_requirements=PIP_REQUIREMENTS,
                # The input is a whole hourly history, not a fixed schema.
                signature=False,
                registered_model_name=settings.registered_model,
            )
    version = str(info.registered_model_version)
    client.set_model_version_tag(settings.registered_model, version, "run_id", run_id)
    if alias:
        client.set_registered_model_alias(settings.registered_model, alias, version)
        logger.info(
            "alias %s -> %s version %s", alias, settings.registered_model, version
        )
    return run_id, version


def _model_uri(client: MlflowClient, name: str, ref: str) -> tuple[str, str, str]:
    """Resolve ``ref`` to ``(models:/ uri, version, run_id)``."""
    if re.fullmatch(r"v\d+", ref):
        version = client.get_model_version(name, ref[1:])
    elif re.fullmatch(r"[0-9a-f]{32}", ref):
        found = client.search_model_versions(f"name='{name}' and run_id='{ref}'")
        if not found:
            raise MlflowException(f"no registered version from run {ref}")
        version = found[0]
    else:
        version = client.get_model_version_by_alias(name, ref)
    return f"models:/{name}/{version.version}", str(version.version), version.run_id


def load_bundle(
    ref: str = "champion", settings: Settings | None = None
) -> ForecastBundle:
    """Load the bundle registered under an alias, a version (``v3``) or a run id.

    Parameters
    ----------
    ref:
        Alias (``champion``, ``challenger``), ``v<N>`` or a 32-hex run id.
    settings:
        Where MLflow lives (default :func:`forecasting.config.get_settings`).

    Returns
    -------
    ForecastBundle
        With ``metadata`` holding ``run_id``, ``version`` and ``ref``.

    Raises
    ------
    ModelNotFoundError
        If nothing is registered under ``ref``.
    """
    settings = settings or get_settings()
    client = client_for(settings)
    name = settings.registered_model
    started = _time.perf_counter()
    try:
        uri, version, run_id = _model_uri(client, name, ref)
    except MlflowException as error:
        raise ModelNotFoundError(
            f"model {name!r} has nothing under {ref!r} in {settings.mlflow_uri} "
            f"({error.message.splitlines()[0]}); run `aqi-forecast train` first, "
            "or name an existing alias, version (v3) or run id"
        ) from error
    with _quiet_artifact_copies(), tempfile.TemporaryDirectory() as tmp:
        local = Path(
            mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=tmp)
        )
        index = next(local.rglob("bundle.json"), None)
        if index is None:
            raise ModelNotFoundError(
                f"{uri} holds no forecast bundle; it was not logged by "
                "`aqi-forecast train`. Train again to register one"
            )
        bundle = ForecastBundle.load(index.parent)
    bundle.metadata.update(run_id=run_id, version=version, ref=ref)
    logger.info(
        "loaded %s %s (version %s, %d stations) in %.2f s",
        name,
        ref,
        version,
        len(bundle.stations),
        _time.perf_counter() - started,
    )
    return bundle


def has_alias(alias: str, settings: Settings | None = None) -> bool:
    """Whether the registered model has ``alias``.

    Returns
    -------
    bool
        False also when the model is not registered at all.
    """
    settings = settings or get_settings()
    client = client_for(settings)
    try:
        client.get_model_version_by_alias(settings.registered_model, alias)
    except MlflowException:
        return False
    return True
