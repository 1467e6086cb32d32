"""``aqi-forecast serve`` and ``aqi-forecast forecast``."""

from __future__ import annotations

import signal
import subprocess
from types import FrameType
from typing import Annotated

import typer

from forecasting.cli_options import HomeOption, err_console, out_console
from forecasting.config import REPO_ROOT, get_settings
from forecasting.errors import ForecastingError

console = out_console()
errors = err_console()

ModelOption = Annotated[
    str,
    typer.Option(
        "--model", help="Registry alias (champion, challenger) or MLflow run id."
    ),
]

#: Exit codes of a server ended by a signal (negative: Popen; 128+n: a shell).
SIGNAL_EXITS = {
    -signal.SIGINT,
    -signal.SIGTERM,
    128 + signal.SIGINT,
    128 + signal.SIGTERM,
}


class _Stop(Exception):
    """Raised by the SIGTERM/SIGHUP handler to leave the wait on the server."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


def serve(
    home: HomeOption = None,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 3000,
    model: ModelOption = "champion",
) -> None:
    """Serve forecasts and the current AQI over HTTP (BentoML), in the foreground."""
    from serving.process import (
        require_free_port,
        server_command,
        service_env,
        stop_server,
    )
    from training.registry import load_bundle

    settings = get_settings(home)
    try:
        require_free_port(host, port)
        load_bundle(model, settings)
    except ForecastingError as exc:
        errors.print(f"[red]{exc}[/]", soft_wrap=True)
        raise typer.Exit(2) from exc

    command = server_command(host, port)
    errors.print(
        f"serving model {model} on http://{host}:{port} "
        f"(store {settings.store_dir}); Ctrl+C stops",
        soft_wrap=True,
    )
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=service_env(home, model))
    # A stop signal to this process alone (systemd, docker, kill) must reach the
    # server and its workers too, or they keep running and hold the port.
    stops = (signal.SIGTERM, signal.SIGHUP)
    previous = {signum: signal.signal(signum, _raise_stop) for signum in stops}
    try:
        code = process.wait()
    except (KeyboardInterrupt, _Stop):
        # On Ctrl+C the terminal sent SIGINT to the server too; either way
        # stop_server ends it and whatever it started. A repeated signal must
        # not cut that short.
        for signum in stops:
            signal.signal(signum, signal.SIG_IGN)
        stop_server(process)
        code = 0
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if code != 0 and code not in SIGNAL_EXITS:
        raise typer.Exit(code)


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
        bundle = load_bundle(model, settings)
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
