"""Performance benchmarks of the running platform (run as modules, e.g. platform_bench)."""
