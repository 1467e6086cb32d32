"""Serving: start time of the real BentoML server and request latency on loopback.

Builds a throw-away home in a temporary folder (the bundled 750-hour AQX_P_432
payload, a champion for a few stations in a SQLite MLflow store), starts
``bentoml serve`` on a free port, and times ``/readyz`` becoming ready and the
median of ``REQUESTS`` sequential requests to each endpoint. Nothing is written
into the repository.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx

STATIONS = ["1", "12", "49", "85"]
REQUESTS = 50


def _prepare(root: Path) -> Path:
    """Ingest the bundled payload and train a champion under ``root``."""
    from forecasting.config import SAMPLE_DATA, get_settings
    from forecasting.ingest import ingest_paths
    from forecasting.store import HourlyStore
    from training.train import train

    home = root / "home"
    os.environ["AQI_HOME"] = str(home)
    os.environ["AQI_TRACKING_URI"] = f"sqlite:///{root / 'mlflow.db'}"
    os.environ["AQI_ARTIFACT_ROOT"] = str(root / "artifacts")
    os.environ["BENTOML_HOME"] = str(root / "bentoml")
    os.environ["BENTOML_DO_NOT_TRACK"] = "True"
    settings = get_settings()
    store = HourlyStore(settings.store_dir)
    ingest_paths(sorted(SAMPLE_DATA.glob("*.json.gz")), store, progress=False)
    train(store, stations=STATIONS, n_jobs=2, settings=settings)
    return home


def _median_ms(client: httpx.Client, method: str, path: str) -> str:
    """Time ``REQUESTS`` requests, cycling over the stations; return the figure."""
    seconds = []
    for i in range(REQUESTS):
        station = {"station_id": STATIONS[i % len(STATIONS)]}
        station = station if method == "POST" else None
        started = time.perf_counter()
        response = client.request(method, path, json=station)
        seconds.append(time.perf_counter() - started)
        response.raise_for_status()
    seconds.sort()
    p90 = seconds[int(0.9 * len(seconds)) - 1]
    return f"{statistics.median(seconds) * 1000:7.1f} ms median ({p90 * 1000:.1f} p90)"


def main() -> None:
    """Print the server start time and the latency of each endpoint."""
    from serving import process

    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="bench_serving_") as tmp:
        try:
            home = _prepare(Path(tmp))
            port = process.free_port()
            base_url = f"http://127.0.0.1:{port}"
            env = process.service_env(home, "champion")
            log_path = Path(tmp) / "server.log"
            server = process.start_server(env, "127.0.0.1", port, log_path)
            try:
                ready = process.wait_ready(server, base_url, timeout=180)
                print(f"server start to /readyz   {ready:7.2f} s")
                with httpx.Client(base_url=base_url, timeout=60) as client:
                    client.post("/forecast", json={"station_id": STATIONS[0]})
                    for method, path in (
                        ("POST", "/forecast"),
                        ("POST", "/current_aqi"),
                        ("GET", "/stations"),
                    ):
                        figure = _median_ms(client, method, path)
                        print(f"{method:4} {path:<16} {figure}  n={REQUESTS}")
            finally:
                process.stop_server(server)
        finally:
            os.environ.clear()
            os.environ.update(saved)


if __name__ == "__main__":
    main()
