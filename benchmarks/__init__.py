"""Benchmark commands (`make bench-*`): slow, measured runs kept out of the test suite."""
