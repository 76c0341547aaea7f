"""GameOps: run a gaming venue."""

__version__ = "0.1.0"
