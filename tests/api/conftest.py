"""The service under test: the real application over a real deployment (SQLite file,
real engine), driven through HTTP by Starlette's test client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from facegate.api import ApiSettings, create_app
from facegate.deployment import Deployment

from ..support.words import both


@dataclass
class Api:
    """A client, its deployment and one key per role (``role -> secret``)."""

    client: TestClient
    deployment: Deployment
    keys: dict[str, str]

    def headers(self, role: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[role]}


def keys_for(d: Deployment) -> dict[str, str]:
    """Keys of every staff role, a scoped operator, a second reviewer, and a subject token."""
    keys = {role: d.issue_api_key(role=role, label=f"test {role}").secret
            for role in ("admin", "operator", "reviewer", "auditor")}
    keys["operator_out_of_scope"] = d.issue_api_key(
        role="operator", label="attendance desk", purposes=["hr.attendance"]).secret
    keys["operator_wrong_site"] = d.issue_api_key(
        role="operator", label="other site", sites=["branch.lobby"]).secret
    keys["reviewer2"] = d.issue_api_key(role="reviewer", label="second reviewer").secret
    subject = d.register_subject(age_band="adult")
    keys["subject"] = d.issue_api_key(role="subject", label="own token",
                                      subject=subject.id).secret
    revoked = d.issue_api_key(role="admin", label="revoked")
    d.revoke_api_key(revoked.key.id)
    keys["revoked"] = revoked.secret
    return keys


@pytest.fixture
def api(books: Deployment) -> Iterator[Api]:
    """The service over the ``books`` deployment (two active purposes at hq.lobby)."""
    books.register_site(key="branch.lobby", name=both("Branch lobby"), site_type="office")
    keys = keys_for(books)
    app = create_app(ApiSettings(max_body_bytes=2 * 1024 * 1024, anonymous_rate_per_minute=100_000),
                     deployment=books)
    with TestClient(app) as client:
        yield Api(client=client, deployment=books, keys=keys)
