"""Convert a patient's lab value into the unit a criterion uses, with pint.

Units the criteria parser knows are converted by its own table (``trialscout.criteria.units``),
so both sides share one registry; spellings only patient records use fall back to the
extras here. Clinical units need a little help on top of pint: count prefixes ("10*9/L"), per-BSA
clearances ("mL/min/1.73m2", compared as mL/min), enzyme units, molar masses for
mg/dL <-> mmol/L, and the affine HbA1c % <-> mmol/mol. Those extras are data in
``rules/analytes.yaml``.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from trialscout.matching.rules import load_rules
from trialscout.patients.units import normalize_unit

_COUNT = re.compile(r"^(?:x\s*)?10\s*(?:\*|\^|\*\*)\s*(\d+)\s*/\s*(.+)$", re.IGNORECASE)
_BSA = re.compile(r"/\s*1\.73\s*m(?:2|²|\^2)$", re.IGNORECASE)


class UnitError(ValueError):
    pass


@cache
def _registry() -> Any:
    import pint

    registry: Any = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
    registry.define("international_unit = [enzyme_activity] = IU")
    registry.define("copies = [copies]")
    registry.define("cells = [] ")
    return registry


def _split(unit: str) -> tuple[float, str]:
    """A unit spelling as (factor, pint expression)."""
    text = normalize_unit(unit) or unit
    text = _BSA.sub("", text.strip())
    factor = 1.0
    match = _COUNT.match(text)
    if match:
        factor = 10.0 ** int(match.group(1))
        text = "1/" + match.group(2)
    replacements = {"mm[Hg]": "mmHg", "%": "percent", "U/L": "IU/L", "mIU/L": "milliIU/L",
                    "mIU/mL": "milliIU/mL", "/min": "1/min", "/uL": "1/uL", "/L": "1/L",
                    "1": "dimensionless", "degC": "degC", "degF": "degF",
                    "copies/mL": "copies/mL"}
    text = replacements.get(text, text)
    text = text.replace("µ", "u")
    if text.startswith("/"):
        text = "1" + text
    return factor, text


def _criteria_convert(value: float, source: str, target: str, analyte: str | None
                      ) -> float | None:
    """The criteria parser's conversion (its units.yaml and pint registry), when it knows
    both units; criteria bounds are normalized with it, so patient values should be too."""
    from trialscout.criteria import units as criteria_units

    symbols = []
    for written in (source, target):
        info = criteria_units.lookup(written) or criteria_units.lookup(
            normalize_unit(written) or written)
        if info is None:
            return None
        symbols.append(info.symbol)
    return criteria_units.convert(value, symbols[0], symbols[1], analyte)


def convert(value: float, source: str | None, target: str | None,
            analyte: str | None = None) -> float:
    """``value`` in ``source`` units, expressed in ``target`` units; UnitError if impossible."""
    source = None if source in {"1", "", "{score}"} else source
    target = None if target in {"1", "", "{score}"} else target
    if not source or not target:
        if not source and not target:
            return value
        raise UnitError(f"cannot compare {source or 'no unit'} with {target or 'no unit'}")
    if (normalize_unit(source) or source) == (normalize_unit(target) or target):
        return value
    shared = _criteria_convert(value, source, target, analyte)
    if shared is not None:
        return shared
    rules = load_rules("analytes")
    src_norm, tgt_norm = normalize_unit(source) or source, normalize_unit(target) or target
    for rule in (rules.get("affine") or {}).get(analyte or "", []):
        if rule["from"] == src_norm and rule["to"] == tgt_norm:
            return float((value + rule["offset"]) * rule["scale"])
        if rule["to"] == src_norm and rule["from"] == tgt_norm:
            return float(value / rule["scale"] - rule["offset"])
    registry = _registry()
    src_factor, src = _split(source)
    tgt_factor, tgt = _split(target)
    try:
        quantity = registry.Quantity(value * src_factor, src)
        try:
            converted = quantity.to(tgt)
        except Exception:
            mass = (rules.get("molar_mass") or {}).get(analyte or "")
            if mass is None:
                raise
            molar = registry.Quantity(float(mass), "g/mol")
            try:
                converted = (quantity / molar).to(tgt)
            except Exception:  # noqa: BLE001
                converted = (quantity * molar).to(tgt)
        return float(converted.magnitude) / tgt_factor
    except Exception as exc:
        raise UnitError(f"cannot convert {source} to {target}") from exc
