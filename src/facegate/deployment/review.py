"""Human review of identification hits (R19) and identification sessions (R20).

A purpose configured for review (:meth:`Review.configure_review`) turns each
identification hit into a review case. Confirmation needs the jurisdiction
profile's ``reviewers_required`` distinct authorised reviewers (two under
``eu-gdpr-ai-act``, AI Act Art. 14(5)); one rejection closes the case; the
same reviewer twice is refused; :meth:`Review.act_on_case` refuses a case that
is not confirmed. Every identification is a session whose start, end, gallery,
probe reference and reviewers go to the audit log. The probe image a review
needs is kept sealed until the session's cases are all decided or its
deadline passes, then erased.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from ..access.keys import get_key
from ..access.roles import ApiKey, Role
from ..errors import InvalidArgument, NotFound, ReviewCaseNotFound, ReviewerNotAuthorised
from ..images import Image
from ..matching.service import Identification
from ..purposes.models import Purpose
from ..review import store as review_store
from ..review.models import (
    CaseStatus,
    ReviewCase,
    ReviewDecision,
    ReviewSettings,
    Verdict,
    check_act,
    next_status,
)
from ..storage.connection import Connection
from .rights import Rights

__all__ = ["Review"]

#: How long a case (and its sealed probe image) waits for review by default: 24 hours.
DEFAULT_WINDOW = timedelta(hours=24)


class Review(Rights):
    """Review cases and identification sessions; see :class:`~facegate.deployment.Deployment`."""

    # -- configuration --------------------------------------------------------------

    def configure_review(self, *, purpose: str, window: timedelta = DEFAULT_WINDOW,
                         bar_own: bool = False, operator: str = "system") -> ReviewSettings:
        """Make every identification hit of ``purpose`` a review case that waits at most
        ``window`` for its decision (the probe image is kept sealed that long at most).

        ``bar_own``: whoever registered the purpose or ran the identification may not decide
        its cases (``review.reviewer_barred``, R19), even when authorised as a reviewer."""
        seconds = int(window.total_seconds())
        if seconds <= 0:
            raise InvalidArgument("the review window must be positive",
                                  details={"window_seconds": seconds})
        with self._unit() as conn:
            self._purpose(conn, purpose)
            settings = ReviewSettings(purpose_key=purpose, window_seconds=seconds,
                                      configured_by=operator, configured_at=self._clock.now(),
                                      bar_own=bar_own)
            review_store.put_settings(conn, settings=settings)
            self._audit(conn, "review-configured", operator=operator, purpose_key=purpose,
                        detail={"window_seconds": seconds, "bar_own": bar_own,
                                "reviewers_required": self._profile(conn).reviewers_required})
        return settings

    def review_settings(self, purpose: str) -> ReviewSettings | None:
        """The purpose's review configuration, or ``None`` when hits are not reviewed."""
        return review_store.get_settings(self._conn, purpose_key=purpose)

    def authorise_reviewer(self, *, purpose: str, reviewer: str,
                           operator: str = "system") -> None:
        """Authorise ``reviewer`` to decide the review cases of ``purpose``."""
        if not reviewer.strip():
            raise InvalidArgument("a reviewer needs an id")
        with self._unit() as conn:
            self._purpose(conn, purpose)
            review_store.authorise_reviewer(conn, purpose_key=purpose, reviewer=reviewer,
                                            authorised_by=operator, at=self._clock.now())
            self._audit(conn, "reviewer-authorised", operator=operator, purpose_key=purpose,
                        detail={"reviewer": reviewer})

    def authorise_reviewer_key(self, *, purpose: str, key_id: str,
                               operator: str = "system") -> ApiKey:
        """Authorise the holder of the service's reviewer key ``key_id`` for ``purpose``;
        cases and the audit log name them ``key:<id>``.

        Raises:
            NotFound: no live reviewer key has that id.
        """
        with self._unit() as conn:
            key = get_key(conn, guard=self._guard(conn), key_id=key_id)
            if key.role is not Role.REVIEWER or key.revoked_at is not None:
                raise NotFound(f"no live reviewer key {key_id!r}", details={"key": key_id})
            self.authorise_reviewer(purpose=purpose, reviewer=key.principal, operator=operator)
        return key

    def revoke_reviewer(self, *, purpose: str, reviewer: str, operator: str = "system") -> bool:
        """Withdraw ``reviewer``'s authorisation for ``purpose``; ``False`` if there was none."""
        with self._unit() as conn:
            revoked = review_store.revoke_reviewer(conn, purpose_key=purpose, reviewer=reviewer,
                                                   at=self._clock.now()) > 0
            self._audit(conn, "reviewer-revoked", operator=operator, purpose_key=purpose,
                        outcome="ok" if revoked else "none", detail={"reviewer": reviewer})
        return revoked

    # -- sessions (called by identify, inside its unit) ---------------------------------

    def _session(self, conn: Connection, purpose: Purpose, result: Identification,
                 picture: Image, operator: str) -> Identification:
        """Record the identification session; with review, open a case per hit and keep the
        probe image sealed until the cases are decided or the deadline passes."""
        now = self._clock.now()
        self._expire(conn, operator="system")
        pack = self.analyzer.pack
        gallery = f"{purpose.key}/{pack.id}@{pack.version}"
        hits = sum(len(f.candidates) for f in result.faces)
        session, probe = review_store.start_session(
            conn, purpose_key=purpose.key, gallery=gallery, operator=operator,
            faces=len(result.faces), hits=hits, at=now)
        self._audit(conn, "identification-session-start", operator=operator,
                    purpose_key=purpose.key, detail={"session": session, "gallery": gallery,
                                                     "probe": probe, "faces": len(result.faces)})
        settings = review_store.get_settings(conn, purpose_key=purpose.key)
        result = dataclasses.replace(result, session_id=session, probe_ref=probe)
        if settings is None or not hits:
            self._end_session(conn, session, operator=operator, why="answered")
            return result
        deadline = now + timedelta(seconds=settings.window_seconds)
        required = self._profile(conn).reviewers_required
        faces = []
        opened: list[str] = []
        for face in result.faces:
            candidates = []
            for c in face.candidates:
                case = review_store.insert_case(
                    conn, session_id=session, purpose_key=purpose.key, face=face.face,
                    subject_id=c.subject_id, distance=c.distance, reviewers_required=required,
                    at=now, deadline=deadline)
                opened.append(case)
                candidates.append(dataclasses.replace(c, review_case=case))
            faces.append(dataclasses.replace(face, candidates=tuple(candidates)))
        review_store.seal_probe(conn, ring=self._keys.ring, session_id=session, image=picture,
                                at=now, deadline=deadline)
        self._audit(conn, "review-cases-opened", operator=operator, purpose_key=purpose.key,
                    detail={"session": session, "probe": probe, "cases": hits,
                            "case_ids": opened,
                            "reviewers_required": required, "deadline": deadline.isoformat()})
        return dataclasses.replace(result, faces=tuple(faces))

    def _end_session(self, conn: Connection, session: str, *, operator: str,
                     why: str) -> None:
        facts = review_store.close_session(conn, session_id=session, at=self._clock.now())
        if facts is None:
            return
        erased = review_store.delete_probe(conn, session_id=session) > 0
        self._audit(conn, "identification-session-end", operator=operator,
                    purpose_key=str(facts["purpose"]), detail={
                        "session": session, "gallery": facts["gallery"],
                        "probe": facts["probe"], "started_at": facts["started_at"],
                        "reviewers": review_store.session_reviewers(conn, session_id=session),
                        "why": why, "probe_image_erased": erased})

    def _expire(self, conn: Connection, *, operator: str) -> int:
        """Expire cases and erase probe images past their deadline; returns cases expired."""
        now = self._clock.now()
        cases, sessions, probes = review_store.expire_due(conn, now=now)
        if cases or probes:
            self._audit(conn, "review-expired", operator=operator,
                        detail={"cases": cases, "probe_images_erased": probes})
        for session in sorted(set(sessions) | set(probes)):
            if not review_store.session_open_cases(conn, session_id=session):
                self._end_session(conn, session, operator=operator, why="deadline")
        return len(cases)

    def _cascade_expiry(self, conn: Connection, *, operator: str) -> int:
        return self._expire(conn, operator=operator)

    def expire_reviews(self, *, operator: str = "system") -> int:
        """Expire every review case past its deadline and erase its probe image now."""
        with self._unit() as conn:
            return self._expire(conn, operator=operator)

    # -- cases ----------------------------------------------------------------------

    def review_cases(self, *, purpose: str | None = None,
                     status: CaseStatus | str | None = None) -> list[ReviewCase]:
        """Review cases, oldest first (deadlines are applied first)."""
        with self._unit() as conn:
            self._expire(conn, operator="system")
        return review_store.list_cases(self._conn, purpose_key=purpose,
                                       status=None if status is None else CaseStatus(status))

    def review_case(self, case_id: str) -> ReviewCase:
        with self._unit() as conn:
            self._expire(conn, operator="system")
            return self._case(conn, case_id)

    def review_probe_image(self, case_id: str, *, reviewer: str) -> bytes | None:
        """The PNG of the probe a pending case came from, for an authorised reviewer;
        ``None`` once it was erased. Every opening is audited."""
        with self._unit() as conn:
            self._expire(conn, operator="system")
            case = self._case(conn, case_id)
            if not review_store.is_reviewer(conn, purpose_key=case.purpose_key,
                                            reviewer=reviewer):
                raise ReviewerNotAuthorised(
                    f"{reviewer!r} is not an authorised reviewer of {case.purpose_key}",
                    details={**self._r19(conn), "case": case.id, "reviewer": reviewer})
            image = review_store.open_probe(conn, ring=self._keys.ring,
                                            session_id=case.session_id)
            self._audit(conn, "review-probe-opened", operator=reviewer,
                        purpose_key=case.purpose_key, subject_id=case.subject_id,
                        outcome="ok" if image is not None else "erased",
                        detail={"case": case.id, "session": case.session_id})
        return image

    def confirm_case(self, case_id: str, *, reviewer: str, reason: str) -> ReviewCase:
        """Record ``reviewer``'s confirmation; the case is confirmed once enough distinct
        authorised reviewers have confirmed it (R19).

        Raises:
            ReviewerRepeated: the reviewer already decided this case.
            ReviewerNotAuthorised: not an authorised reviewer of the purpose.
            ReviewCaseClosed: already confirmed, rejected or expired.
            ReviewCaseNotFound: no such case.
        """
        return self._decide(case_id, reviewer=reviewer, verdict=Verdict.CONFIRM, reason=reason)

    def reject_case(self, case_id: str, *, reviewer: str, reason: str) -> ReviewCase:
        """Record ``reviewer``'s rejection, which closes the case as rejected."""
        return self._decide(case_id, reviewer=reviewer, verdict=Verdict.REJECT, reason=reason)

    def _decide(self, case_id: str, *, reviewer: str, verdict: Verdict,
                reason: str) -> ReviewCase:
        if not reason.strip():
            raise InvalidArgument("a review decision needs a reason")
        with self._unit() as conn:
            self._expire(conn, operator="system")
            case = self._case(conn, case_id)
            now = self._clock.now()
            try:
                status = next_status(case, reviewer=reviewer, verdict=verdict, now=now,
                                     authorised=review_store.is_reviewer(
                                         conn, purpose_key=case.purpose_key, reviewer=reviewer),
                                     rule_details=self._r19(conn),
                                     barred=self._barred(conn, case, reviewer))
            except Exception as exc:
                code = getattr(exc, "code", type(exc).__name__)
                self._audit(conn, "refusal", operator=reviewer, purpose_key=case.purpose_key,
                            subject_id=case.subject_id, outcome=str(code), rule="R19",
                            detail={"action": f"review-{verdict}", "case": case.id})
                raise
            review_store.insert_decision(conn, case_id=case.id, decision=ReviewDecision(
                reviewer=reviewer, verdict=verdict, reason=reason, at=now))
            closed = status is not CaseStatus.PENDING
            review_store.set_status(conn, case_id=case.id, status=status,
                                    at=now if closed else None)
            self._audit(conn, f"review-{verdict}", operator=reviewer,
                        purpose_key=case.purpose_key, subject_id=case.subject_id,
                        outcome=str(status), rule="R19",
                        detail={"case": case.id, "session": case.session_id,
                                "reviewer": reviewer, "reason": reason,
                                "confirmations": case.confirmations + (
                                    verdict is Verdict.CONFIRM),
                                "required": case.reviewers_required})
            if closed and not review_store.session_open_cases(conn, session_id=case.session_id):
                self._end_session(conn, case.session_id, operator=reviewer, why="decided")
            return self._case(conn, case.id)

    def act_on_case(self, case_id: str, *, action: str, operator: str = "system") -> ReviewCase:
        """Act on an identification hit (``action`` says what, e.g. ``"open-door"``); only a
        confirmed case can be acted on (R19). The action is audited.

        Raises:
            ReviewNotConfirmed: the case is pending, rejected or expired.
        """
        with self._unit() as conn:
            self._expire(conn, operator="system")
            case = self._case(conn, case_id)
            try:
                check_act(case, rule_details=self._r19(conn))
            except Exception as exc:
                self._audit(conn, "refusal", operator=operator, purpose_key=case.purpose_key,
                            subject_id=case.subject_id, outcome=getattr(exc, "code", "error"),
                            rule="R19", detail={"action": action, "case": case.id})
                raise
            self._audit(conn, "act-on-hit", operator=operator, purpose_key=case.purpose_key,
                        subject_id=case.subject_id,
                        detail={"case": case.id, "action": action,
                                "reviewers": list(case.reviewers)})
        return case

    def _case(self, conn: Connection, case_id: str) -> ReviewCase:
        case = review_store.get_case(conn, case_id=case_id)
        if case is None:
            raise ReviewCaseNotFound(f"review case {case_id!r} does not exist",
                                     details={"case": case_id})
        return case

    def _barred(self, conn: Connection, case: ReviewCase, reviewer: str) -> str | None:
        """Why ``reviewer`` may not decide ``case`` under its purpose's ``bar_own``, or
        ``None``."""
        settings = review_store.get_settings(conn, purpose_key=case.purpose_key)
        if settings is None or not settings.bar_own:
            return None
        return review_store.own_people(conn, purpose_key=case.purpose_key,
                                       session_id=case.session_id).get(reviewer)

    def _r19(self, conn: Connection) -> dict[str, Any]:
        profile = self._profile(conn)
        return {"rule": "R19", "jurisdiction": profile.key, "article": profile.article("R19")}

    # -- erasure ----------------------------------------------------------------------

    def _cascade_erasure(self, conn: Connection, subject: str, *, operator: str) -> int:
        """Erasure cascade: the subject's cases go; a session left with no open case ends
        and its probe image is erased. Returns the sessions touched."""
        sessions = review_store.delete_subject_cases(conn, subject_id=subject)
        for session in sessions:
            if not review_store.session_open_cases(conn, session_id=session):
                self._end_session(conn, session, operator=operator, why="erasure")
        return len(sessions)

