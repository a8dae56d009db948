"""Units: recognizing how criteria write them, and converting values between them.

Conversions run through pint, with the units criteria need that pint lacks (multiples of
the upper limit of normal, mL/min per 1.73 m², cell counts per litre) defined from
``rules/units.yaml``. Converting between mass and molar concentrations needs the analyte:
its molar mass comes from the same file (glucose, creatinine, 25-hydroxyvitamin D, ...), as
does the one non-linear line (HbA1c mmol/mol <-> %). Factors are cached, so the pint
registry is built once and only when a conversion is first needed.

This is the one units module: a patient's lab value (as a note or a FHIR bundle writes its
unit, :func:`normalize_unit`) meets a criterion's bound in the same registry
(:func:`convert_written`); ``matching.units`` and ``patients.units`` only re-export it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from trialscout.criteria import rules

_SPACE_RUN: Final = re.compile(r"\s+")
# Days in a unit of time (a month and a year on average), for windows and durations.
DAYS_PER_UNIT: Final[dict[str, float]] = {
    "minute": 1 / 1440, "hour": 1 / 24, "day": 1.0, "week": 7.0, "month": 365.25 / 12,
    "year": 365.25}


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


class UnitError(ValueError):
    """Two units that cannot be compared (different dimensions, or unknown)."""


_UNIT_ALIASES: Final[dict[str, str]] = {
    "%": "%", "percent": "%",
    "mg/dl": "mg/dL", "mg/l": "mg/L", "g/dl": "g/dL", "g/l": "g/L",
    "mmol/l": "mmol/L", "mmol/mol": "mmol/mol", "µmol/l": "umol/L", "umol/l": "umol/L",
    "micromol/l": "umol/L", "meq/l": "mmol/L", "mmol": "mmol/L",
    "ng/ml": "ng/mL", "ng/dl": "ng/dL", "pg/ml": "pg/mL",
    "iu/l": "U/L", "u/l": "U/L", "miu/l": "mIU/L", "µiu/ml": "mIU/L", "uiu/ml": "mIU/L",
    "miu/ml": "mIU/mL",
    "ml/min/1.73m2": "mL/min/1.73m2", "ml/min/1.73 m2": "mL/min/1.73m2",
    "ml/min/1.73m²": "mL/min/1.73m2", "ml/min/1.73 m²": "mL/min/1.73m2",
    "ml/min/{1.73_m2}": "mL/min/1.73m2", "ml/min": "mL/min",
    "kg/m2": "kg/m2", "kg/m²": "kg/m2", "kg/m^2": "kg/m2",
    "kg": "kg", "lb": "lb", "lbs": "lb", "pounds": "lb", "cm": "cm", "m": "m", "in": "in",
    "mm hg": "mm[Hg]", "mmhg": "mm[Hg]", "mm[hg]": "mm[Hg]",
    "bpm": "/min", "/min": "/min", "beats per minute": "/min", "breaths per minute": "/min",
    "°c": "degC", "c": "degC", "cel": "degC", "°f": "degF", "f": "degF", "[degf]": "degF",
    "/mm3": "/uL", "/mm³": "/uL", "/µl": "/uL", "/ul": "/uL", "cells/mm3": "/uL",
    "cells/µl": "/uL", "cells/ul": "/uL", "/l": "/L",
    "x10^9/l": "10*9/L", "x 10^9/l": "10*9/L", "10^9/l": "10*9/L", "x109/l": "10*9/L",
    "10*9/l": "10*9/L",
    "x10^3/µl": "10*3/uL", "x10^3/ul": "10*3/uL", "x 10^3/ul": "10*3/uL",
    "x 10^3/µl": "10*3/uL", "k/ul": "10*3/uL", "k/µl": "10*3/uL", "10*3/ul": "10*3/uL",
    "10^3/ul": "10*3/uL", "10*3/µl": "10*3/uL",
    "copies/ml": "copies/mL", "{copies}/ml": "copies/mL", "sd": "sd", "1": "1",
    "{score}": "1", "g/cm2": "g/cm2", "mg/g": "mg/g", "mg/mmol": "mg/mmol",
}
# How UCUM-like record spellings are written for pint.
_PINT_SPELLING: Final[dict[str, str]] = {
    "mm[Hg]": "mmHg", "%": "percent", "U/L": "IU/L", "mIU/L": "milliIU/L",
    "mIU/mL": "milliIU/mL", "/min": "1/min", "/uL": "1/uL", "/L": "1/L", "1": "dimensionless",
    "degC": "degC", "degF": "degF", "copies/mL": "copies/mL"}
_COUNT: Final = re.compile(r"^(?:x\s*)?10\s*(?:\*|\^|\*\*)\s*(\d+)\s*/\s*(.+)$", re.IGNORECASE)
_BSA: Final = re.compile(r"/\s*1\.73\s*m(?:2|²|\^2)$", re.IGNORECASE)
_NO_UNIT: Final = frozenset({"1", "", "{score}"})


def normalize_unit(text: str | None) -> str | None:
    """A canonical spelling for a unit as a note or a record writes it; unknown units are
    kept as written."""
    if text is None:
        return None
    key = _SPACE_RUN.sub(" ", text.strip().lower())
    if not key:
        return None
    return _UNIT_ALIASES.get(key, _UNIT_ALIASES.get(key.replace(" ", ""), text.strip()))


def _pint_spelling(unit: str) -> tuple[float, str]:
    """A record's unit spelling as (factor, pint expression)."""
    text = normalize_unit(unit) or unit
    text = _BSA.sub("", text.strip())
    factor = 1.0
    match = _COUNT.match(text)
    if match:
        factor = 10.0 ** int(match.group(1))
        text = "1/" + match.group(2)
    text = _PINT_SPELLING.get(text, text).replace("µ", "u")
    if text.startswith("/"):
        text = "1" + text
    return factor, text


def _known_convert(value: float, source: str, target: str, analyte: str | None
                   ) -> float | None:
    """Through the units table, when it knows both spellings."""
    symbols: list[str] = []
    for written in (source, target):
        info = lookup(written) or lookup(normalize_unit(written) or written)
        if info is None:
            return None
        symbols.append(info.symbol)
    return convert(value, symbols[0], symbols[1], analyte)


def converts_by_analyte(analyte: str) -> bool:
    """Whether converting this analyte's values needs the analyte (a molar mass or an
    affine line), so that a criterion naming several analytes picks it."""
    spec = rules.units().analytes.get(analyte)
    return spec is not None and (spec.molar_mass is not None or bool(spec.affine))


def convert_written(value: float, source: str | None, target: str | None,
                    analyte: str | None = None) -> float:
    """``value`` in ``source`` units (as a record writes them) expressed in ``target``
    units; :class:`UnitError` when they cannot be compared."""
    source = None if source in _NO_UNIT else source
    target = None if target in _NO_UNIT else target
    if not source or not target:
        if not source and not target:
            return value
        raise UnitError(f"cannot compare {source or 'no unit'} with {target or 'no unit'}")
    if (normalize_unit(source) or source) == (normalize_unit(target) or target):
        return value
    known = _known_convert(value, source, target, analyte)
    if known is not None:
        return known
    ureg = registry()
    src_factor, src = _pint_spelling(source)
    tgt_factor, tgt = _pint_spelling(target)
    spec = rules.units().analytes.get(analyte or "")
    try:
        quantity = ureg.Quantity(value * src_factor, src)
        try:
            converted = quantity.to(tgt)
        except Exception:
            if spec is None or spec.molar_mass is None:
                raise
            molar = ureg.Quantity(spec.molar_mass, "g/mol")
            try:
                converted = (quantity / molar).to(tgt)
            except Exception:  # noqa: BLE001
                converted = (quantity * molar).to(tgt)
        return float(converted.magnitude) / tgt_factor
    except Exception as exc:
        raise UnitError(f"cannot convert {source} to {target}") from exc
