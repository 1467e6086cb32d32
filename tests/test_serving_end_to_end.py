"""Forecasts from a real champion: answers, the CLI, and the real BentoML server.

One module-wide setup ingests the bundled AQX_P_432 payload into a store in tmp,
trains two stations (中山 12, 基隆 1) into a tmp MLflow SQLite store with the
``champion`` alias, and the server test starts ``bentoml serve`` on a free port.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import psutil
import pytest
from typer.testing import CliRunner

from forecasting.cli import app
from forecasting.config import SAMPLE_DATA, get_settings
from forecasting.errors import ModelNotFoundError
from forecasting.ingest import ingest_paths
from forecasting.store import HourlyStore
from serving import answers, process
from serving.schemas import ForecastResponse

pytestmark = pytest.mark.slow

TRAINED = ["1", "12"]
PUBLISHED_2300 = (
    Path(__file__).parent
    / "data/raw/crab650_aqx_p_432/aqi_json_publish20260808T23_commit8bbd92ec.json"
)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A home with the bundled payload ingested and a champion for two stations."""
    from training.train import train

    root = tmp_path_factory.mktemp("serving")
    home = root / "home"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AQI_HOME", str(home))
        env.setenv("AQI_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
        env.setenv("AQI_ARTIFACT_ROOT", str(root / "artifacts"))
        env.setenv("BENTOML_HOME", str(root / "bentoml"))
        env.setenv("BENTOML_DO_NOT_TRACK", "True")
        settings = get_settings()
        store = HourlyStore(settings.store_dir)
        ingest_paths(sorted(SAMPLE_DATA.glob("*.json.gz")), store, progress=False)
        train(store, stations=TRAINED, n_jobs=1, settings=settings, num_boost_round=40)
        yield home


@pytest.fixture(scope="module")
def published() -> dict[str, float]:
    """AQI MOENV published at 2026-08-08 23:00, by station id."""
    records = json.loads(PUBLISHED_2300.read_text(encoding="utf-8"))
    return {r["site_id"]: float(r["aqi"]) for r in records if r["aqi"] not in ("", 0)}


def _check_forecast(answer: dict, site_id: str) -> None:
    """Assert the shape and times of a forecast answer issued at 23:00."""
    issued = pd.Timestamp(answer["issued_at"])
    assert answer["station_id"] == site_id
    assert issued == pd.Timestamp("2026-08-08 23:00", tz="Asia/Taipei")
    assert [e["horizon"] for e in answer["forecasts"]] == list(range(1, 13))
    for entry in answer["forecasts"]:
        hours = entry["horizon"]
        assert pd.Timestamp(entry["target_time"]) == issued + pd.Timedelta(hours=hours)
        assert 0 <= entry["aqi_p10"] <= entry["aqi"] <= entry["aqi_p90"]
        assert entry["status"] == answers.band(entry["aqi"])
        for name in ("aqi", "aqi_p10", "aqi_p90"):
            assert entry[name] == round(entry[name], 1)
        probabilities = [entry[name] for name in answers.PROBABILITIES]
        assert probabilities == [round(p, 3) for p in probabilities]
        # six values each rounded by at most 0.0005
        assert sum(probabilities) == pytest.approx(1.0, abs=0.003)


def test_forecast_answer_has_12_hours_after_issued_at(home):
    from training.registry import load_bundle

    with pytest.MonkeyPatch.context() as env:
        env.setenv("AQI_HOME", str(home))
        env.setenv("AQI_TRACKING_URI", f"sqlite:///{home.parent / 'mlflow.db'}")
        settings = get_settings()
        bundle = load_bundle("champion", settings)
    store = HourlyStore(settings.store_dir)

    answer = answers.forecast(store, bundle, "12", "champion")

    _check_forecast(answer, "12")
    assert answer["name_zh"] == "中山"
    ForecastResponse.model_validate(answer)
    with pytest.raises(ModelNotFoundError, match="station_id '49' is known but"):
        answers.forecast(store, bundle, "49", "champion")


def test_forecast_command_prints_the_table(home, monkeypatch):
    monkeypatch.setenv("AQI_TRACKING_URI", f"sqlite:///{home.parent / 'mlflow.db'}")

    result = CliRunner().invoke(app, ["forecast", "12", "--home", str(home)])

    assert result.exit_code == 0, result.output
    assert "中山" in result.output
    assert "08-09 11:00" in result.output  # horizon 12 of 2026-08-08 23:00


def test_forecast_command_refuses_unknown_station(home, monkeypatch):
    monkeypatch.setenv("AQI_TRACKING_URI", f"sqlite:///{home.parent / 'mlflow.db'}")

    result = CliRunner().invoke(app, ["forecast", "9999", "--home", str(home)])

    assert result.exit_code == 2
    assert "station_id '9999' is unknown" in result.output


def test_serve_command_without_champion_says_to_train(tmp_path, monkeypatch):
    monkeypatch.setenv("AQI_TRACKING_URI", f"sqlite:///{tmp_path / 'empty.db'}")

    result = CliRunner().invoke(app, ["serve", "--home", str(tmp_path)])

    assert result.exit_code == 2
    assert "run `aqi-forecast train` first" in " ".join(result.output.split())


@pytest.fixture(scope="module")
def server(home: Path) -> Iterator[str]:
    """The real ``bentoml serve`` on a free localhost port, stopped afterwards."""
    root = home.parent
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AQI_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
        env.setenv("AQI_ARTIFACT_ROOT", str(root / "artifacts"))
        env.setenv("BENTOML_HOME", str(root / "bentoml"))
        server_env = process.service_env(home, "champion")
    port = process.free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = root / "server.log"
    proc = process.start_server(server_env, "127.0.0.1", port, log_path)
    family: list[psutil.Process] = []
    try:
        try:
            process.wait_ready(proc, base_url, timeout=180)
        except Exception:
            pytest.fail(log_path.read_text(errors="replace")[-3000:])
        family = psutil.Process(proc.pid).children(recursive=True)
        yield base_url
    finally:
        process.stop_server(proc)
        assert not [p for p in family if process.is_alive(p)]


def test_server_forecast_returns_12_hours(server):
    response = httpx.post(f"{server}/forecast", json={"station_id": "12"}, timeout=60)

    assert response.status_code == 200, response.text
    answer = response.json()
    _check_forecast(answer, "12")
    assert answer["issued_at"] == "2026-08-08T23:00:00+08:00"
    assert "run" in answer["model"]


def test_server_current_aqi_equals_published_aqi(server, published):
    for site_id in ("12", "49", "85"):
        response = httpx.post(
            f"{server}/current_aqi", json={"station_id": site_id}, timeout=60
        )

        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["time"] == "2026-08-08T23:00:00+08:00"
        assert answer["aqi"] == published[site_id]
        assert answer["published_aqi"] == published[site_id]


def test_server_lists_stations(server):
    response = httpx.get(f"{server}/stations", timeout=60)

    assert response.status_code == 200
    stations = {s["station_id"]: s for s in response.json()}
    assert len(stations) >= 84
    assert stations["12"]["name_zh"] == "中山"
    assert stations["12"]["latitude"] == pytest.approx(25.06236)


def test_server_refuses_unknown_station_naming_the_field(server):
    for path in ("/forecast", "/current_aqi"):
        response = httpx.post(f"{server}{path}", json={"station_id": "9999"})

        assert response.status_code == 404
        assert "station_id '9999' is unknown" in response.json()["error"]
        assert "GET /stations" in response.json()["error"]


def test_server_refuses_station_without_model(server):
    response = httpx.post(f"{server}/forecast", json={"station_id": "49"})

    assert response.status_code == 404
    assert "no forecaster" in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "content_type", "problem"),
    [
        (b"{}", "application/json", "station_id is missing"),
        (b'{"station_id": 12}', "application/json", "station_id is 12, not a string"),
        (b'{"station_id": ""}', "application/json", "station_id '' is not a MOENV"),
        (b"null", "application/json", "the body is null, not a JSON object"),
        (b"not json", "application/json", "the body is not valid JSON"),
        (
            b"station_id=12",
            "application/x-www-form-urlencoded",
            "the body is application/x-www-form-urlencoded, not JSON",
        ),
    ],
)
def test_server_refuses_malformed_body_naming_station_id(
    server, body, content_type, problem
):
    for path in ("/forecast", "/current_aqi"):
        response = httpx.post(
            f"{server}{path}", content=body, headers={"content-type": content_type}
        )

        assert response.status_code in (400, 415)
        error = response.json()["error"]
        assert error.startswith(problem)
        assert '{"station_id": "12"}' in error
        assert "string of digits" in error
        assert "GET /stations" in error
        assert "IODescriptor" not in response.text
        assert response.json()["detail"][0]["loc"] == ["station_id"]


def test_server_openapi_shows_the_schemas(server):
    spec = httpx.get(f"{server}/docs.json").json()

    assert {"/forecast", "/current_aqi", "/stations"} <= set(spec["paths"])
    assert "get" in spec["paths"]["/stations"]
    assert {"ForecastEntry", "SubIndices", "Station"} <= set(
        spec["components"]["schemas"]
    )


def test_serve_command_stops_server_and_workers_on_sigterm(home, tmp_path):
    root = home.parent
    env = dict(os.environ)
    env["AQI_TRACKING_URI"] = f"sqlite:///{root / 'mlflow.db'}"
    env["AQI_ARTIFACT_ROOT"] = str(root / "artifacts")
    env["BENTOML_HOME"] = str(root / "bentoml")
    env["BENTOML_DO_NOT_TRACK"] = "True"
    port = process.free_port()
    command = [
        str(Path(sys.executable).with_name("aqi-forecast")),
        *("serve", "--home", str(home), "--port", str(port)),
    ]
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as output:
        serve = subprocess.Popen(
            command,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    family: list[psutil.Process] = []
    try:
        try:
            process.wait_ready(serve, f"http://127.0.0.1:{port}", timeout=180)
        except Exception:
            pytest.fail(log_path.read_text(errors="replace")[-3000:])
        family = psutil.Process(serve.pid).children(recursive=True)

        serve.send_signal(signal.SIGTERM)
        code = serve.wait(timeout=60)

        assert code == 0, log_path.read_text(errors="replace")[-3000:]
        banner = (
            f"serving model champion on http://127.0.0.1:{port} "
            f"(store {home.resolve() / 'store'}); Ctrl+C stops"
        )
        assert banner in log_path.read_text(errors="replace").splitlines()
        assert len(family) >= 2  # bentoml serve and its worker
        assert not [p for p in family if process.is_alive(p)]
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
        for proc in family:
            if process.is_alive(proc):
                proc.kill()
