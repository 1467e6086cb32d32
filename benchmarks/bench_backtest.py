"""Seconds for a rolling-origin backtest of all 84 stations over two weeks.

The bundled data are ingested into a temporary store, a small per-station model
(20 boosting rounds, change target, no refit: the backtest's cost does not depend
on how good the model is, only on how many boosters it calls) is trained on the
hours up to 2026-07-25 23:00 and registered in a temporary MLflow store, and
:func:`training.backtest.run_backtest` issues forecasts at every hour from
2026-07-26 00:00 to 2026-08-08 23:00 (336 issue hours x 84 stations x 12
horizons). Goal (issue 5): a few minutes on 2 cores.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

TRAIN_END = "2026-07-25 23:00+08:00"
START = "2026-07-26 00:00+08:00"
END = "2026-08-08 23:00+08:00"


def main() -> None:
    """Print the training time, the backtest time and rows per second."""
    from forecasting.config import Settings
    from forecasting.ingest import ingest_sample_data
    from forecasting.store import HourlyStore
    from training.backtest import run_backtest
    from training.train import run_training

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        # built by the constructor: model_copy would keep a cached mlflow_uri
        settings = Settings(
            home=root / "home", AQI_TRACKING_URI=f"sqlite:///{root / 'mlflow.db'}"
        )
        store = HourlyStore(settings.store_dir)
        ingest_sample_data(store, progress=False)

        began = time.perf_counter()
        trained = run_training(
            store,
            end=TRAIN_END,
            alias="champion",
            n_jobs=2,
            settings=settings,
            num_boost_round=20,
            refit=False,
        )
        train_seconds = time.perf_counter() - began

        began = time.perf_counter()
        result = run_backtest(
            store, START, END, model="champion", progress=False, settings=settings
        )
        seconds = time.perf_counter() - began

    rows = len(result.forecasts)
    print(
        f"small model: {len(trained.bundle.stations)} stations, {train_seconds:.1f} s"
    )
    print(
        f"backtest {START} .. {END}: {len(result.stations)} stations, {rows} rows "
        f"in {seconds:.1f} s (forecasts {result.seconds:.1f} s), "
        f"{rows / seconds:,.0f} rows/s"
    )
