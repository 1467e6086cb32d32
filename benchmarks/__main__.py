"""Run every ``benchmarks/bench_*.py`` module's ``main()`` in name order.

Thread pools are limited to one thread before anything numeric is imported, so
figures are per core and comparable between machines.
"""

from __future__ import annotations

import os

for _variable in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
):
    os.environ.setdefault(_variable, "1")

import importlib  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402


def main(names: list[str] | None = None) -> None:
    """Run the named benchmark modules (default: all ``bench_*.py``)."""
    folder = Path(__file__).parent
    modules = sorted(path.stem for path in folder.glob("bench_*.py"))
    if names:
        modules = [name for name in modules if name in names or name[6:] in names]
    for name in modules:
        print(f"== {name}", flush=True)
        importlib.import_module(f"benchmarks.{name}").main()


if __name__ == "__main__":
    main(sys.argv[1:])
