"""Benchmarks and the reference-OpenEnv harness shared with the compatibility tests."""
