"""Benchmarks: `make bench` runs every `bench_*.py` here and prints its table (figures go in the README)."""
