"""Helpers shared by the test suite and the benchmarks: free ports and the real peers.

Kept inside the package (not under ``tests/``) so ``bench/`` and ``tests/`` import one copy.
Nothing here imports pytest: callers decide whether a missing peer binary skips or fails.
"""
