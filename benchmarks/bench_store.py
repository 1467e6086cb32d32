"""Store benchmark: ingest every bundled file, then read one station's history.

Figures: seconds and rows per second of the full ingest of the bundled real
data (readers included), the process's peak resident memory before and after
it (tracemalloc is not used: it slows pandas several-fold), a second
(idempotent) ingest, and the time to read 仁武's whole history (2002-2013 plus
the 2026 real-time hours).
"""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Print the store's figures on the bundled data."""
    from forecasting.ingest import ingest_sample_data
    from forecasting.store import HourlyStore

    with tempfile.TemporaryDirectory(prefix="bench_store_") as folder:
        store = HourlyStore(Path(folder) / "store")

        rss_before = _peak_rss_mib()
        started = time.perf_counter()
        summaries = ingest_sample_data(store)
        seconds = time.perf_counter() - started
        rows = sum(summary.total.added for summary in summaries)
        print(
            f"ingest bundled data : {seconds:6.2f} s for {rows:,} rows "
            f"({rows / seconds:,.0f} rows/s), {len(summaries)} files"
        )
        print(
            f"peak RSS            : {rss_before:6.1f} MiB before, "
            f"{_peak_rss_mib():6.1f} MiB after the ingest"
        )

        started = time.perf_counter()
        again = ingest_sample_data(store)
        seconds = time.perf_counter() - started
        unchanged = sum(summary.total.unchanged for summary in again)
        print(f"second ingest       : {seconds:6.2f} s, {unchanged:,} rows unchanged")

        timings = []
        for _ in range(5):
            started = time.perf_counter()
            frame = store.read(["49"])
            timings.append(time.perf_counter() - started)
        print(
            f"read 仁武 history    : {min(timings) * 1000:6.1f} ms best of 5 "
            f"({len(frame):,} rows x {frame.shape[1]} columns)"
        )

        started = time.perf_counter()
        everything = store.read()
        seconds = time.perf_counter() - started
        print(
            f"read whole store    : {seconds * 1000:6.1f} ms ({len(everything):,} rows)"
        )

        size = sum(p.stat().st_size for p in store.root.rglob("*") if p.is_file())
        print(f"store on disk       : {size / 2**20:6.1f} MiB")


if __name__ == "__main__":
    main()
