"""Benchmarks: throughput, latency and overhead figures (``make bench``), never timed assertions."""
