"""Fuzz every API operation from its OpenAPI description: no input may cause a 5xx.

Valid inputs (positive) must also get responses that match the documented status codes,
content types and schemas; invalid ones (negative) must be refused without a crash.
Requests carry a valid session cookie and CSRF token, so state-changing operations are
exercised for real instead of stopping at the CSRF check.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from trialscout.sessions.tokens import csrf_token, issue_session_id

SESSION = issue_session_id(b"test-secret")
HEADERS = {"X-CSRF-Token": csrf_token(b"test-secret", SESSION)}
CONFORMANCE = [not_a_server_error, status_code_conformance, content_type_conformance,
               response_schema_conformance]


def _operations(web: FastAPI) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", web)
    return [result.ok() for result in schema.get_all_operations()]


def _fuzz(operation: Any, mode: GenerationMode, checks: list[Any], examples: int) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        case.call_and_validate(headers=HEADERS, cookies={"ts_session": SESSION},
                               checks=checks)

    run()


def test_the_schema_documents_every_api_route(web: FastAPI) -> None:
    labels = {op.label for op in _operations(web)}
    assert "GET /api/v1/search" in labels
    assert "PUT /api/v1/trials/{nct_id}/answers" in labels
    assert len(labels) >= 15


@pytest.mark.parametrize("examples", [
    10, pytest.param(150, marks=pytest.mark.slow)], ids=["quick", "thorough"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=["valid-input", "invalid-input"])
def test_no_request_causes_a_server_error(web: FastAPI, mode: GenerationMode,
                                          examples: int) -> None:
    checks = CONFORMANCE if mode is GenerationMode.POSITIVE else [not_a_server_error]
    failures = []
    for operation in _operations(web):
        try:
            _fuzz(operation, mode, checks, examples)
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE, operation.label  # nothing to get wrong
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
