"""Benchmarks run by ``make bench``. Each module listed in ``benchmarks.__main__`` has a
``run(scale: Scale) -> list[Figure]``; the runner prints the figures and merges them into
``instance/bench.json``."""
