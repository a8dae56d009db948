"""Unit conversion for matching: the one units module, :mod:`trialscout.criteria.units`
(one pint registry for criteria bounds and patient values)."""

from __future__ import annotations

from trialscout.criteria.units import UnitError, converts_by_analyte
from trialscout.criteria.units import convert_written as convert

__all__ = ["UnitError", "convert", "converts_by_analyte"]
