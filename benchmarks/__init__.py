"""Benchmarks: scripts that print figures beside a baseline; not collected by pytest."""
