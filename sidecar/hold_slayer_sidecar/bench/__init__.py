"""Benchmarks (run with scripts/bench)."""
