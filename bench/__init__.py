"""Benchmarks: scripts that print their numbers. Not tests, and not part of the package."""
