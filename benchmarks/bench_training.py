"""Training: wall time for N stations on 2 workers, MLflow logging, forecast latency.

Builds a throw-away home in a temporary folder (the bundled 750-hour AQX_P_432
payload in an hourly store, a SQLite MLflow store), trains ``STATIONS`` stations
end to end (features, boosters, MLflow run, registration), then times loading
the champion and forecasting one station from its history. Nothing is written
into the repository. Set ``BENCH_TRAINING_STATIONS=84`` for the whole network.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

STATIONS = int(os.environ.get("BENCH_TRAINING_STATIONS", "12"))
FORECASTS = 20


def main() -> None:
    """Print training and forecast figures."""
    from forecasting.config import SAMPLE_DATA, Settings
    from forecasting.ingest import ingest_paths
    from forecasting.store import HourlyStore
    from training.registry import load_bundle
    from training.train import run_training

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = Settings(
            AQI_TRACKING_URI=f"sqlite:///{root / 'mlflow.db'}",
            artifact_root=root / "artifacts",
            home=root / "home",
        )
        store = HourlyStore(settings.store_dir)
        ingest_paths(sorted(SAMPLE_DATA.glob("*.json.gz")), store, progress=False)
        stations = sorted(store.station_ids(), key=lambda s: (len(s), s))[:STATIONS]

        started = time.perf_counter()
        cpu = time.process_time()
        result = run_training(store, stations=stations, n_jobs=2, settings=settings)
        wall = time.perf_counter() - started
        seconds = result.seconds
        table = result.horizon_table()
        print(
            f"train {len(result.bundle.stations)} stations x 12 horizons, 2 jobs: "
            f"{wall:.1f} s wall (features {seconds['features']:.1f} s, "
            f"fit {seconds['fit']:.1f} s, MLflow log+register "
            f"{seconds['mlflow']:.1f} s); parent CPU {time.process_time() - cpu:.1f} s"
        )
        model, persistence = table["val_mae"].mean(), table["persistence_mae"].mean()
        print(
            f"validation MAE {model:.2f} vs persistence {persistence:.2f} "
            f"(skill {1 - model / persistence:+.1%})"
        )

        started = time.perf_counter()
        bundle = load_bundle("champion", settings=settings)
        print(f"load_bundle('champion'): {time.perf_counter() - started:.2f} s")

        history = store.read(stations=[stations[0]], start="2026-08-05 00:00+08:00")
        latencies = []
        for _ in range(FORECASTS):
            started = time.perf_counter()
            bundle.forecast(history)
            latencies.append(time.perf_counter() - started)
        print(
            f"forecast one station (12 horizons, {len(history)} history rows): "
            f"median {statistics.median(latencies) * 1000:.0f} ms, first "
            f"{latencies[0] * 1000:.0f} ms (parses the boosters)"
        )


if __name__ == "__main__":
    main()
