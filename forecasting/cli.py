"""The ``aqi-forecast`` command line.

Each stage keeps its commands as plain functions in its own ``cli`` module; this
file only puts them under one ``aqi-forecast`` verb list. It is the one place
allowed to know every stage: the composition root.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Forecast Taiwan's hourly AQI from MOENV data: ingest, train, serve.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def main() -> None:
    """Entry point used by ``python -m forecasting``."""
    app()


import training.cli  # noqa: E402

app.command("train")(training.cli.train)

import forecasting.aqi_cli  # noqa: E402

app.command("aqi")(forecasting.aqi_cli.aqi)

import serving.cli  # noqa: E402

app.command("serve")(serving.cli.serve)
app.command("forecast")(serving.cli.forecast)

import forecasting.data_cli  # noqa: E402

app.command("ingest")(forecasting.data_cli.ingest)
app.command("fetch")(forecasting.data_cli.fetch)
app.command("stations")(forecasting.data_cli.stations)

import training.backtest_cli  # noqa: E402

app.command("backtest")(training.backtest_cli.backtest)
app.command("compare")(training.backtest_cli.compare)
app.command("promote")(training.backtest_cli.promote)

import forecasting.run_cli  # noqa: E402

app.command("run")(forecasting.run_cli.run)
