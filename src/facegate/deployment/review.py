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
from ..calibration.models import FalseMatchRate, false_match_rate
from ..errors import (
    Error,
    InvalidArgument,
    NotFound,
    ReviewCaseNotFound,
    ReviewerNotAuthorised,
    ReviewImagesClosed,
    ReviewReferenceMissing,
)
from ..images import Image
from ..matching.service import Identification
from ..purposes.models import Purpose
from ..review import store as review_store
from ..review.faces import face_crop, shown_jpeg
from ..review.models import (
    CaseEvidence,
    CaseStatus,
    ReviewCase,
    ReviewDecision,
    ReviewImage,
    ReviewSettings,
    Verdict,
    check_act,
    check_view,
    next_status,
    no_reference_words,
)
from ..storage.connection import Connection
from ..templates.images import open_image
from .rights import Rights

__all__ = ["Review"]

#: How long a case (and its sealed probe image) waits for review by default: 24 hours.
DEFAULT_WINDOW = timedelta(hours=24)
#: The most distinct reviewers a purpose may require for one hit.
MAX_REVIEWERS = 5


class Review(Rights):
    """Review cases and identification sessions; see :class:`~facegate.deployment.Deployment`."""

    # -- configuration --------------------------------------------------------------

    def configure_review(self, *, purpose: str, window: timedelta = DEFAULT_WINDOW,
                         reviewers: int | None = None, bar_own: bool = False,
                         operator: str = "system") -> ReviewSettings:
        """Make every identification hit of ``purpose`` a review case that waits at most
        ``window`` for its decision (the probe image is kept sealed that long at most) and
        needs ``reviewers`` distinct confirmations (default: the jurisdiction's minimum).

        ``bar_own``: whoever registered the purpose or ran the identification may not decide
        its cases (``review.reviewer_barred``, R19), even when authorised as a reviewer.

        Raises:
            InvalidArgument: a window that is not positive; fewer reviewers than the
                jurisdiction requires (R19), or more than five.
        """
        seconds = int(window.total_seconds())
        if seconds <= 0:
            raise InvalidArgument("the review window must be positive",
                                  details={"window_seconds": seconds})
        with self._unit() as conn:
            self._purpose(conn, purpose)
            minimum = self._profile(conn).reviewers_required
            if reviewers is not None and not minimum <= reviewers <= MAX_REVIEWERS:
                raise InvalidArgument(
                    f"a hit needs between {minimum} and {MAX_REVIEWERS} distinct reviewers "
                    f"here, not {reviewers} (R19)",
                    details={"rule": "R19", "reviewers": reviewers, "minimum": minimum,
                             "maximum": MAX_REVIEWERS})
            settings = ReviewSettings(purpose_key=purpose, window_seconds=seconds,
                                      configured_by=operator, configured_at=self._clock.now(),
                                      reviewers=reviewers or minimum, bar_own=bar_own)
            review_store.put_settings(conn, settings=settings)
            self._audit(conn, "review-configured", operator=operator, purpose_key=purpose,
                        detail={"window_seconds": seconds, "bar_own": bar_own,
                                "reviewers_required": settings.reviewers_required(minimum)})
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

    def reviewers(self, purpose: str) -> list[str]:
        """The reviewers authorised for ``purpose`` now (``key:<id>`` for a reviewer key)."""
        self._purpose(self._conn, purpose)
        return list(review_store.list_reviewers(self._conn, purpose_key=purpose))

    def review_authorised(self, *, purpose: str, reviewer: str) -> bool:
        """Whether ``reviewer`` is authorised now to review ``purpose``'s cases."""
        return review_store.is_reviewer(self._conn, purpose_key=purpose, reviewer=reviewer)

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
        required = settings.reviewers_required(self._profile(conn).reviewers_required)
        faces = []
        opened: list[str] = []
        for face in result.faces:
            candidates = []
            for c in face.candidates:
                case = review_store.insert_case(
                    conn, session_id=session, purpose_key=purpose.key, face=face.face,
                    subject_id=c.subject_id, distance=c.distance, reviewers_required=required,
                    at=now, deadline=deadline, face_box=(face.box.left, face.box.top,
                                                         face.box.right, face.box.bottom))
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

    def review_evidence(self, case_id: str) -> CaseEvidence:
        """What a reviewer sees of a case beside its faces: the false-match rate of its
        distance on the purpose's calibration with its interval, whether a reference
        photo of the candidate was kept (R10) and, if not, what to check against
        instead. Opens no image."""
        with self._unit() as conn:
            self._expire(conn, operator="system")
            case = self._case(conn, case_id)
            purpose = self._purpose(conn, case.purpose_key)
            kept = review_store.reference_image(conn, subject_id=case.subject_id,
                                                purpose_key=case.purpose_key,
                                                now=self._clock.now()) is not None
            return CaseEvidence(
                case=case, fmr=self._case_fmr(conn, purpose, case.distance), reference=kept,
                instead=None if kept else no_reference_words(
                    [(a.key, dict(a.name)) for a in purpose.alternatives]))

    def _case_fmr(self, conn: Connection, purpose: Purpose,
                  distance: float) -> FalseMatchRate | None:
        """The FMR of ``distance`` on the calibration behind the purpose's threshold: its
        own, else its pack's shipped one for its population."""
        own = self._calibration(conn, purpose.calibration_id)
        if own is not None and own.pack == purpose.pack:
            return false_match_rate(distance, own.impostor_distances, own.impostor_pairs,
                                    calibration=f"calibration {own.id}")
        shipped = self._shipped(purpose, purpose.pack)
        if shipped is None:
            return None
        return false_match_rate(distance, shipped.impostor_low, shipped.impostor_pairs,
                                calibration=f"shipped {shipped.population}")

    def review_face(self, case_id: str, *, reviewer: str,
                    image: ReviewImage | str = ReviewImage.PROBE) -> bytes:
        """A face of a pending case as JPEG, made in memory, for an authorised reviewer of
        its purpose: the probe's face (cut from the sealed probe with a margin round its
        box), or the candidate's reference photo (kept only with its own consent, R10).
        Every opening is audited (reviewer, case, which image; no image), and so is every
        refusal.

        Raises:
            ReviewerNotAuthorised: not an authorised reviewer of the case's purpose.
            ReviewImagesClosed: the case is confirmed, rejected or expired.
            ReviewReferenceMissing: no reference photo of the candidate was kept.
            ReviewCaseNotFound: no such case.
        """
        which = ReviewImage(image)
        refused: Error | None = None
        jpeg = b""
        with self._unit() as conn:
            self._expire(conn, operator="system")
            case = self._case(conn, case_id)
            try:
                check_view(case, reviewer=reviewer, now=self._clock.now(),
                           authorised=review_store.is_reviewer(
                               conn, purpose_key=case.purpose_key, reviewer=reviewer),
                           rule_details=self._r19(conn))
                jpeg = self._open_face(conn, case, which)
            except (ReviewerNotAuthorised, ReviewImagesClosed, ReviewReferenceMissing) as exc:
                # recorded, and committed with the unit, before the refusal is raised
                self._audit(conn, "refusal", operator=reviewer, purpose_key=case.purpose_key,
                            subject_id=case.subject_id, outcome=exc.code, rule="R19",
                            detail={"action": "review-view", "case": case.id,
                                    "image": str(which)})
                refused = exc
            else:
                self._audit(conn, "review-face-viewed", operator=reviewer,
                            purpose_key=case.purpose_key, subject_id=case.subject_id,
                            rule="R19", detail={"case": case.id, "session": case.session_id,
                                                "image": str(which), "reviewer": reviewer})
        if refused is not None:
            raise refused
        return jpeg

    def _open_face(self, conn: Connection, case: ReviewCase, which: ReviewImage) -> bytes:
        if which is ReviewImage.PROBE:
            png = review_store.open_probe(conn, ring=self._keys.ring,
                                          session_id=case.session_id)
            if png is None:  # erased with its session: the case cannot be open
                raise ReviewImagesClosed(f"the probe of review case {case.id} was erased",
                                         details={"case": case.id})
            return face_crop(png, case.face_box)
        uid = review_store.reference_image(conn, subject_id=case.subject_id,
                                           purpose_key=case.purpose_key, now=self._clock.now())
        if uid is None:
            purpose = self._purpose(conn, case.purpose_key)
            raise ReviewReferenceMissing(
                f"no reference photo of the candidate of review case {case.id} was kept",
                details={"case": case.id, "rule": "R10", "instead": no_reference_words(
                    [(a.key, dict(a.name)) for a in purpose.alternatives])})
        return shown_jpeg(open_image(conn, keys=self._data_keys(conn), uid=uid))

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

