"""schemathesis against the service's own OpenAPI document: every phase (the schema's
examples, coverage of boundaries and negative values, fuzzing, and stateful sequences
through the links schemathesis infers), under an admin and an operator key, never gets
a 5xx and never a response that breaks the documented schema. Bounded (a set number of
examples per operation and phase) and seeded, so CI runs the same requests each time."""

from __future__ import annotations

import time
from typing import Any

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

from .conftest import Api

#: Generated examples per operation in the fuzzing and stateful phases.
EXAMPLES = 20
CHECKS = ("not_a_server_error", "response_schema_conformance", "status_code_conformance",
          "content_type_conformance")


def _config(api: Api, role: str) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict({
        "seed": 18,
        "headers": {"X-API-Key": api.keys[role]},
        "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True},
                   "fuzzing": {"enabled": True},
                   "stateful": {"enabled": True, "max-steps": EXAMPLES}},
    })


def _failures(event: Any) -> list[str]:
    if isinstance(event, events.ScenarioFinished) and event.status in (Status.FAILURE,
                                                                       Status.ERROR):
        found = []
        for checks in event.recorder.checks.values():
            for check in checks:
                if check.status is not Status.SUCCESS:
                    info = check.failure_info
                    what = str(info.failure)[:400] if info is not None else check.status.value
                    found.append(f"{event.phase.value} {event.label}: {check.name}: {what}")
        return found or [f"{event.phase.value} {event.label}: {event.status.value}"]
    if isinstance(event, events.NonFatalError | events.FatalError):
        return [f"error: {getattr(event, 'info', event)}"[:600]]
    return []


def test_no_server_error_and_no_schema_break_in_any_phase(api: Api) -> None:
    failures: list[str] = []
    phases: dict[str, int] = {}
    for role in ("admin", "operator"):
        schema = schemathesis.openapi.from_asgi("/openapi.json", api.client.app,
                                                config=_config(api, role))
        assert len(list(schema.get_all_operations())) >= 40
        started = time.monotonic()
        for event in from_schema(schema).execute():
            failures += [f"as {role}: {f}" for f in _failures(event)]
            if isinstance(event, events.ScenarioFinished):
                phases[event.phase.value] = phases.get(event.phase.value, 0) + len(
                    event.recorder.cases)
        assert time.monotonic() - started < 600
    assert failures == []
    # Every phase ran; the document has no explicit examples, so that phase sends nothing.
    assert set(phases) == {"examples", "coverage", "fuzzing", "stateful"}, phases
    assert min(phases["coverage"], phases["fuzzing"], phases["stateful"]) > 100, phases
