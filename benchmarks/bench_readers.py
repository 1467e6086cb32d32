"""Reader speed on the bundled real data (seconds per file, rows per second)."""

from __future__ import annotations

import time

from forecasting.config import SAMPLE_DATA
from forecasting.readers import read_path


def main() -> None:
    """Read every bundled file once and print time and throughput."""
    paths = [SAMPLE_DATA / "aqx_p_432_2026070322_2026080823.json.gz"]
    paths += sorted((SAMPLE_DATA / "yearly").glob("*.hourly.parquet"))
    for path in paths:
        started = time.perf_counter()
        result = read_path(path)
        seconds = time.perf_counter() - started
        rows = len(result.hourly)
        print(
            f"readers {path.name}: {rows} station-hours, {len(result.flags)} flags "
            f"in {seconds:.2f} s ({rows / seconds:,.0f} rows/s)"
        )


if __name__ == "__main__":
    main()
