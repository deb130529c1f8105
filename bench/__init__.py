"""Benchmarks run by hand or by `make bench`, never by pytest. Loopback only, bounded in time."""
