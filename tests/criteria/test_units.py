"""Unit recognition and conversion, including analyte-specific factors."""

from __future__ import annotations

import pytest

from trialscout.criteria import units


@pytest.mark.parametrize("written,symbol", [
    ("mg/dl", "mg/dL"), ("MG / DL", "mg/dL"), ("mL/min/1.73 m2", "mL/min/1.73m²"),
    ("ml/min/1.73m²", "mL/min/1.73m²"), ("x ULN", "×ULN"), ("times the upper limit of normal",
                                                             "×ULN"),
    ("%", "%"), ("nmol/l", "nmol/L"), ("µmol/L", "umol/L"), ("x 10^9/L", "10^9/L"),
    ("kg/m2", "kg/m²"), ("cells/mm3", "/mm³"),
])
def test_lookup(written: str, symbol: str) -> None:
    info = units.lookup(written)
    assert info is not None and info.symbol == symbol


def test_unknown_unit() -> None:
    assert units.lookup("furlongs/fortnight") is None


@pytest.mark.parametrize("value,source,target,analyte,expected", [
    (50, "nmol/L", "ng/mL", "vitamin_d_25oh", 20.03),
    (20, "ng/mL", "nmol/L", "vitamin_d_25oh", 49.92),
    (7, "mmol/L", "mg/dL", "glucose", 126.1),
    (126, "mg/dL", "mmol/L", "glucose", 6.99),
    (88.4, "umol/L", "mg/dL", "creatinine", 1.0),
    (1.5, "mg/dL", "umol/L", "creatinine", 132.6),
    (53, "mmol/mol", "%", "hba1c", 7.0),
    (7, "%", "mmol/mol", "hba1c", 53.0),
    (90, "g/L", "g/dL", "hemoglobin", 9.0),
    (100000, "/mm³", "10^9/L", "platelets", 100.0),
    (60, "mL/min", "mL/min/1.73m²", "egfr", 60.0),
    (2.5, "mmol/L", "mg/dL", "calcium", 10.02),
])
def test_convert(value: float, source: str, target: str, analyte: str, expected: float) -> None:
    assert units.convert(value, source, target, analyte) == pytest.approx(expected, rel=2e-3)


def test_mass_to_molar_needs_an_analyte() -> None:
    assert units.convert(7, "mmol/L", "mg/dL") is None
    assert units.convert(3, "×ULN", "U/L", "alt") is None


def test_normalize_keeps_what_cannot_convert() -> None:
    assert units.normalize(3, "×ULN", "alt") == (3, "×ULN")
    assert units.normalize(30, None, "bmi") == (30, "kg/m²")
    assert units.normalize(-2.5, None, "bmd_t_score") == (-2.5, None)
