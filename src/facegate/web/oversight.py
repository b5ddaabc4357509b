"""The dashboard's oversight pages: subjects and their consent history, the review
queue, the audit log with its chain check, the filing counter, and the documents
the regulator's documents (``facegate report``) rendered on demand.

Subjects appear only by their pseudonymous ids; a subject's page is the
access report (audited as ``subject-access``), never vectors or images.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from ..access import ApiAction
from ..access.roles import ALLOWED
from ..api.common import allow, allowed, in_scope, purposes_in_scope, service_of
from ..api.documents import KINDS, allow_document, document_response
from ..api.oversight import MAX_SEQ, case_evidence, face_response
from ..consent.ledger import current_state
from ..errors import Error, Forbidden, NotFound
from ..jurisdictions import get_profile
from . import sessions
from .auth import see_other
from .dashboard import _chain, staff, staff_page

__all__ = ["router"]

router = APIRouter(prefix="/dashboard", include_in_schema=False)


def _consents(d: Any, *, subject: str) -> list[Any]:
    return list(d.consents(subject))


def _holdings(d: Any, *, subject: str) -> set[tuple[str, str]]:
    return set(d.subject_holdings(subject))


@router.get("/subjects")
def subjects(request: Request,
             external_ref: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    """Recent subjects with the current state of each consent, from the ledger, or the
    subjects the deployer's own reference names (the look-up is audited as
    ``subjects-listed``, never the reference itself); a key limited in scope sees only
    subjects whose records all lie in its scope."""
    _, key = staff(request, ApiAction.SUBJECT_REPORT)
    service = service_of(request)
    ref = (external_ref or "").strip() or None
    found = (service.call(lambda d: d.find_subjects(external_ref=ref, limit=50,
                                                    operator=key.principal))
             if ref else service.call(lambda d: d.subjects(limit=200)))
    rows = []
    for s in found:
        if not key.scope.unlimited and not allowed(
                key, ApiAction.SUBJECT_REPORT,
                holdings=service.call(partial(_holdings, subject=s.id))):
            continue
        ledger = service.call(partial(_consents, subject=s.id))
        purposes = sorted({e.purpose_key for e in ledger})
        states = [{"purpose": p, "state": current_state(
            [e for e in ledger if e.purpose_key == p and e.scope == "biometric"])}
            for p in purposes]
        rows.append({"subject": s, "states": states, "events": len(ledger)})
    return staff_page(request, key, "dashboard/subjects.html", rows=rows, external_ref=ref)


@router.get("/subjects/{subject}")
def subject(request: Request, subject: str) -> Response:
    """A subject's access report: consent history, template metadata, events."""
    _, key = staff(request, ApiAction.SUBJECT_REPORT, subject=subject)
    service = service_of(request)
    report = service.call(lambda d: d.access_report(subject, operator=key.principal))
    # What this key may do to the subject, as the forms' own checks would decide.
    holdings = set() if report.erased else service.call(partial(_holdings, subject=subject))
    erase = not report.erased and allowed(key, ApiAction.ERASE, holdings=holdings)
    ledger = [] if report.erased else service.call(partial(_consents, subject=subject))
    withdrawable = sorted(
        p for p in {e.purpose_key for e in ledger}
        if allowed(key, ApiAction.WITHDRAW, holdings=holdings)
        and current_state([e for e in ledger
                           if e.purpose_key == p and e.scope == "biometric"]).granted)
    return staff_page(request, key, "dashboard/subject.html", report=report.as_dict(),
                      erase=erase, withdrawable=withdrawable,
                      done=request.query_params.get("done"))


def _queue(request: Request, key: Any, reviewer: bool) -> list[dict[str, Any]]:
    """The cases a staff member sees: for a reviewer, the pending ones of the purposes it
    is authorised to review, each with its evidence (the score's false-match rate, the
    reference or what to check instead); confirmed ones for an operator."""
    service = service_of(request)
    shown = in_scope(request, key)
    cases = [c for c in service.call(lambda d: d.review_cases(
        status="pending" if reviewer else "confirmed")) if shown(c.purpose_key, None)]
    if not reviewer:
        return [{"case": c, "evidence": None} for c in cases]
    # a reviewer sees the cases of the purposes it is authorised to review (others would
    # only be refused, review.reviewer_not_authorised)
    mine = {p for p in {c.purpose_key for c in cases}
            if service.call(partial(_authorised, purpose=p, reviewer=key.principal))}
    return [{"case": c, "evidence": case_evidence(service.call(partial(_evidence, case=c.id)),
                                                  images=f"/dashboard/review/{c.id}")}
            for c in cases if c.purpose_key in mine]


def _evidence(d: Any, *, case: str) -> Any:
    return d.review_evidence(case)


def _authorised(d: Any, *, purpose: str, reviewer: str) -> bool:
    return bool(d.review_authorised(purpose=purpose, reviewer=reviewer))


@router.get("/review")
def review(request: Request) -> Response:
    """Reviewers: pending cases to confirm or reject, with the probe's face, the
    reference photo or what to check instead, and the score's false-match rate.
    Operators: confirmed cases to act on."""
    _, key = staff(request, ApiAction.READ_BOOKS)
    reviewer = key.role in ALLOWED[ApiAction.REVIEW]
    if not reviewer:
        allow(request, key, ApiAction.ACT_ON_CASE)
    return staff_page(request, key, "dashboard/review.html", cases=_queue(request, key, reviewer),
                      reviewer=reviewer, message=request.query_params.get("done"), error=None)


@router.get("/review/{case_id}/{image}")
def face(request: Request, case_id: str, image: Literal["probe", "reference"]) -> Response:
    """A face of a pending case for an authorised reviewer of its purpose: JPEG from
    memory, never cached; every viewing audited."""
    _, key = staff(request, ApiAction.REVIEW)
    service = service_of(request)
    case = service.call(lambda d: d.review_case(case_id))
    allow(request, key, ApiAction.REVIEW, purpose=case.purpose_key)
    return face_response(service.call(lambda d: d.review_face(
        case_id, reviewer=key.principal, image=image)))


def _decide(request: Request, case_id: str, csrf: str, verdict: str, reason: str) -> Response:
    sessions.check_form(request, csrf)
    action = ApiAction.ACT_ON_CASE if verdict == "act" else ApiAction.REVIEW
    _, key = staff(request, action)
    service = service_of(request)
    case = service.call(lambda d: d.review_case(case_id))
    allow(request, key, action, purpose=case.purpose_key)
    try:
        if verdict == "confirm":
            service.call(lambda d: d.confirm_case(case_id, reviewer=key.principal,
                                                  reason=reason))
        elif verdict == "reject":
            service.call(lambda d: d.reject_case(case_id, reviewer=key.principal, reason=reason))
        else:
            service.call(lambda d: d.act_on_case(case_id, action=reason,
                                                 operator=key.principal))
    except Error as exc:
        if isinstance(exc, Forbidden):
            raise
        reviewer = key.role in ALLOWED[ApiAction.REVIEW]
        return staff_page(request, key, "dashboard/review.html", status=409,
                          cases=_queue(request, key, reviewer), reviewer=reviewer,
                          message=None, error=exc)
    return see_other(request, f"/dashboard/review?done={verdict}")


@router.post("/review/{case_id}/confirm")
def confirm(request: Request, case_id: str, reason: Annotated[str, Form(max_length=2000)],
            csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    return _decide(request, case_id, csrf, "confirm", reason)


@router.post("/review/{case_id}/reject")
def reject(request: Request, case_id: str, reason: Annotated[str, Form(max_length=2000)],
           csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    return _decide(request, case_id, csrf, "reject", reason)


@router.post("/review/{case_id}/act")
def act(request: Request, case_id: str, action: Annotated[str, Form(max_length=200)],
        csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    return _decide(request, case_id, csrf, "act", action)


@router.get("/audit")
def audit(request: Request, name: Annotated[str | None, Query(max_length=100)] = None,
          before: Annotated[int | None, Query(ge=0, le=MAX_SEQ)] = None) -> Response:
    """The chain check, then the log, newest first, 100 a page. A key limited in scope sees
    only its purposes' entries, and not the chain check (it covers the whole log)."""
    _, key = staff(request, ApiAction.AUDIT)
    service = service_of(request)
    purposes = purposes_in_scope(request, key)
    newest = service.call(lambda d: d.audit_events(name or None, before=before, limit=101,
                                                   newest_first=True, purposes=purposes))
    page = newest[:100]
    names = service.call(lambda d: d.audit_event_names())
    chain = _chain(request) if allowed(key, ApiAction.AUDIT, whole=True) else None
    return staff_page(request, key, "dashboard/audit.html", chain=chain, events=page,
                      names=names, name=name or "",
                      older=page[-1].seq if len(newest) > len(page) else None)


@router.get("/filing")
def filing(request: Request) -> Response:
    """Stored individuals against the filing threshold, the warning, and every record."""
    _, key = staff(request, ApiAction.AUDIT, whole=True)
    status = service_of(request).call(lambda d: d.filing_status())
    share = (status.individuals / status.threshold) if status.threshold else None
    return staff_page(request, key, "dashboard/filing.html", filing=status,
                      share=share, warning=bool(status.warning_at is not None
                                                and status.individuals >= status.warning_at))


@router.get("/documents")
def documents(request: Request) -> Response:
    """The regulator's documents, rendered from the records when opened: each purpose's
    notice and impact assessment, the filing record, the compliance summary and, where
    the profile has R22, the retention and destruction policy."""
    _, key = staff(request, ApiAction.AUDIT)
    service = service_of(request)
    shown = in_scope(request, key)
    purposes = [p for p in service.call(lambda d: d.purposes()) if shown(p.key, p.site_key)]
    processor = service.call(lambda d: d.processor())
    r22 = processor is not None and get_profile(processor.jurisdiction).applies("R22")
    wide = ["filing", "summary"] + (["retention-policy"] if r22 else [])
    return staff_page(request, key, "dashboard/documents.html", purposes=purposes,
                      deployment_wide=wide if allowed(key, ApiAction.AUDIT, whole=True)
                      else [])


@router.get("/documents/{kind}")
def document(request: Request, kind: str, purpose: str | None = None,
             subject: str | None = None, lang: str = "zh", format: str = "pdf") -> Response:
    """One document, rendered now; its generation is audited like the API's."""
    _, key = staff(request, ApiAction.AUDIT)
    if kind not in KINDS:
        raise NotFound(f"no document {kind!r}", details={"kinds": list(KINDS)})
    allow_document(request, key, kind, purpose=purpose, subject=subject)
    rendered = service_of(request).call(lambda d: d.report(
        kind, purpose=purpose, subject=subject, lang=lang, fmt=format,
        operator=key.principal))
    return document_response(rendered)
