"""Start, wait for and stop a ``bentoml serve`` process of this project's service.

Used by ``aqi-forecast serve``, the end-to-end test and the serving benchmark, so
each of them runs the real server the same way and leaves no process behind.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import subprocess
import sys
import time as clock
from pathlib import Path

import httpx
import psutil

from forecasting.config import REPO_ROOT, get_settings
from forecasting.errors import ForecastingError

log = logging.getLogger(__name__)

SERVICE = "serving.service:AqiForecast"


def service_env(home: Path | None, model: str) -> dict[str, str]:
    """Return the environment the BentoML server runs with.

    The home folder, the model reference and the MLflow tracking URI in force are
    passed explicitly, so the server sees what this process sees.

    Returns
    -------
    dict
        A copy of ``os.environ`` with ``AQI_HOME``, ``AQI_MODEL``, the tracking
        URI and the artifact root set (paths made absolute); BentoML's usage
        tracking and MLflow's download progress bars off.
    """
    settings = get_settings(home)
    env = dict(os.environ)
    env["AQI_HOME"] = str(Path(settings.home).resolve())
    env["AQI_MODEL"] = model
    # BentoML changes into the repository: relative paths must not move.
    env["AQI_TRACKING_URI"] = absolute_uri(settings.mlflow_uri)
    env["MLFLOW_TRACKING_URI"] = env["AQI_TRACKING_URI"]
    env["AQI_ARTIFACT_ROOT"] = str(Path(settings.artifact_root).resolve())
    env.setdefault("BENTOML_DO_NOT_TRACK", "True")
    env.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    return env


def absolute_uri(uri: str) -> str:
    """Return ``uri`` with a relative ``sqlite:///`` or plain path made absolute."""
    prefix = "sqlite:///"
    if uri.startswith(prefix) and not Path(uri[len(prefix) :]).is_absolute():
        return prefix + str(Path(uri[len(prefix) :]).resolve())
    if "://" not in uri and not uri.startswith("sqlite:"):
        return str(Path(uri).resolve())
    return uri


def server_command(host: str, port: int) -> list[str]:
    """Return the ``bentoml serve`` command line for this project's service."""
    bentoml = Path(sys.executable).with_name("bentoml")
    program = [str(bentoml)] if bentoml.exists() else [sys.executable, "-m", "bentoml"]
    return [*program, "serve", SERVICE, "--host", host, "--port", str(port)]


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on ``host`` right now.

    Another process may still take it before the server binds it; on loopback
    in tests that race has not been seen.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(host: str, port: int) -> bool:
    """Return whether a server could listen on ``host:port`` right now.

    Binds a socket there and closes it (with ``SO_REUSEADDR``, as the server
    binds, so a port left in TIME_WAIT counts as free).

    Raises
    ------
    ForecastingError
        When ``host`` is not an address of this machine, or the bind fails for
        another reason than the port being taken.
    """
    try:
        family, kind, _, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )[0]
        with socket.socket(family, kind) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return False
        raise ForecastingError(
            f"cannot listen on --host {host} --port {port}: {exc}; use an address "
            "of this machine (127.0.0.1, 0.0.0.0) and a port from 1024 to 65535"
        ) from exc
    return True


def require_free_port(host: str, port: int) -> None:
    """Check that ``host:port`` is free before starting a server there.

    Raises
    ------
    ForecastingError
        When the port is taken (the message names it and suggests ``--port``),
        or as :func:`port_is_free` does.
    """
    if not port_is_free(host, port):
        raise ForecastingError(
            f"port {port} on {host} is already in use (another server still "
            f"running?); stop it or choose another port with --port, e.g. "
            f"--port {port + 1}"
        )


def start_server(
    env: dict[str, str], host: str, port: int, log_path: Path | None = None
) -> subprocess.Popen:
    """Start ``bentoml serve`` in its own session, from the repository root.

    Returns
    -------
    subprocess.Popen
        The server process; stop it with :func:`stop_server`.
    """
    output = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115
    try:
        return subprocess.Popen(
            server_command(host, port),
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        if log_path:
            output.close()


def wait_ready(
    process: subprocess.Popen, base_url: str, timeout: float = 120.0
) -> float:
    """Wait until ``/readyz`` answers 200; return the seconds it took.

    Raises
    ------
    ForecastingError
        When the server exits or is not ready within ``timeout`` seconds.
    """
    started = clock.perf_counter()
    while clock.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise ForecastingError(
                f"the BentoML server exited with code {process.returncode} before "
                "it was ready; see its log"
            )
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2.0).status_code == 200:
                return clock.perf_counter() - started
        except httpx.HTTPError:
            pass
        clock.sleep(0.2)
    raise ForecastingError(
        f"the BentoML server at {base_url} was not ready after {timeout:.0f} s; "
        "see its log"
    )


def is_alive(proc: psutil.Process) -> bool:
    """Return whether ``proc`` still runs; a zombie waiting to be reaped does not."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def stop_server(process: subprocess.Popen, grace: float = 15.0) -> int:
    """Stop the server and every process it started.

    SIGTERM lets BentoML shut its workers down; whatever is still alive after
    ``grace`` seconds (workers run in their own process groups) is killed.

    Returns
    -------
    int
        The server's exit code (negative: the signal that ended it).
    """
    try:
        family = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    if process.poll() is None:
        process.terminate()
    try:
        code = process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        code = process.wait()
    _, alive = psutil.wait_procs(family, timeout=grace)
    for child in alive:
        log.warning("killing server process %d left after shutdown", child.pid)
        child.kill()
    psutil.wait_procs(alive, timeout=grace)
    return code
