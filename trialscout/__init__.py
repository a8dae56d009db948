"""TrialScout: find clinical trials and match patients to them, offline."""

__version__ = "0.1.0"
