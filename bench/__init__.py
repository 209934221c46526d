"""Benchmarks: our design against the naive reference, measured in the same run (see RESULTS.md)."""
