"""Units as notes and FHIR write them: the one units module,
:mod:`trialscout.criteria.units`, spells them the way its pint registry reads them."""

from __future__ import annotations

from trialscout.criteria.units import normalize_unit

__all__ = ["normalize_unit"]
