"""Tests of trialscout.guides."""
