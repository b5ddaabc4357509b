"""Liveness through the deployment: issue a challenge, check an answer, use the receipt.

``liveness_challenge`` stores a challenge bound to a purpose and its site;
``check_liveness`` marks it used (a second answer is refused as a replay),
decodes the answer when it is a video file, observes the frames outside the
transaction, judges them, audits the outcome
with every score and reason, and leaves a short-lived receipt when it passed.
A purpose with ``liveness_required`` enrolls and verifies only with such a
receipt (rule H1), which ``enroll``/``verify`` consume once through
:meth:`LivenessChecks._with_liveness`.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import (
    InvalidArgument,
    LivenessError,
    LivenessFailed,
    LivenessOverBudget,
    VideoError,
)
from ..liveness.challenges import (
    Challenge,
    Receipt,
    consume_receipt,
    insert_challenge,
    insert_receipt,
    new_challenge,
    new_receipt,
    use_challenge,
)
from ..liveness.checker import LivenessResult, LivenessSettings, judge, observe
from ..liveness.frames import Frame
from ..liveness.passive import PassiveScorer, passive_scorer
from ..liveness.video import VideoLimits, VideoSource, read_video
from ..policy.decision import Operation
from ..policy.facts import ProcessingRequest
from ..storage.connection import Connection
from .base import DeploymentBase

__all__ = ["LivenessCheck", "LivenessChecks"]


@dataclass(frozen=True, slots=True)
class LivenessCheck:
    """A passed check: its result and the receipt one enroll or verify may use."""

    result: LivenessResult
    receipt: Receipt

    def as_dict(self) -> dict[str, object]:
        return {**self.result.as_dict(), "receipt": self.receipt.id,
                "receipt_expires_at": self.receipt.expires_at.isoformat()}


class LivenessChecks(DeploymentBase):
    """The liveness methods of :class:`~facegate.deployment.Deployment`."""

    _passive_loaded: bool = False
    _passive: PassiveScorer | None = None

    def liveness_challenge(self, *, purpose: str, operator: str = "system",
                           rng: random.Random | None = None) -> Challenge:
        """Issue a challenge for ``purpose``: 2-3 actions in a random order, a nonce,
        a short expiry. Audited as ``liveness-challenge``.

        Raises:
            PurposeNotRegistered: no such purpose.
        """
        with self._unit() as conn:
            p = self._purpose(conn, purpose)
            challenge = new_challenge(purpose_key=p.key, site_key=p.site_key,
                                      now=self._clock.now(), rng=rng)
            insert_challenge(conn, challenge=challenge)
            self._audit(conn, "liveness-challenge", operator=operator, purpose_key=p.key,
                        detail={"challenge": challenge.id,
                                "actions": [a.value for a in challenge.actions],
                                "expires_at": challenge.expires_at.isoformat()})
        return challenge

    def check_liveness(self, *, challenge: str, frames: Sequence[Frame] = (),
                       video: VideoSource | None = None, fps: float | None = 10.0,
                       nonce: str | None = None, operator: str = "system",
                       passive: bool = True, settings: LivenessSettings | None = None,
                       video_limits: VideoLimits | None = None) -> LivenessCheck:
        """Check an answer to ``challenge``; the challenge is used up whatever the outcome.

        Args:
            challenge: the challenge id.
            frames: the answer, timestamped frames in order; or
            video: the answer as a video file (path or bytes), decoded at its own
                timestamps, at most ``fps`` frames a second, within ``video_limits``.
            nonce: the challenge's nonce as the client echoes it (checked when given).
            passive: also score frames with the pack's liveness network when installed.

        Returns:
            The result and a receipt for one enroll or verify of the challenge's purpose.

        Raises:
            ChallengeUnknown, ChallengeUsed, ChallengeExpired: the challenge cannot be
                answered (unknown or wrong nonce, answered before, too late).
            LivenessFailed: the answer did not pass; ``details`` hold scores and reasons.
            InvalidArgument: too few or too many frames, or not exactly one of
                ``frames`` and ``video``.
            VideoError: the video cannot be decoded or is over a limit (the challenge
                is used up all the same; audited as ``liveness-refusal``).
        """
        if (video is None) == (not frames):
            raise InvalidArgument("give the answer as frames or as a video, not both or neither")
        refused: LivenessError | VideoError | None = None
        with self._unit() as conn:
            try:
                asked = use_challenge(conn, id=challenge, nonce=nonce, now=self._clock.now())
            except LivenessError as exc:
                self._audit(conn, "liveness-refusal", operator=operator, outcome=exc.code,
                            detail={"challenge": challenge, "message": exc.message})
                refused = exc
            else:
                pack, threshold = self._liveness_pack(conn, asked)
        if refused is not None:
            raise refused
        if video is not None:
            try:
                with self._slow_work("video"):
                    frames = read_video(video, fps=fps, limits=video_limits)
            except VideoError as exc:
                with self._unit() as conn:
                    self._audit(conn, "liveness-refusal", operator=operator,
                                purpose_key=asked.purpose_key, outcome=exc.code,
                                detail={"challenge": asked.id, "message": exc.message})
                raise
        cfg = settings or LivenessSettings()
        try:
            with self._inference(pack):
                obs = observe(frames, self.analyzer_for(pack), threshold=threshold,
                              settings=cfg,
                              passive=self._passive_scorer() if passive else None)
        except LivenessOverBudget as exc:
            with self._unit() as conn:
                self._audit(conn, "liveness-refusal", operator=operator,
                            purpose_key=asked.purpose_key, outcome=exc.code,
                            detail={"challenge": asked.id, "message": exc.message})
            raise
        result = judge(asked.actions, obs, cfg)
        with self._unit() as conn:
            receipt = new_receipt(asked, now=self._clock.now()) if result.passed else None
            if receipt is not None:
                insert_receipt(conn, receipt=receipt)
            self._audit(conn, "liveness-check", operator=operator, purpose_key=asked.purpose_key,
                        outcome="passed" if result.passed else "failed",
                        detail={"challenge": asked.id, **result.as_dict()})
        if receipt is None:
            raise LivenessFailed("liveness check failed: " + "; ".join(result.reasons),
                                 details={"challenge": asked.id, **result.as_dict()})
        return LivenessCheck(result=result, receipt=receipt)

    def _liveness_pack(self, conn: Connection,
                       challenge: Challenge) -> tuple[str, float | None]:
        p = self._purpose(conn, challenge.purpose_key)
        return p.pack, p.threshold

    def _passive_scorer(self) -> PassiveScorer | None:
        if not self._passive_loaded:
            self._passive = passive_scorer()
            self._passive_loaded = True
        return self._passive

    def _with_liveness(self, conn: Connection, req: ProcessingRequest,
                       receipt: str | None, operator: str, *,
                       consume: bool = True) -> ProcessingRequest:
        """``req`` with the state of the offered receipt, consumed when the purpose
        requires liveness for this operation (H1); unchanged otherwise. With
        ``consume=False`` the receipt is only looked at (the gate's first look, on a
        read snapshot, before the engine runs)."""
        purpose = req.purpose
        if (purpose is None or not purpose.liveness_required
                or req.operation not in (Operation.ENROLL, Operation.VERIFY)):
            return req
        state = "missing"
        if receipt is not None:
            why = consume_receipt(conn, id=receipt, purpose_key=purpose.key,
                                  now=self._clock.now(), used_for=req.operation.value,
                                  consume=consume)
            state = why or "passed"
            if why is None and consume:
                self._audit(conn, "liveness-receipt-used", operator=operator,
                            purpose_key=purpose.key,
                            subject_id=req.subject.id if req.subject else None,
                            detail={"operation": req.operation.value})
        return dataclasses.replace(req, liveness=state)
