"""Units as written in notes and FHIR, rewritten into spellings pint understands.

Conversion itself (pint) happens in matching, through the units module the criteria
parser also uses, so a lab in a profile and a bound in a criterion meet in one registry.
"""

from __future__ import annotations

import re

_ALIASES = {
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
_SPACE = re.compile(r"\s+")


def normalize_unit(text: str | None) -> str | None:
    """A canonical spelling for a written unit; unknown units are kept as written."""
    if text is None:
        return None
    key = _SPACE.sub(" ", text.strip().lower())
    if not key:
        return None
    return _ALIASES.get(key, _ALIASES.get(key.replace(" ", ""), text.strip()))
