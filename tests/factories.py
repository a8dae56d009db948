"""Small API v2 study dicts for tests, written here rather than taken from the registry."""

from __future__ import annotations

import copy
from typing import Any


def study(nct_id: str = "NCT09990001", *, title: str = "A test study of bone health",
          last_update: str | None = "2024-05-01", **modules: dict[str, Any]) -> dict[str, Any]:
    """A valid minimal study; keyword arguments replace or add protocolSection modules."""
    proto: dict[str, Any] = {
        "identificationModule": {"nctId": nct_id, "briefTitle": title},
        "statusModule": {"overallStatus": "RECRUITING",
                         "startDateStruct": {"date": "2023-02"}},
        "conditionsModule": {"conditions": ["Osteoporosis"]},
        "designModule": {"studyType": "INTERVENTIONAL", "phases": ["PHASE3"]},
        "eligibilityModule": {"eligibilityCriteria": "Inclusion Criteria:\n\n* Age 50 or older",
                              "sex": "FEMALE", "minimumAge": "50 Years"},
    }
    if last_update:
        proto["statusModule"]["lastUpdatePostDateStruct"] = {"date": last_update}
    for name, value in modules.items():
        proto[name] = copy.deepcopy(value)
    return {"protocolSection": proto}


def with_module(base: dict[str, Any], module: str, **fields: Any) -> dict[str, Any]:
    out = copy.deepcopy(base)
    out["protocolSection"].setdefault(module, {}).update(fields)
    return out
