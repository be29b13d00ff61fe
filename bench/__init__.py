"""Benchmarks: ``make bench`` (or ``python -m bench`` inside .venv-bench). Reports ratios measured in one run."""
