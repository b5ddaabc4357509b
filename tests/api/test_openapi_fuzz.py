"""schemathesis against the service's own OpenAPI document: generated requests to
every operation, under an admin and an operator key, never get a 5xx and never a
response that breaks the documented schema (issue 7). Bounded (a few examples per
operation) and derandomised, so CI runs the same examples each time."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .conftest import Api

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance,
          content_type_conformance]
EXAMPLES = 6


def test_no_server_error_and_no_schema_break(api: Api) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40
    failures: list[str] = []
    for operation in operations:
        for role in ("admin", "operator"):
            headers = api.headers(role)

            @given(case=operation.as_strategy())
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def exercise(case: Any) -> None:
                case.call_and_validate(headers={**(case.headers or {}), **headers},  # noqa: B023
                                       checks=CHECKS)

            try:
                exercise()
            except Exception as exc:
                failures.append(f"{operation.method.upper()} {operation.path} as {role}: "
                                f"{str(exc)[:600]}")
    assert failures == []
