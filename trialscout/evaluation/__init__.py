"""Evaluations of TrialScout on benchmark data (TREC, SIGIR, annotated criteria)."""
