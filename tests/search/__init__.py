"""Tests of trial search."""
