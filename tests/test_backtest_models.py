"""Backtests of two small real trainings (stations 1 and 43, data to 2026-08-01
23:00) on the following hours: rows, no look-ahead, CSV, report, MLflow,
compare and promote. MLflow is a real SQLite store in a temporary folder."""

from __future__ import annotations

import re

import mlflow
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecasting.cli import app
from forecasting.config import Settings
from forecasting.errors import UnknownStationError
from forecasting.readers.base import ReadResult
from forecasting.store import HourlyStore
from training.backtest import CSV_COLUMNS, run_backtest, write_csv
from training.backtest_mlflow import log_backtest
from training.compare import compare, promote
from training.registry import client_for
from training.report import horizon_table, write_report
from training.train import run_training

pytestmark = pytest.mark.slow

TZ = "Asia/Taipei"
STATIONS = ["1", "43"]
TRAIN_END = "2026-08-01 23:00+08:00"
T0 = pd.Timestamp("2026-08-02 00:00", tz=TZ)
T1 = T0 + pd.Timedelta(hours=23)


@pytest.fixture(scope="module")
def models(sample_store, tmp_path_factory):
    """A fair model (champion) and a one-tree level model (challenger)."""
    root = tmp_path_factory.mktemp("backtest_mlflow")
    # built by the constructor: model_copy would keep a cached mlflow_uri
    settings = Settings(
        home=root / "home", AQI_TRACKING_URI=f"sqlite:///{root / 'mlflow.db'}"
    )
    assert settings.mlflow_uri.startswith(f"sqlite:///{root}")
    common = dict(end=TRAIN_END, n_jobs=1, settings=settings, refit=False)
    good = run_training(
        sample_store, STATIONS, alias="champion", num_boost_round=40, **common
    )
    bad = run_training(
        sample_store,
        STATIONS,
        alias="challenger",
        num_boost_round=1,
        members=("level",),
        **common,
    )
    return settings, f"v{good.version}", f"v{bad.version}"


@pytest.fixture(scope="module")
def day(sample_store, models):
    settings, good, _ = models
    return run_backtest(
        sample_store, T0, T1, STATIONS, good, progress=False, settings=settings
    )


def test_backtest_has_a_row_per_station_issue_hour_and_horizon(day):
    rows = day.forecasts

    assert len(rows) == 2 * 24 * 12
    assert list(rows.columns) == list(CSV_COLUMNS)
    assert rows["aqi_pred"].notna().all()
    lead = rows["target_time"] - rows["issued_at"]
    assert (lead == pd.to_timedelta(rows["horizon"], unit="h")).all()
    assert day.headline["n_expected"] == 576
    assert day.headline["n_scored"] == 576  # both stations published every hour


def test_forecasts_use_no_data_after_their_issue_hour(
    sample_store, models, day, tmp_path
):
    settings, good, _ = models
    cut = T0 + pd.Timedelta(hours=11)
    truncated = HourlyStore(tmp_path / "store")
    truncated.ingest(ReadResult(hourly=sample_store.read(STATIONS, end=cut)))

    early = run_backtest(
        truncated, T0, cut, STATIONS, good, progress=False, settings=settings
    )

    full = day.forecasts[day.forecasts["issued_at"] <= cut].reset_index(drop=True)
    assert len(early.forecasts) == len(full) == 2 * 12 * 12
    pd.testing.assert_frame_equal(early.forecasts, full)


def test_csv_has_the_columns_and_iso_times_with_offset(day, tmp_path):
    path = tmp_path / "bt.csv"
    write_csv(day.forecasts, path)

    text = pd.read_csv(path, dtype=str)
    assert list(text.columns) == list(CSV_COLUMNS)
    iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:00:00\+08:00$")
    assert text["issued_at"].str.match(iso).all()
    assert text["target_time"].str.match(iso).all()
    first = text.iloc[0]
    assert (first["site_id"], first["issued_at"]) == ("1", "2026-08-02T00:00:00+08:00")
    assert first["target_time"] == "2026-08-02T01:00:00+08:00"
    probs = text[[c for c in CSV_COLUMNS if c.startswith("p_")]].astype(float)
    assert probs.sum(axis=1).round(2).eq(1.0).all()


def test_report_files_exist_and_its_mae_table_is_the_scores(day, tmp_path):
    path = tmp_path / "bt.csv"
    write_csv(day.forecasts, path)

    report = write_report(day, path)

    for suffix in ("mae_by_horizon.png", "coverage_by_horizon.png", "by_horizon.csv"):
        assert (tmp_path / f"bt.{suffix}").stat().st_size > 0
    text = report.read_text()
    section = text.split("## By horizon")[1].split("##")[0].strip().splitlines()
    header = [c.strip() for c in section[0].strip("|").split("|")]
    lines = [[c.strip() for c in line.strip("|").split("|")] for line in section[2:]]
    table = pd.DataFrame(lines, columns=header)
    model = day.by_horizon[day.by_horizon["predictor"] == "model"]
    persistence = day.by_horizon[day.by_horizon["predictor"] == "persistence"]
    assert table["horizon"].tolist() == [str(h) for h in range(1, 13)]
    assert table["mae_model"].tolist() == [f"{v:.2f}" for v in model["mae"]]
    assert table["mae_persistence"].tolist() == [f"{v:.2f}" for v in persistence["mae"]]
    assert horizon_table(day)["mae_model"].tolist() == model["mae"].tolist()


def test_backtest_is_logged_as_one_mlflow_run(day, models, tmp_path):
    settings, _, _ = models
    path = tmp_path / "bt.csv"
    write_csv(day.forecasts, path)

    run_id = log_backtest(day, settings, [path, write_report(day, path)])

    run = client_for(settings).get_run(run_id)
    model = day.by_horizon[day.by_horizon["predictor"] == "model"]
    assert run.data.params["model_ref"] == day.model_ref
    assert run.data.params["n_stations"] == "2"
    assert run.data.metrics["mae_h01"] == pytest.approx(model["mae"].iloc[0])
    names = {a.path for a in client_for(settings).list_artifacts(run_id)}
    assert {"bt.csv", "bt.report.md"} <= names
    assert mlflow.get_experiment(run.info.experiment_id).name == "backtests"


def test_compare_scores_both_models_on_the_same_rows(sample_store, models):
    settings, good, bad = models

    table, results = compare(
        sample_store, [good, bad], T0, T1, STATIONS, False, settings
    )

    rows = table.set_index("horizon")
    summary = rows.loc["mean h1-12 (n_scored: total)"]
    assert summary[f"mae_{good}"] < summary[f"mae_{bad}"]
    model = results[0].by_horizon.query("predictor == 'model'")
    assert summary[f"mae_{good}"] == pytest.approx(model["mae"].mean())
    assert table["n_scored"].dtype == "int64"
    assert rows.loc["1", "n_scored"] == 48  # 2 stations x 24 issue hours
    assert summary["n_scored"] == 576  # a total, not a mean
    assert [r.model_ref for r in results] == [good, bad]


def test_compare_command_refuses_the_same_model_twice(sample_home, models, monkeypatch):
    settings, good, _ = models
    monkeypatch.setenv("AQI_TRACKING_URI", settings.mlflow_uri)
    args = ["compare", good, good, "--home", str(sample_home), "-s", "1"]
    args += ["--start", "2026-08-02T00:00", "--end", "2026-08-02T05:00"]

    result = CliRunner().invoke(app, args)

    text = " ".join(result.output.split())
    assert result.exit_code == 2
    assert f"compare: model {good} is given more than once" in text
    assert "side by side" not in text


def _set_aliases(settings, champion: str, challenger: str) -> None:
    client = client_for(settings)
    name = settings.registered_model
    client.set_registered_model_alias(name, "champion", champion.removeprefix("v"))
    client.set_registered_model_alias(name, "challenger", challenger.removeprefix("v"))


def _champion(settings) -> str:
    client = client_for(settings)
    version = client.get_model_version_by_alias(settings.registered_model, "champion")
    return f"v{version.version}"


def test_promote_keeps_the_champion_when_the_challenger_is_worse(sample_store, models):
    settings, good, bad = models
    _set_aliases(settings, champion=good, challenger=bad)

    decision = promote(sample_store, settings, "mae", T0, T1, STATIONS, False)

    assert not decision.promoted
    assert decision.challenger > decision.champion
    assert _champion(settings) == good


def test_promote_moves_the_champion_when_the_challenger_is_better(sample_store, models):
    settings, good, bad = models
    _set_aliases(settings, champion=bad, challenger=good)

    decision = promote(sample_store, settings, "mae", T0, T1, STATIONS, False)

    assert decision.promoted
    assert decision.challenger < decision.champion
    assert _champion(settings) == good


def test_backtest_command_writes_csv_and_report(sample_home, models, monkeypatch):
    settings, good, _ = models
    monkeypatch.setenv("AQI_TRACKING_URI", settings.mlflow_uri)
    monkeypatch.setenv("AQI_ARTIFACT_ROOT", str(settings.artifact_root))
    out = sample_home / "out" / "bt.csv"
    args = ["backtest", "--home", str(sample_home), "--model", good]
    args += ["--start", "2026-08-02T00:00", "--end", "2026-08-02T05:00"]
    args += ["-s", "1", "--out", str(out)]

    result = CliRunner().invoke(app, args)

    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(out)) == 6 * 12
    assert (out.parent / "bt.report.md").exists()
    assert "mean MAE h1-12: model" in result.output


def test_backtest_command_refuses_a_reversed_span(sample_home, models, monkeypatch):
    settings, good, _ = models
    monkeypatch.setenv("AQI_TRACKING_URI", settings.mlflow_uri)
    args = ["backtest", "--home", str(sample_home), "--model", good]
    args += ["--start", "2026-08-03T00:00", "--end", "2026-08-02T00:00"]

    result = CliRunner().invoke(app, args)

    assert result.exit_code == 2
    assert "start" in result.output and "after end" in result.output


def test_promote_command_prints_both_figures(sample_home, models, monkeypatch):
    settings, good, bad = models
    _set_aliases(settings, champion=good, challenger=bad)
    monkeypatch.setenv("AQI_TRACKING_URI", settings.mlflow_uri)
    monkeypatch.setenv("AQI_ARTIFACT_ROOT", str(settings.artifact_root))
    args = ["promote", "--home", str(sample_home), "-s", "1", "-s", "43"]
    args += ["--start", "2026-08-02T00:00", "--end", "2026-08-02T23:00"]

    result = CliRunner().invoke(app, args)

    assert result.exit_code == 0, result.output
    figures = re.search(
        r"mean mae h1-12: challenger (\d+\.\d{3}) \((v\d+)\), "
        r"champion (\d+\.\d{3}) \((v\d+)\)",
        result.output,
    )
    assert figures is not None, result.output
    assert (figures.group(2), figures.group(4)) == (bad, good)
    assert float(figures.group(1)) > float(figures.group(3))
    assert "champion unchanged" in result.output
    assert _champion(settings) == good


def test_backtest_refuses_a_station_without_data(sample_store, models):
    settings, good, _ = models

    with pytest.raises(UnknownStationError, match="999"):
        run_backtest(sample_store, T0, T1, ["1", "999"], good, False, None, settings)


def test_backtest_command_counts_in_sample_issue_hours(
    sample_home, models, monkeypatch
):
    settings, good, _ = models
    monkeypatch.setenv("AQI_TRACKING_URI", settings.mlflow_uri)
    monkeypatch.setenv("AQI_ARTIFACT_ROOT", str(settings.artifact_root))
    out = sample_home / "in_sample" / "bt.csv"
    args = ["backtest", "--home", str(sample_home), "--model", good, "-s", "1"]
    args += ["--start", "2026-08-01T18:00", "--end", "2026-08-02T02:00"]

    result = CliRunner().invoke(app, [*args, "--out", str(out)])

    # trained to 08-01 23:00: issue hours 18:00..22:00 have their 1 h target in it
    note = "5 of 9 issue hours are in sample: these scores flatter the model"
    assert result.exit_code == 0, result.output
    assert note in " ".join(result.output.split())
    report = (out.parent / "bt.report.md").read_text().splitlines()
    assert note in report[2]
    run_id = re.search(r"MLflow run (\w+)", result.output).group(1)
    run = client_for(settings).get_run(run_id)
    assert run.data.params["in_sample_issue_hours"] == "5"
    assert run.data.params["n_issue_hours"] == "9"
    assert run.data.metrics["in_sample_share"] == pytest.approx(5 / 9)


def test_out_of_sample_backtest_has_no_in_sample_warning(day, tmp_path):
    path = tmp_path / "bt.csv"
    write_csv(day.forecasts, path)

    text = write_report(day, path).read_text()

    assert day.in_sample == 0 and day.in_sample_note() is None
    assert "in sample" not in text


def test_backtest_command_names_an_unknown_station_before_the_sample_warning(
    sample_home, models, monkeypatch, caplog
):
    settings, good, _ = models
    monkeypatch.setenv("AQI_TRACKING_URI", settings.mlflow_uri)
    args = ["backtest", "--home", str(sample_home), "--model", good, "-s", "9999"]
    args += ["--start", "2026-08-01T18:00", "--end", "2026-08-02T02:00"]

    with caplog.at_level("WARNING", logger="training.backtest"):
        result = CliRunner().invoke(app, args)

    text = " ".join(result.output.split())
    assert result.exit_code == 2
    assert "--stations: station id 9999 is unknown" in text
    assert "ingest data first" not in text
    assert not [r for r in caplog.records if "in sample" in r.getMessage()]
