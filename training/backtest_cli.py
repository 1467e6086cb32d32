"""Commands ``backtest``, ``compare`` and ``promote`` of ``aqi-forecast``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forecasting.cli_options import HomeOption, StationsOption, err_console, out_console

StartOption = Annotated[
    str | None,
    typer.Option("--start", help="First issue hour, ISO 8601 (naive = Asia/Taipei)."),
]
EndOption = Annotated[
    str | None,
    typer.Option("--end", help="Last issue hour, ISO 8601, inclusive."),
]
NoMlflowOption = Annotated[
    bool, typer.Option("--no-mlflow", help="Do not record the backtest in MLflow.")
]


def _fail(message: str) -> None:

    err_console().print(f"[red]{message}[/red]", highlight=False)
    raise typer.Exit(code=2)


def _store(home: Path | None):
    from forecasting.config import get_settings
    from forecasting.store import HourlyStore

    settings = get_settings(home)
    return settings, HourlyStore(settings.store_dir)


def _require(value: str | None, name: str) -> str:
    if value is None:
        _fail(f"{name} is required: give the hour as ISO 8601, e.g. 2026-08-02T00:00")
    return value


def backtest(
    start: StartOption = None,
    end: EndOption = None,
    out: Annotated[
        Path, typer.Option("--out", help="Forecast CSV to write; report beside it.")
    ] = Path("backtest.csv"),
    model: Annotated[
        str,
        typer.Option("--model", help="champion, challenger or an MLflow run id."),
    ] = "champion",
    home: HomeOption = None,
    stations: StationsOption = None,
    no_mlflow: NoMlflowOption = False,
) -> None:
    """Forecast at every hour from START to END for every station and score it.

    Writes the forecasts (one row per station, issue hour and horizon) to OUT,
    the Markdown report, figures and score tables next to it, and records the
    run in MLflow (experiment "backtests").
    """

    from forecasting.errors import ForecastingError
    from training.backtest import run_backtest, write_csv

    console = out_console()
    try:
        settings, store = _store(home)
        result = run_backtest(
            store,
            _require(start, "--start"),
            _require(end, "--end"),
            stations,
            model,
            settings=settings,
        )
        note = result.in_sample_note()
        if note is not None:
            console.print(
                f"[yellow]warning: {note} (model trained on data up to "
                f"{result.model_info.get('trained_until')})[/yellow]",
                highlight=False,
            )
        write_csv(result.forecasts, out)
        files = _report_files(result, out)
        if not no_mlflow:
            from training.backtest_mlflow import log_backtest

            run_id = log_backtest(result, settings, files)
            console.print(f"MLflow run {run_id} (experiment backtests)")
    except ForecastingError as error:
        _fail(str(error))
    _print_horizons(console, result)
    console.print(f"forecasts: {out}\nreport: {files[1]}")


def _report_files(result, out: Path) -> list[Path]:
    from training.report import write_report

    report = write_report(result, out)
    stem = Path(out).stem
    extras = sorted(p for p in report.parent.glob(f"{stem}.*") if p != report)
    return [Path(out), report] + [p for p in extras if p != Path(out)]


def _print_horizons(console, result) -> None:
    from rich.table import Table

    from training.report import horizon_table

    frame = horizon_table(result)
    shown = {
        "horizon": "h",
        "mae_model": "MAE model",
        "mae_persistence": "persist.",
        "mae_same_hour_yesterday": "yesterday",
        "mae_climatology": "climat.",
        "skill": "skill",
        "coverage": "p10-p90",
        "csi": "CSI>100",
        "csi_persistence": "CSI pers.",
        "n_scored": "scored",
    }
    table = Table(title=f"backtest of {result.model_ref}: scores by horizon")
    for label in shown.values():
        table.add_column(label, justify="right")
    for row in frame.loc[:, list(shown)].itertuples(index=False):
        table.add_row(*[_cell(v) for v in row])
    console.print(table)
    head = result.headline
    console.print(
        f"mean MAE h1-12: model {head['mae_mean']:.2f}, persistence "
        f"{head['persistence_mae_mean']:.2f} ({head['persistence_mae_model_rows']:.2f} "
        f"on the model's rows); skill {head['skill_mean']:.3f}; "
        f"rows scored {int(head['n_scored'])} of {int(head['n_expected'])}"
    )


def _cell(value) -> str:
    import math

    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.2f}"
    return str(value)


def _print_frame(console, frame, title: str) -> None:
    from rich.table import Table

    table = Table(title=title)
    for column in frame.columns:
        table.add_column(str(column), justify="right")
    for row in frame.itertuples(index=False):
        table.add_row(*[_cell(v) for v in row])
    console.print(table)


def compare(
    refs: Annotated[
        list[str], typer.Argument(help="Models: champion, challenger or run ids.")
    ],
    start: StartOption = None,
    end: EndOption = None,
    home: HomeOption = None,
    stations: StationsOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the table as CSV here.")
    ] = None,
) -> None:
    """Backtest two or more models on the same rows and show them side by side."""

    from forecasting.errors import ForecastingError
    from training.compare import compare as run_compare

    console = out_console()
    if len(refs) < 2:
        _fail("compare needs at least two models, e.g. `compare champion challenger`")
    try:
        settings, store = _store(home)
        table, _ = run_compare(
            store,
            refs,
            _require(start, "--start"),
            _require(end, "--end"),
            stations,
            settings=settings,
        )
    except ForecastingError as error:
        _fail(str(error))
    _print_frame(console, table, "models side by side (same rows)")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out, index=False)
        console.print(f"table: {out}")


def promote(
    metric: Annotated[
        str, typer.Option("--metric", help="mae (the rule) or rmse.")
    ] = "mae",
    start: StartOption = None,
    end: EndOption = None,
    home: HomeOption = None,
    stations: StationsOption = None,
) -> None:
    """Make the challenger champion only if its mean MAE over horizons 1-12 is lower.

    Both models are backtested on the same rows (default window: the last week
    of the store); both figures are printed whatever the outcome.
    """

    from forecasting.errors import ForecastingError
    from training.compare import promote as run_promote

    console = out_console()
    try:
        settings, store = _store(home)
        decision = run_promote(store, settings, metric, start, end, stations)
    except ForecastingError as error:
        _fail(str(error))
    _print_frame(console, decision.table, "challenger vs champion (same rows)")
    champion = (
        f"{decision.champion:.3f} (v{decision.champion_version})"
        if decision.champion is not None
        else "none"
    )
    console.print(
        f"mean {decision.metric} h1-12: challenger {decision.challenger:.3f} "
        f"(v{decision.challenger_version}), champion {champion}"
    )
    if decision.promoted:
        console.print(
            f"[green]champion -> version {decision.challenger_version}[/green]"
        )
    else:
        console.print("[yellow]challenger did not win; champion unchanged[/yellow]")
