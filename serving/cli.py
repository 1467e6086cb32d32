"""``aqi-forecast serve`` and ``aqi-forecast forecast``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from forecasting.cli_options import HomeOption
from forecasting.config import get_settings
from forecasting.errors import ForecastingError

console = Console()
errors = Console(stderr=True)

SERVICE = "serving.service:AqiForecast"

ModelOption = Annotated[
    str,
    typer.Option(
        "--model", help="Registry alias (champion, challenger) or MLflow run id."
    ),
]


def service_env(home: Path | None, model: str) -> dict[str, str]:
    """Return the environment the BentoML server runs with.

    The home folder, the model reference and the MLflow tracking URI in force are
    passed explicitly, so the server sees what this process sees.

    Returns
    -------
    dict
        A copy of ``os.environ`` with ``AQI_HOME``, ``AQI_MODEL`` and
        ``MLFLOW_TRACKING_URI`` set.
    """
    settings = get_settings(home)
    env = dict(os.environ)
    env["AQI_HOME"] = str(Path(settings.home).resolve())
    env["AQI_MODEL"] = model
    env["MLFLOW_TRACKING_URI"] = settings.mlflow_uri
    return env


def server_command(host: str, port: int) -> list[str]:
    """Return the ``bentoml serve`` command line for this project's service."""
    bentoml = Path(sys.executable).with_name("bentoml")
    program = [str(bentoml)] if bentoml.exists() else [sys.executable, "-m", "bentoml"]
    return [*program, "serve", SERVICE, "--host", host, "--port", str(port)]


def serve(
    home: HomeOption = None,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 3000,
    model: ModelOption = "champion",
) -> None:
    """Serve forecasts and the current AQI over HTTP (BentoML), in the foreground."""
    from training.registry import has_alias

    settings = get_settings(home)
    repo = Path(__file__).resolve().parents[1]
    if model in ("champion", "challenger") and not has_alias(model, settings=settings):
        errors.print(
            f"[red]no model has the alias {model!r} in {settings.mlflow_uri}; "
            "run `aqi-forecast train` first[/]"
        )
        raise typer.Exit(2)

    command = server_command(host, port)
    errors.print(
        f"serving model {model} on http://{host}:{port} "
        f"(store {settings.store_dir}); Ctrl+C stops"
    )
    process = subprocess.Popen(command, cwd=repo, env=service_env(home, model))
    try:
        code = process.wait()
    except KeyboardInterrupt:
        # The terminal sent SIGINT to the server too: let it shut down cleanly.
        code = _stop(process)
    if code not in (0, -2, 130):
        raise typer.Exit(code)


def _stop(process: subprocess.Popen, grace: float = 10.0) -> int:
    """Wait for a server that got SIGINT; terminate, then kill it if it lingers."""
    try:
        return process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.terminate()
    try:
        return process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def forecast(
    station_id: Annotated[str, typer.Argument(help="MOENV station id, e.g. 12.")],
    home: HomeOption = None,
    model: ModelOption = "champion",
) -> None:
    """Print the 12-hour AQI forecast of one station (no server needed)."""
    from rich.table import Table

    from forecasting.store import HourlyStore
    from serving import answers
    from training.registry import load_bundle

    settings = get_settings(home)
    try:
        store = HourlyStore(settings.store_dir)
        answers.station(store, station_id)
        bundle = load_bundle(model)
        answer = answers.forecast(
            store, bundle, station_id, answers.model_label(bundle, model)
        )
    except ForecastingError as exc:
        errors.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc

    table = Table(
        title=(
            f"{answer['station_id']} {answer['name_zh']} ({answer['name_en']}), "
            f"issued at {answer['issued_at']:%Y-%m-%d %H:%M}"
        ),
        caption=f"model {answer['model']}",
    )
    for column in ("hour", "h", "AQI", "p10-p90", "status", "P(>100)"):
        table.add_column(column, justify="left" if column == "status" else "right")
    for entry in answer["forecasts"]:
        over = [entry[name] for name in answers.PROBABILITIES[2:]]
        table.add_row(
            f"{entry['target_time']:%m-%d %H:%M}",
            str(entry["horizon"]),
            _fmt(entry["aqi"]),
            f"{_fmt(entry['aqi_p10'])}-{_fmt(entry['aqi_p90'])}",
            entry["status"] or "-",
            "-" if None in over else f"{sum(over):.0%}",
        )
    console.print(table)


def _fmt(value: float | None) -> str:
    """Return an AQI rounded for display, ``-`` for none."""
    return "-" if value is None else f"{value:.0f}"
