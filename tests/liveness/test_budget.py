"""A liveness answer is bounded by a total pixel and time budget.

Found: a 12-frame answer (each frame a small JPEG declaring 6000x6000) cost 82 s of
the one service lock, and 120 frames were allowed. Now the frames' declared pixels
are summed before any is decoded, observing stops at its time budget, and the API
refuses more frames than the check takes before it spends the challenge.
"""

from __future__ import annotations

import base64
import itertools
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from facegate.analysis import FaceAnalyzer
from facegate.api import ApiSettings, create_app
from facegate.deployment import Deployment
from facegate.errors import LivenessOverBudget
from facegate.liveness.checker import LivenessSettings, observe
from facegate.liveness.frames import MAX_FRAMES, Frame

from ..test_image_cost import trick_jpeg

P = "access.office.entry"


def test_an_answer_declaring_too_many_pixels_is_refused_before_any_frame_is_decoded(
        books: Deployment) -> None:
    challenge = books.liveness_challenge(purpose=P)
    frames = [Frame(at=i / 10, image=trick_jpeg()) for i in range(12)]
    assert sum(f.declared_pixels() for f in frames) == 12 * 6000 * 6000
    with pytest.raises(LivenessOverBudget) as info:
        books.check_liveness(challenge=challenge.id, frames=frames)
    assert info.value.code == "liveness.over_budget"
    assert info.value.details["limit"] == "pixels"
    (refusal,) = books.audit_events("liveness-refusal")
    assert refusal.outcome == "liveness.over_budget"


def test_observing_an_answer_stops_at_its_time_budget(analyzer: FaceAnalyzer,
                                                      faces: dict[str, Path]) -> None:
    clock = itertools.count(0.0, 25.0)  # each frame "takes" 25 s
    frames = [Frame(at=i / 10, image=faces["obama"]) for i in range(6)]
    settings = LivenessSettings(max_seconds=60.0)
    with pytest.raises(LivenessOverBudget) as info:
        observe(frames, analyzer, settings=settings, timer=lambda: next(clock))
    assert info.value.details == {"limit": "time", "frame": 2, "max_seconds": 60.0}


def test_the_api_refuses_more_frames_than_a_check_takes_without_spending_the_challenge(
        books: Deployment) -> None:
    operator = books.issue_api_key(role="operator", label="desk").secret
    app = create_app(ApiSettings(anonymous_rate_per_minute=100_000), deployment=books)
    tiny = base64.b64encode(b"not an image").decode()
    with TestClient(app) as client:
        challenge = client.post("/v1/liveness/challenges", json={"purpose": P},
                                headers={"X-API-Key": operator}).json()["challenge"]
        answer = {"frames": [{"at": i / 10, "image": tiny} for i in range(120)]}
        r = client.post(f"/v1/liveness/challenges/{challenge}/answer", json=answer,
                        headers={"X-API-Key": operator})
        assert r.status_code == 422 and r.json()["error"]["details"]["max"] == MAX_FRAMES
    assert not books.audit_events("liveness-refusal")  # the challenge is still unanswered
