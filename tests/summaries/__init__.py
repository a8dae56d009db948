"""Tests of trialscout.summaries."""
