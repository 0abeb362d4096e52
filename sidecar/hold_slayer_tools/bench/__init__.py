"""Benchmarks that drive the real sidecar as processes."""
