"""The staff dashboard: the books, and the purpose wizard that will not go live early.

Each page is allowed by the role table (:data:`facegate.access.ALLOWED`) through
the API's own checks; the navigation shows only what the signed-in role may
open. The purpose wizard lists what activation needs (a complete bilingual
notice, a current signed impact assessment, an alternative) and calls
:meth:`Deployment.activate_purpose`, whose policy gate refuses anything
incomplete; the refusal is shown with its rule.
"""

from __future__ import annotations

from functools import partial
from itertools import zip_longest
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from ..access import ApiAction, ApiKey
from ..access.roles import ALLOWED
from ..api.common import allowed, in_scope, service_of, sites_in_scope
from ..calibration.shipped import shipped_calibrations
from ..errors import Error, Forbidden
from ..locale import N_
from ..purposes.models import (
    ASSESSMENT_ITEMS,
    NOTICE_ITEMS,
    NOTICE_LANGUAGES,
    Mode,
    missing_assessment_items,
    missing_notice_items,
)
from ..texts import Text
from . import sessions
from .auth import see_other, signed_in
from .i18n import ITEM_HEADINGS
from .pages import render

__all__ = ["nav", "router", "staff", "staff_page"]

router = APIRouter(prefix="/dashboard", include_in_schema=False)

#: The dashboard's sections: (path, label, the action that opens it); the labels are
#: translated where the navigation is shown.
SECTIONS: Final = (
    ("/dashboard", N_("Overview"), ApiAction.READ_BOOKS),
    ("/dashboard/subjects", N_("Subjects"), ApiAction.SUBJECT_REPORT),
    ("/dashboard/review", N_("Review queue"), ApiAction.REVIEW),
    ("/dashboard/review", N_("Confirmed hits"), ApiAction.ACT_ON_CASE),
    ("/dashboard/audit", N_("Audit log"), ApiAction.AUDIT),
    ("/dashboard/filing", N_("Filing"), ApiAction.AUDIT),
    ("/dashboard/staff", N_("Staff"), ApiAction.CONFIGURE),
    ("/dashboard/keys", N_("Keys"), ApiAction.CONFIGURE),
)

ASSESSMENT_LABELS: Final = {
    "lawful_legitimate_necessary": N_("Is the purpose and method lawful, legitimate and "
                                      "necessary?"),
    "rights_impact": N_("Impact on people's rights, and whether the mitigations work"),
    "security_risks": N_("Risks of leakage, tampering, loss or misuse, and the harm"),
    "protection_measures": N_("Protection measures: lawful, effective, proportionate"),
    "alternatives_considered": N_("Non-biometric alternatives considered"),
}


def nav(request: Request, key: ApiKey) -> list[dict[str, Any]]:
    """The sections the key's role may open."""
    items = [{"href": href, "label": label, "current": request.url.path == href}
             for href, label, action in SECTIONS if key.role in ALLOWED[action]]
    if key.role in ALLOWED[ApiAction.AUDIT]:
        items.append({"href": "/dashboard/documents", "label": N_("Documents"),
                      "current": request.url.path == "/dashboard/documents"})
    if key.role in ALLOWED[ApiAction.BIOMETRIC]:
        items.append({"href": "/kiosk/setup", "label": N_("Set up a kiosk"), "current": False})
    return items


def staff(request: Request, action: ApiAction, purpose: str | None = None, *,
          site: str | None = None, subject: str | None = None,
          whole: bool = False) -> tuple[sessions.Session, ApiKey]:
    """A signed-in staff session allowed ``action`` (within scope, as :func:`signed_in`);
    a kiosk browser is refused."""
    session, key = signed_in(request, action, purpose=purpose, site=site, subject=subject,
                             whole=whole)
    if session.kiosk_purpose is not None:
        raise Forbidden("this browser is set up as a kiosk; the dashboard is closed here")
    return session, key


def staff_page(request: Request, key: ApiKey, template: str, **context: Any) -> Response:
    return render(request, template, key=key, nav=nav(request, key), **context)


def _notice(d: Any, *, purpose: str) -> Any:
    return d.notice(purpose)


def _warnings(d: Any, *, purpose: str) -> list[str]:
    return list(d.activation_warnings(purpose))


@router.get("")
def overview(request: Request) -> Response:
    """Processor, sites, purposes and cameras; filing and the audit chain for those who
    audit."""
    _, key = staff(request, ApiAction.READ_BOOKS)
    service = service_of(request)
    shown = in_scope(request, key)
    purposes = [p for p in service.call(lambda d: d.purposes()) if shown(p.key, p.site_key)]
    rows = [{"purpose": p, "notice": service.call(partial(_notice, purpose=p.key)),
             "warnings": service.call(partial(_warnings, purpose=p.key))} for p in purposes]
    # The filing counter and the chain check reach the whole deployment.
    audits = allowed(key, ApiAction.AUDIT, whole=True)
    filing = service.call(lambda d: d.filing_status()) if audits else None
    sites = sites_in_scope(request, key, service.call(lambda d: d.sites()),
                           lambda s: str(s.key))
    # Cameras whose every purpose lies in scope: state and counts, never a picture.
    cameras = [c for c in service.call(lambda d: [s.as_dict() for s in d.camera_states()])
               if all(shown(p, c["site"]) for p in c["purposes"])]
    return staff_page(request, key, "dashboard/overview.html",
                      processor=service.call(lambda d: d.processor()),
                      sites=sites, rows=rows, filing=filing, cameras=cameras,
                      chain=_chain(request) if audits else None,
                      configure=key.role in ALLOWED[ApiAction.CONFIGURE],
                      register_site=allowed(key, ApiAction.CONFIGURE, whole=True))


def _chain(request: Request) -> dict[str, Any]:
    try:
        report = service_of(request).call(lambda d: d.verify_audit())
    except Error as exc:
        return {"intact": False, "message": exc.message, "code": exc.code, "error": exc}
    return {"intact": True, "entries": report.entries, "head": report.head,
            "checkpoint_seq": report.checkpoint_seq}


def _wizard(request: Request, key: ApiKey, purpose: str) -> dict[str, Any]:
    service = service_of(request)
    p = service.call(lambda d: d.purpose(purpose))
    notice = service.call(lambda d: d.notice(purpose))
    assessments = service.call(lambda d: d.assessments(purpose))
    current = [a for a in assessments if a.is_current_for(p)]
    notice_missing = missing_notice_items(notice.content if notice else {})
    steps = [
        {"id": "details", "title": N_("Purpose and necessity"), "article": "CN Art. 4",
         "done": True},
        {"id": "notice", "title": N_("Notice in Chinese and English"), "article": "CN Art. 5",
         "done": notice is not None and not notice_missing,
         "missing": len(notice_missing)},
        {"id": "assessment", "title": N_("Impact assessment, signed"), "article": "CN Art. 9",
         "done": bool(current)},
        {"id": "alternatives", "title": N_("An alternative for anyone who declines"),
         "article": "CN Art. 10", "done": bool(p.alternatives or p.mandate)},
    ]
    from .journey import calibration_view, review_view
    identifies = Mode.IDENTIFY in p.modes
    recorded = service.call(lambda d: d.calibrations(purpose))
    own = next((c for c in recorded if c.id == p.calibration_id), None)
    shipped = [c for c in shipped_calibrations()
               if c.pack == p.pack and c.population == p.population]
    steps.append({"id": "calibration", "title": N_("Calibration on the people it serves"),
                     "article": "R21",
                     "done": (own is not None and not own.lfw_derived)
                     or (not identifies and own is None and bool(shipped))})
    review = review_view(request, key, purpose)
    review_done = review["settings"] is not None and len(review["reviewers"]) >= (
        review["required"] or 1)
    extra = {"calibration": calibration_view(own), "shipped": shipped[0] if shipped else None,
             # What else the purpose may run at: its other recorded calibrations of its
             # pack, not on LFW unless it serves LFW's population (the gate decides).
             "stored": [c for c in recorded if c.id != p.calibration_id and c.pack == p.pack],
             "identifies": identifies, "review": review,
             "may_configure": allowed(key, ApiAction.CONFIGURE, purpose=p.key,
                                      site=p.site_key),
             "review_step": {"id": "review", "title": N_("Human review of 1:N hits"),
                             "article": "R19", "done": review_done}}
    return {"p": p, "notice": notice, "assessment": current[-1] if current else
            (assessments[-1] if assessments else None), "steps": steps,
            "ready": all(s["done"] for s in steps),
            "warnings": service.call(lambda d: d.activation_warnings(purpose)),
            "notice_items": NOTICE_ITEMS, "languages": NOTICE_LANGUAGES,
            "headings": ITEM_HEADINGS, "assessment_items": ASSESSMENT_ITEMS,
            "assessment_labels": ASSESSMENT_LABELS, **extra}


def _wizard_page(request: Request, key: ApiKey, purpose: str, *, error: Error | None = None,
                 message: str | None = None, status: int = 200, **values: Any) -> Response:
    """The purpose's page; ``message`` is a word of the catalog (``N_``), with ``values``
    for its placeholders."""
    return staff_page(request, key, "dashboard/purpose.html", status=status, error=error,
                      message=message, message_values=values, **_wizard(request, key, purpose))


@router.get("/purposes/new")
def new_purpose_page(request: Request) -> Response:
    _, key = staff(request, ApiAction.CONFIGURE)
    return staff_page(request, key, "dashboard/new_purpose.html", error=None, form={},
                      sites=sites_in_scope(request, key, service_of(request).call(
                          lambda d: d.sites()), lambda s: str(s.key)))


@router.post("/purposes/new")
async def new_purpose(request: Request) -> Response:
    """Register a draft purpose; the wizard then collects notice and assessment."""
    async with request.form(max_fields=32) as data:
        form = {k: str(v) for k, v in data.multi_items() if isinstance(v, str)}
        modes = [str(m) for m in data.getlist("modes") if m in ("verify", "identify")]
    sessions.check_form(request, str(form.get("csrf", "")))
    _, key = staff(request, ApiAction.CONFIGURE, form.get("key", "").strip() or None,
                   site=form.get("site") or None)
    try:
        days = int(form.get("retention_days") or "0")
    except ValueError:
        days = 0
    zh_lines, en_lines = ([a.strip() for a in form.get(f"alternatives.{lang}", "").splitlines()
                           if a.strip()] for lang in ("zh", "en"))
    alternatives = [{"key": en or zh, "name": {"zh": zh, "en": en}}
                    for zh, en in zip_longest(zh_lines, en_lines, fillvalue="")]

    def words(field: str) -> dict[str, str]:
        return {lang: form.get(f"{field}.{lang}", "").strip() for lang in NOTICE_LANGUAGES}

    try:
        p = service_of(request).call(lambda d: d.register_purpose(
            key=form.get("key", "").strip(), site=form.get("site", ""),
            name=words("name"), description=words("description"),
            necessity=words("necessity"), legal_basis=words("legal_basis"),
            modes=modes or ["verify"],
            alternatives=alternatives, retention_days=days,
            liveness_required=form.get("liveness_required") == "on", operator=key.principal))
    except Error as exc:
        if isinstance(exc, Forbidden):
            raise
        return staff_page(request, key, "dashboard/new_purpose.html", status=422, error=exc,
                          form=form, sites=service_of(request).call(lambda d: d.sites()))
    return see_other(request, f"/dashboard/purposes/{p.key}")


@router.get("/purposes/{purpose}")
def purpose_page(request: Request, purpose: str) -> Response:
    _, key = staff(request, ApiAction.READ_BOOKS, purpose)
    return _wizard_page(request, key, purpose)


@router.post("/purposes/{purpose}/notice")
async def publish_notice(request: Request, purpose: str) -> Response:
    """Publish the next version of the notice (every item, both languages: R6)."""
    async with request.form(max_fields=40) as data:
        form = {k: str(v) for k, v in data.multi_items() if isinstance(v, str)}
    sessions.check_form(request, str(form.get("csrf", "")))
    _, key = staff(request, ApiAction.CONFIGURE, purpose)
    content = {item: {lang: form.get(f"{item}.{lang}", "").strip() for lang in NOTICE_LANGUAGES}
               for item in NOTICE_ITEMS}
    try:
        n = service_of(request).call(lambda d: d.publish_notice(
            purpose=purpose, content=content, operator=key.principal))
    except Error as exc:
        if isinstance(exc, Forbidden):
            raise
        return _wizard_page(request, key, purpose, error=exc, status=422)
    return _wizard_page(request, key, purpose, message=N_("Notice version %(v)s published."),
                        v=n.version)


@router.post("/purposes/{purpose}/assessment")
async def sign_assessment(request: Request, purpose: str) -> Response:
    """Record the signed impact assessment (R14)."""
    async with request.form(max_fields=32) as data:
        form = {k: str(v) for k, v in data.multi_items() if isinstance(v, str)}
    sessions.check_form(request, str(form.get("csrf", "")))
    _, key = staff(request, ApiAction.CONFIGURE, purpose)
    content = {item: Text.of({lang: form.get(f"{item}.{lang}", "").strip()
                              for lang in NOTICE_LANGUAGES}) for item in ASSESSMENT_ITEMS}
    missing = missing_assessment_items(content)
    try:
        service_of(request).call(lambda d: d.sign_assessment(
            purpose=purpose, content=content, signed_by=form.get("signed_by", "").strip(),
            operator=key.principal))
    except Error as exc:
        if isinstance(exc, Forbidden):
            raise
        return _wizard_page(request, key, purpose, error=exc, status=422,
                            message=N_("Missing: %(items)s") if missing else None,
                            items=", ".join(missing))
    return _wizard_page(request, key, purpose, message=N_("Impact assessment signed."))


@router.post("/purposes/{purpose}/activate")
def activate(request: Request, purpose: str,
             csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Go live, if the gate agrees; its refusal names the rule."""
    sessions.check_form(request, csrf)
    _, key = staff(request, ApiAction.CONFIGURE, purpose)
    try:
        service_of(request).call(lambda d: d.activate_purpose(purpose, operator=key.principal))
    except Error as exc:
        if isinstance(exc, Forbidden):
            raise
        return _wizard_page(request, key, purpose, error=exc, status=409)
    return _wizard_page(request, key, purpose, message=N_("The purpose is live."))


@router.post("/purposes/{purpose}/suspend")
def suspend(request: Request, purpose: str,
            csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    sessions.check_form(request, csrf)
    _, key = staff(request, ApiAction.CONFIGURE, purpose)
    service_of(request).call(lambda d: d.suspend_purpose(purpose, operator=key.principal))
    return _wizard_page(request, key, purpose, message=N_("The purpose is suspended."))
