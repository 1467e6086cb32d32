"""Speed and memory benchmarks; ``python -m benchmarks`` runs every ``bench_*``."""
