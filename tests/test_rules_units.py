"""One units module with one pint registry: criteria bounds and patient values (as notes
and FHIR write their units) are converted by the same code."""

from __future__ import annotations

import pytest

from trialscout.criteria import units
from trialscout.matching import units as matching_units
from trialscout.patients import units as patient_units


def test_matching_and_patients_use_the_criteria_units_module() -> None:
    assert matching_units.convert is units.convert_written
    assert matching_units.UnitError is units.UnitError
    assert patient_units.normalize_unit is units.normalize_unit


@pytest.mark.parametrize(("value", "source", "target", "analyte", "expected"), [
    (88, "umol/L", "mg/dL", "creatinine", 0.995),      # molar mass from units.yaml
    (5.5, "mmol/L", "mg/dL", "glucose", 99.1),
    (250, "x10^3/uL", "10^9/L", "platelets", 250),     # a record's count spelling
    (42, "IU/L", "U/L", "alt", 42),
    (37, "degC", "degF", None, 98.6),
    (3.5, "g/dL", "g/L", "albumin", 35),
    (140, "mEq/L", "mmol/L", "sodium", 140),
])
def test_record_spellings_convert(value: float, source: str, target: str,
                                  analyte: str | None, expected: float) -> None:
    assert units.convert_written(value, source, target, analyte) == pytest.approx(
        expected, rel=2e-3)


@pytest.mark.parametrize(("source", "target"), [("kg", "mg/dL"), ("mg/dL", None), (None, "%")])
def test_what_cannot_be_compared_is_an_error(source: str | None, target: str | None) -> None:
    with pytest.raises(units.UnitError):
        units.convert_written(1.0, source, target, None)


def test_no_unit_on_either_side_is_the_value() -> None:
    assert units.convert_written(2.0, None, "1") == 2.0


def test_a_criterion_naming_several_analytes_converts_with_the_one_that_needs_it() -> None:
    assert units.converts_by_analyte("glucose") and units.converts_by_analyte("hba1c")
    assert not units.converts_by_analyte("alt")
