"""Tests of trialscout.similar."""
