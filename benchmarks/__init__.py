"""Benchmarks: each ``bench_*.py`` module exposes ``run(quick: bool) -> list[Row]``."""
