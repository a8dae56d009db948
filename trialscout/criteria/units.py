"""Units: recognizing how criteria write them, and converting values between them.

Conversions run through pint, with the units criteria need that pint lacks (multiples of
the upper limit of normal, mL/min per 1.73 m², cell counts per litre) defined from
``rules/units.yaml``. Converting between mass and molar concentrations needs the analyte:
its molar mass comes from the same file (glucose, creatinine, 25-hydroxyvitamin D, ...), as
does the one non-linear line (HbA1c mmol/mol <-> %). Factors are cached, so the pint
registry is built once and only when a conversion is first needed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from trialscout.criteria import rules

_SPACE_RUN: Final = re.compile(r"\s+")


@dataclass(frozen=True)
class UnitInfo:
    symbol: str
    pint: str


@lru_cache(maxsize=1)
def _forms() -> dict[str, UnitInfo]:
    out: dict[str, UnitInfo] = {}
    for unit in rules.units().units:
        info = UnitInfo(unit.symbol, unit.pint)
        out.setdefault(_form_key(unit.symbol), info)
        for form in unit.forms:
            out.setdefault(_form_key(form), info)
    return out


def _form_key(form: str) -> str:
    return _SPACE_RUN.sub("", form.casefold().replace("²", "2").replace("µ", "u")
                  .replace("μ", "u").replace("×", "x").replace(" per ", "/"))


def unit_regex() -> str:
    """An alternation matching every written unit form, longest first.

    The forms are grouped by their first character behind a lookahead, so that at any
    position only the group that can match is tried; the groups' first characters never
    match each other (checked), so the result is the plain alternation's, only faster.
    """
    forms: set[str] = set()
    for unit in rules.units().units:
        forms.update(f.casefold() for f in unit.forms)
    groups: dict[str, list[str]] = {}
    parts = []
    # longest first; equal lengths alphabetically, so every process builds the same pattern
    for form in sorted(forms, key=lambda f: (-len(f), f)):
        escaped = re.escape(form)
        escaped = escaped.replace(r"\ ", r"\s?").replace("/", r"\s?/\s?")
        if form[-1:].isalnum():
            escaped += r"(?![a-z0-9])"
        parts.append(escaped)
        groups.setdefault(form[0], []).append(escaped)
    plain = "(?:" + "|".join(parts) + ")"
    if not _disjoint_first_chars(list(groups)):
        return plain
    gated = []
    for first, alternatives in groups.items():
        gate = r"[\s/]" if first == "/" else re.escape(first)
        gated.append(f"(?={gate})(?:" + "|".join(alternatives) + ")")
    return "(?:" + "|".join(gated) + ")"


def _disjoint_first_chars(firsts: list[str]) -> bool:
    """No text character can start forms of two groups (case-insensitively)."""
    for a in firsts:
        if a.isspace() or (a != "/" and re.match(r"[\s/]", a)):
            return False
        for b in firsts:
            if a != b and re.fullmatch(re.escape(a), b, re.IGNORECASE):
                return False
    return True


@lru_cache(maxsize=4096)
def lookup(written: str) -> UnitInfo | None:
    """The unit a written form names (``"mg/dl"`` -> ``mg/dL``), or None."""
    return _forms().get(_form_key(written))


@lru_cache(maxsize=1)
def registry() -> Any:
    import pint

    ureg: Any = pint.UnitRegistry(cache_folder=None)
    for definition in rules.units().pint_definitions:
        ureg.define(definition)
    return ureg


def _pint_of(symbol: str) -> str | None:
    info = lookup(symbol)
    return info.pint if info else None


@lru_cache(maxsize=4096)
def _factor(source: str, target: str, analyte: str | None) -> tuple[float, float] | None:
    """``(scale, offset)`` so that ``target_value = scale * value + offset``, or None."""
    if source == target:
        return 1.0, 0.0
    spec = rules.units().analytes.get(analyte or "")
    if spec is not None:
        for line in spec.affine:
            if line.from_unit == source and target == spec.unit:
                return line.scale, line.offset
            if line.from_unit == target and source == spec.unit:
                return 1.0 / line.scale, -line.offset / line.scale
        family = (spec.unit, *spec.equivalent)
        if (target in spec.equivalent or source in spec.equivalent) and \
                source in family and target in family:
            return 1.0, 0.0
    src, dst = _pint_of(source), _pint_of(target)
    if src is None or dst is None:
        return None
    ureg = registry()
    import pint

    try:
        quantity = ureg.Quantity(1.0, src)
        try:
            return float(quantity.to(dst).magnitude), 0.0
        except pint.DimensionalityError:
            if spec is None or spec.molar_mass is None:
                return None
            mass = ureg.Quantity(spec.molar_mass, "g/mol")
            for candidate in (quantity * mass, quantity / mass):
                try:
                    return float(candidate.to(dst).magnitude), 0.0
                except pint.DimensionalityError:
                    continue
            return None
    except (pint.errors.PintError, ValueError, TypeError, AttributeError):
        return None


def convert(value: float, source: str, target: str, analyte: str | None = None) -> float | None:
    """``value`` in unit ``source`` expressed in ``target`` (symbols from units.yaml)."""
    factor = _factor(source, target, analyte)
    if factor is None:
        return None
    scale, offset = factor
    return scale * value + offset


def canonical_unit(analyte: str | None) -> str | None:
    spec = rules.units().analytes.get(analyte or "")
    return spec.unit if spec else None


def assumed_unit(analyte: str | None) -> str | None:
    """The unit a bare number means for this analyte ("BMI 30" is kg/m²), if any."""
    spec = rules.units().analytes.get(analyte or "")
    return spec.assume if spec else None


def normalize(value: float, unit: str | None, analyte: str | None
              ) -> tuple[float | None, str | None]:
    """``value unit`` in the analyte's canonical unit when convertible, else as written."""
    target = canonical_unit(analyte)
    source = unit or assumed_unit(analyte)
    if source is None:
        return value, None
    if target is None or source == target:
        return value, source
    converted = convert(value, source, target, analyte)
    if converted is None:
        return value, source
    return converted, target
