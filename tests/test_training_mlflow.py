"""Training three real stations end to end into a real MLflow SQLite store."""

from __future__ import annotations

import json

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from forecasting.config import Settings
from forecasting.errors import ModelNotFoundError
from training.bundle import ForecastBundle
from training.intervals import BAND_COLUMNS
from training.registry import has_alias, load_bundle
from training.train import run_training

STATIONS = ["1", "12", "49"]  # 基隆, 大園, 仁武 (仁武 also has 2002-2013 files)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    root = tmp_path_factory.mktemp("mlflow")
    settings = Settings(
        AQI_TRACKING_URI=f"sqlite:///{root / 'mlflow.db'}",
        artifact_root=root / "artifacts",
        home=root / "home",
    )
    assert settings.mlflow_uri.startswith(f"sqlite:///{root}")  # never the repo's
    return settings


@pytest.fixture(scope="module")
def trained(sample_store, settings):
    return run_training(
        sample_store,
        stations=STATIONS,
        alias="champion",
        n_jobs=1,
        settings=settings,
        num_boost_round=60,
    )


def test_training_logs_one_run_with_metrics_params_and_artifacts(trained, settings):
    client = MlflowClient(tracking_uri=settings.mlflow_uri)
    run = client.get_run(trained.run_id)

    for horizon in range(1, 13):
        assert f"val_mae_h{horizon:02d}" in run.data.metrics
        assert f"persistence_mae_h{horizon:02d}" in run.data.metrics
    assert run.data.params["stations"] == "3"
    # 仁武's first yearly file: the older years train too.
    assert run.data.params["data_first_hour"] == "2002-01-01T01:00:00+08:00"
    assert run.data.params["data_last_hour"] == "2026-08-08T23:00:00+08:00"
    assert run.data.params["lgb_num_threads"] == "1"
    artifacts = {a.path for a in client.list_artifacts(trained.run_id)}
    assert {"features.json", "station_scores.csv"} <= artifacts
    assert str(settings.artifact_root.resolve()) in run.info.artifact_uri


def test_validation_mae_beats_persistence_on_average(trained):
    table = trained.horizon_table()

    assert len(trained.scores) == 3 * 12
    assert table["val_mae"].mean() < table["persistence_mae"].mean()
    assert (trained.scores["n_valid"] >= 48).all()


def test_old_years_add_training_rows_and_validation_stays_in_2026(trained):
    rows = trained.scores.set_index(["site_id", "horizon"])
    # 仁武 trains on 2002-2013 as well: ~100 times the rows of a 2026-only station.
    assert rows.loc[("49", 1), "n_train"] > 80 * rows.loc[("1", 1), "n_train"]
    # ... and validates on the last fifth of its 2026 hours, as the others do.
    assert abs(rows.loc[("49", 1), "n_valid"] - rows.loc[("1", 1), "n_valid"]) < 24


def test_registered_model_has_the_alias(trained, settings):
    client = MlflowClient(tracking_uri=settings.mlflow_uri)
    version = client.get_model_version_by_alias(settings.registered_model, "champion")

    assert str(version.version) == trained.version
    assert version.run_id == trained.run_id
    assert has_alias("champion", settings=settings)
    assert not has_alias("challenger", settings=settings)


def test_champion_forecasts_twelve_calibrated_hours_per_station(
    trained, sample_store, settings
):
    bundle = load_bundle("champion", settings=settings)
    history = sample_store.read(
        stations=STATIONS + ["2"], start="2026-08-05 00:00+08:00"
    )
    forecast = bundle.forecast(history)  # station 2 has no model: skipped

    assert bundle.history_hours >= 48
    assert sorted(forecast["site_id"].unique()) == sorted(STATIONS)
    assert (forecast.groupby("site_id").size() == 12).all()
    issued = pd.Timestamp("2026-08-08 23:00", tz="Asia/Taipei")
    assert (forecast["issued_at"] == issued).all()
    expected = issued + pd.to_timedelta(forecast["horizon"], unit="h")
    assert (forecast["target_time"] == expected).all()
    assert (forecast["aqi_p10"] <= forecast["aqi_pred"]).all()
    assert (forecast["aqi_pred"] <= forecast["aqi_p90"]).all()
    assert (forecast["aqi_pred"] >= 0).all()
    assert np.allclose(forecast[list(BAND_COLUMNS)].sum(axis=1), 1.0)


def test_forecast_at_many_issue_hours_matches_one_at_a_time(trained, sample_store):
    history = sample_store.read(stations=["1"], start="2026-07-25 00:00+08:00")
    hours = pd.date_range("2026-07-30 10:00", periods=3, freq="h", tz="Asia/Taipei")

    together = trained.bundle.forecast(history, issued_at=hours)
    single = trained.bundle.forecast(history, issued_at=hours[1])

    assert len(together) == 36
    middle = together[together["issued_at"] == hours[1]].reset_index(drop=True)
    pd.testing.assert_frame_equal(middle, single)


def test_bundle_loads_by_version_and_run_id_and_as_pyfunc(
    trained, sample_store, settings
):
    by_version = load_bundle(f"v{trained.version}", settings=settings)
    by_run = load_bundle(trained.run_id, settings=settings)
    history = sample_store.read(stations=["12"], start="2026-08-05 00:00+08:00")

    mlflow.set_tracking_uri(settings.mlflow_uri)
    pyfunc = mlflow.pyfunc.load_model(f"models:/{settings.registered_model}@champion")
    from_notebook = pyfunc.predict(history)

    expected = by_version.forecast(history)
    pd.testing.assert_frame_equal(by_run.forecast(history), expected)
    pd.testing.assert_frame_equal(from_notebook.reset_index(drop=True), expected)


def test_missing_alias_says_to_train(settings):
    with pytest.raises(ModelNotFoundError, match="aqi-forecast train"):
        load_bundle("no-such-alias", settings=settings)


def test_experiment_with_an_unknown_model_fails_before_training(sample_store, settings):
    from training.experiments import run_experiment

    with pytest.raises(ModelNotFoundError, match="'no-such-alias'"):
        run_experiment(
            sample_store,
            settings,
            "2026-08-01 23:00",
            "2026-08-02 00:00",
            "2026-08-02 03:00",
            model="no-such-alias",
        )


def test_bundle_trained_on_other_features_is_refused_by_name(trained, tmp_path):
    folder = trained.bundle.save(tmp_path / "bundle")
    index = json.loads((folder / "bundle.json").read_text())
    index["metadata"]["feature_names"] = index["metadata"]["feature_names"][:-1]
    (folder / "bundle.json").write_text(json.dumps(index))

    with pytest.raises(ModelNotFoundError, match="feature code changed"):
        ForecastBundle.load(folder)
