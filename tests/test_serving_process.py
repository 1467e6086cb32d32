"""Starting and stopping server processes: environment, ports, no process left."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import psutil
import pytest
from typer.testing import CliRunner

from forecasting.cli import app
from forecasting.errors import ForecastingError
from serving import process

#: A parent that starts a child in its own session, as BentoML's workers are.
PARENT = (
    "import subprocess, sys, time;"
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'],"
    " start_new_session=True);"
    "time.sleep(600)"
)


def test_service_env_makes_relative_paths_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AQI_TRACKING_URI", "sqlite:///models/mlflow.db")
    monkeypatch.setenv("AQI_ARTIFACT_ROOT", "models/artifacts")

    env = process.service_env(tmp_path / "home", "challenger")

    assert env["AQI_HOME"] == str(tmp_path / "home")
    assert env["AQI_MODEL"] == "challenger"
    assert env["AQI_TRACKING_URI"] == f"sqlite:///{tmp_path}/models/mlflow.db"
    assert env["MLFLOW_TRACKING_URI"] == env["AQI_TRACKING_URI"]
    assert env["AQI_ARTIFACT_ROOT"] == str(tmp_path / "models" / "artifacts")


def test_absolute_uri_keeps_remote_and_absolute_uris():
    assert process.absolute_uri("http://mlflow:5000") == "http://mlflow:5000"
    assert process.absolute_uri("sqlite:////srv/m.db") == "sqlite:////srv/m.db"


def test_free_port_can_be_bound_on_loopback():
    port = process.free_port()

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_port_is_free_until_a_server_listens_on_it():
    port = process.free_port()
    assert process.port_is_free("127.0.0.1", port)

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()

        assert not process.port_is_free("127.0.0.1", port)


def test_port_is_free_refuses_an_address_of_another_machine():
    with pytest.raises(ForecastingError, match="cannot listen on --host 192.0.2.1"):
        process.port_is_free("192.0.2.1", 3000)


def test_serve_command_refuses_a_busy_port_in_one_line(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]

        result = CliRunner().invoke(
            app, ["serve", "--home", str(tmp_path), "--port", str(port)]
        )

    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"port {port} on 127.0.0.1 is already in use (another server still "
        f"running?); stop it or choose another port with --port, e.g. "
        f"--port {port + 1}"
    ]


def test_stop_server_leaves_no_child_process_behind():
    parent = subprocess.Popen([sys.executable, "-c", PARENT])
    for _ in range(100):
        children = psutil.Process(parent.pid).children(recursive=True)
        if children:
            break
        time.sleep(0.05)

    code = process.stop_server(parent, grace=1)

    assert code != 0
    assert children
    assert not [child for child in children if process.is_alive(child)]
