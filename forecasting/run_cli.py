"""``aqi-forecast run``: the main job on the bundled real data, end to end.

Ingest the bundled MOENV data (idempotent), train every station unless the
registry already has a ``champion``, then serve in the foreground. A second run
reuses the store and the champion instead of redoing the work.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from forecasting.cli_options import HomeOption, err_console
from forecasting.config import get_settings
from forecasting.errors import ForecastingError

log = logging.getLogger(__name__)
console = err_console()


def run(
    home: HomeOption = None,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 3000,
    retrain: Annotated[
        bool, typer.Option("--retrain", help="Train even if a champion exists.")
    ] = False,
    jobs: Annotated[int, typer.Option(help="Stations trained in parallel.")] = 2,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Stop after training.")
    ] = False,
) -> None:
    """Ingest the bundled data, train all stations if needed, then serve."""
    from forecasting.ingest import ingest_sample_data
    from forecasting.store import HourlyStore
    from serving.cli import serve
    from serving.process import require_free_port
    from training.registry import has_alias
    from training.train import train

    settings = get_settings(home)
    try:
        if not no_serve:
            # Before the long ingest and training, not after.
            require_free_port(host, port)
        store = HourlyStore(settings.store_dir)
        console.print(
            f"[bold]1/3[/] ingesting the bundled MOENV data into {store.root}"
        )
        ingest_sample_data(store)

        if retrain or not has_alias("champion", settings=settings):
            console.print(
                f"[bold]2/3[/] training every station ({jobs} stations at a time; "
                "about 11 minutes on 2 cores)"
            )
            run_id = train(store, alias="champion", n_jobs=jobs, settings=settings)
            console.print(f"      MLflow run {run_id} registered as champion")
        else:
            console.print("[bold]2/3[/] champion found in the registry: not retraining")
    except ForecastingError as exc:
        console.print(f"[red]{exc}[/]", soft_wrap=True)
        raise typer.Exit(2) from exc

    if no_serve:
        return
    console.print(f"[bold]3/3[/] serving on http://{host}:{port} (Ctrl+C stops)")
    serve(home=settings.home, host=host, port=port, model="champion")
