"""The enrollment kiosk: notice, an honest choice, separate consent, capture, a receipt.

A kiosk is a browser that staff signed in once with an operator key and tied
to one purpose (``/kiosk/setup``). A visit then runs: the purpose's published
notice in Chinese or English (CN Art. 5); two choices of equal weight, face
recognition or the purpose's alternative (Art. 10, 12); a separate consent,
a guardian's for a child under 14 (Arts. 6, 7); capture from the browser's
camera with live guidance and, when the purpose requires it, a liveness
challenge; enrollment and a first verification; a receipt with the subject's
own token (as text and as a QR code), a short code to copy by hand, and how to
withdraw, with a print view. With the token or the code a person withdraws, sees
what is held about them (``/kiosk/mine``) and erases it, after a confirmation;
every entry of a token or code is rate limited per kiosk. Declining calls
:meth:`Deployment.decline` and nothing else: no subject, no image, no template.
Every call is the same :class:`~facegate.deployment.Deployment` method the API
calls, under the same role and scope checks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final

import segno
from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from ..access import ApiAction, ApiKey, Role
from ..access.keys import grouped_code
from ..api.common import allow, in_scope, service_of
from ..clock import parse_time
from ..errors import CredentialInvalid, Forbidden, RateLimited, RequestError
from . import sessions
from .auth import see_other, signed_in
from .i18n import ITEM_HEADINGS, LANGUAGES
from .pages import render
from .visits import current_visit, end_visit

__all__ = ["router"]

router = APIRouter(prefix="/kiosk", include_in_schema=False)

_AGE_BANDS = ("under_14", "14_15", "16_17", "adult")

#: a visit past the notice with no touch, key or pointer for this long is ended by the
#: page itself, as "Start over" would (the server ends one idle past
#: :data:`~facegate.web.sessions.VISIT_LIMIT` at its next request)
IDLE_SECONDS = 120

#: tokens and codes a kiosk accepts typed in per minute, right or wrong (withdrawal and
#: the data page together): plenty for people at one kiosk, hopeless for guessing
ENTRIES_PER_MINUTE: Final = 10


def qr_code(token: str) -> str:
    """The token as a QR code: an SVG ``data:`` URI drawn in memory (nothing on disk)."""
    return str(segno.make(token, error="m", micro=False).svg_data_uri(
        scale=1, border=4, dark="#000", light="#fff", omitsize=True))


def kiosk_of(request: Request, action: ApiAction) -> tuple[sessions.Session, ApiKey, str]:
    """The kiosk's session, operator key and purpose, allowed ``action`` on it."""
    session, key = signed_in(request)
    purpose = session.kiosk_purpose
    if purpose is None and key.role is Role.OPERATOR and key.purposes and len(key.purposes) == 1:
        purpose = session.kiosk_purpose = next(iter(key.purposes))
    if purpose is None:
        allow(request, key, action)
        raise Forbidden("this browser is not set up as a kiosk yet: staff open /kiosk/setup")
    allow(request, key, action, purpose=purpose)
    return session, key, purpose


def visit_at(session: sessions.Session, request: Request,
             *steps: str) -> dict[str, Any] | None:
    """The session's visit when it is at one of ``steps`` (an idle visit is ended)."""
    visit = current_visit(request, session)
    return visit if visit.get("step") in steps else None


def kiosk_page(request: Request, template: str, purpose: str, **context: Any) -> Response:
    """A kiosk page: the purpose, its current notice and the processor come from the books."""
    service = service_of(request)
    return render(request, template, purpose=service.call(lambda d: d.purpose(purpose)),
                  notice=service.call(lambda d: d.notice(purpose)),
                  said=service.call(lambda d: d.notice_text(purpose)),
                  processor=service.call(lambda d: d.processor()), headings=ITEM_HEADINGS,
                  languages=LANGUAGES, bands=_AGE_BANDS, idle_seconds=IDLE_SECONDS, **context)


@router.get("/setup")
def setup_page(request: Request) -> Response:
    """Staff tie this browser to a purpose; it then shows only the kiosk."""
    _, key = signed_in(request, ApiAction.CONSENT_DESK)
    shown = in_scope(request, key)
    purposes = [p for p in service_of(request).call(lambda d: d.purposes())
                if p.status == "active" and shown(p.key, p.site_key)]
    return render(request, "kiosk/setup.html", purposes=purposes, kiosk=True)


@router.post("/setup")
def setup(request: Request, purpose: Annotated[str, Form(max_length=100)],
          csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    sessions.check_form(request, csrf)
    session, _ = signed_in(request, ApiAction.BIOMETRIC, purpose=purpose)
    service_of(request).call(lambda d: d.purpose(purpose))
    end_visit(request, session)
    session.kiosk_purpose = purpose
    return see_other(request, "/kiosk")


@router.get("/prefs")
def prefs(request: Request, lang: str | None = None, large: str | None = None,
          back: str = "/kiosk") -> Response:
    """Switch the language or large text; harmless as a GET, like a link."""
    session = sessions.ensure(request)
    if lang in LANGUAGES:
        session.lang = lang
    if large in ("0", "1"):
        session.large = large == "1"
    return see_other(request, back if back.startswith("/kiosk") else "/kiosk")


@router.get("")
def start(request: Request, renotice: str | None = None) -> Response:
    """The notice and the choice; the visit remembers which notice version it showed."""
    first, key = signed_in(request)
    if first.kiosk_purpose is None and not (key.purposes and len(key.purposes) == 1):
        return see_other(request, "/kiosk/setup")
    session, key, purpose = kiosk_of(request, ApiAction.CONSENT_DESK)
    if current_visit(request, session).get("step") not in (None, "notice"):
        end_visit(request, session)
    visit = session.visit
    notice = service_of(request).call(lambda d: d.notice(purpose))
    visit.update(step="notice", shown=notice.version if notice else None)
    return kiosk_page(request, "kiosk/notice.html", purpose, step=1,
                      renotice=renotice is not None)


@router.post("/choice")
def choose(request: Request, choice: Annotated[str, Form(max_length=20)],
           csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Face recognition leads to the consent step; the alternative to
    :meth:`Deployment.decline` and nothing else (R7)."""
    sessions.check_form(request, csrf)
    if choice not in ("face", "alternative"):
        raise RequestError("choose 'face' or 'alternative'", details={"choice": choice})
    session, key, purpose = kiosk_of(request, ApiAction.CONSENT_DESK)
    visit = current_visit(request, session)
    if choice == "face":
        shown = visit.get("shown")
        end_visit(request, session)
        if shown is None:  # nobody chooses before the notice was shown
            return see_other(request, "/kiosk")
        session.visit.update(step="consent", shown=shown)
        return see_other(request, "/kiosk/consent")
    subject = visit.get("subject")
    if subject:  # stopping after consent withdraws it; any template is deleted (R4)
        service_of(request).call(lambda d: d.withdraw_consent(
            subject=subject, purpose=purpose, operator=key.principal))
    route = service_of(request).call(lambda d: d.decline(
        purpose=purpose, subject=subject, operator=key.principal))
    visit.clear()
    visit.update(step="alternative", alternatives=[a.key for a in route.alternatives])
    return see_other(request, "/kiosk/alternative")


@router.get("/alternative")
def alternative(request: Request) -> Response:
    session, _, purpose = kiosk_of(request, ApiAction.CONSENT_DESK)
    visit = visit_at(session, request, "alternative")
    if visit is None:
        return see_other(request, "/kiosk")
    return kiosk_page(request, "kiosk/alternative.html", purpose,
                      alternatives=visit["alternatives"], step=2)


@router.get("/consent")
def consent_page(request: Request) -> Response:
    session, _, purpose = kiosk_of(request, ApiAction.CONSENT_DESK)
    if visit_at(session, request, "consent") is None:
        return see_other(request, "/kiosk")
    return kiosk_page(request, "kiosk/consent.html", purpose, step=2, error=None, form={})


@router.post("/consent")
def consent(request: Request, csrf: Annotated[str, Form(max_length=200)] = "",
            age_band: Annotated[str, Form(max_length=20)] = "",
            guardian: Annotated[str, Form(max_length=200)] = "",
            guardian_relation: Annotated[str, Form(max_length=100)] = "") -> Response:
    """Register a pseudonymous subject and record their separate consent (a guardian's
    under 14), against the notice version shown; the subject's token is kept for the
    receipt only."""
    sessions.check_form(request, csrf)
    session, key, purpose = kiosk_of(request, ApiAction.CONSENT_DESK)
    visit = visit_at(session, request, "consent")
    if visit is None:
        return see_other(request, "/kiosk")
    form = {"age_band": age_band, "guardian": guardian, "guardian_relation": guardian_relation}
    error = None
    if age_band not in _AGE_BANDS:
        error = "need_age"
    elif age_band == "under_14" and not (guardian.strip() and guardian_relation.strip()):
        error = "need_guardian"
    if error:
        return kiosk_page(request, "kiosk/consent.html", purpose, step=2, error=error,
                          form=form, status=422)
    service = service_of(request)
    notice = service.call(lambda d: d.notice(purpose))
    version = visit.get("shown")
    if notice is None or notice.version != version:
        # A new notice was published since this person read theirs: they read it first (R3).
        session.visit = {}
        return see_other(request, "/kiosk?renotice=1")
    subject = service.call(lambda d: d.register_subject(age_band=age_band,
                                                       operator=key.principal))
    _, issued, code = service.call(lambda d: d.consent_with_receipt(
        subject=subject.id, purpose=purpose, notice_version=version, method="on_screen",
        guardian=guardian.strip() or None, guardian_relation=guardian_relation.strip() or None,
        operator=key.principal))
    visit.update(step="capture", subject=subject.id, token=issued.secret,
                 code=grouped_code(code.secret), notice_version=version, purpose=purpose,
                 operator=key.principal)
    return see_other(request, "/kiosk/capture")


@router.get("/done")
def done(request: Request) -> Response:
    """The result and the receipt: token (text and QR code), code, purpose, retention, how
    to withdraw; printable."""
    session, _, purpose = kiosk_of(request, ApiAction.CONSENT_DESK)
    visit = visit_at(session, request, "result")
    if visit is None:
        return see_other(request, "/kiosk")
    return kiosk_page(request, "kiosk/done.html", purpose, visit=visit, step=5,
                      qr=qr_code(str(visit["token"])))


@router.post("/again")
def again(request: Request, csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Try the check once more."""
    sessions.check_form(request, csrf)
    session = kiosk_of(request, ApiAction.BIOMETRIC)[0]
    visit = visit_at(session, request, "result")
    if visit is None:
        return see_other(request, "/kiosk")
    visit["step"] = "check"
    return see_other(request, "/kiosk/check")


@router.post("/finish")
def finish(request: Request, csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """End the visit ("Start over"); the token is not shown again, and a consent given
    in it with no face enrolled yet is withdrawn (``abandoned``)."""
    sessions.check_form(request, csrf)
    session, _, _ = kiosk_of(request, ApiAction.CONSENT_DESK)
    end_visit(request, session)
    return see_other(request, "/kiosk")


@router.get("/withdraw")
def withdraw_page(request: Request) -> Response:
    session, _, purpose = kiosk_of(request, ApiAction.CONSENT_DESK)
    end_visit(request, session)
    return kiosk_page(request, "kiosk/withdraw.html", purpose, outcome=None, step=0)


def _entered(request: Request, key: ApiKey, token: str, action: str) -> ApiKey | str:
    """The subject key a person typed in (token or code), or why not: ``"bad"`` (unknown,
    revoked or not a subject's) or ``"slow"`` (this kiosk's entries are spent for now).
    Every refusal is audited."""
    service = service_of(request)
    wait = service.call(lambda d: d.spend_rate(f"entry:{key.id}",
                                               per_minute=ENTRIES_PER_MINUTE))
    if wait is not None:
        limited = RateLimited("too many tokens typed in at this kiosk; slow down",
                              details={"retry_after": max(1, round(wait))})
        service.call(lambda d: d.record_access_refusal(limited, operator=key.principal,
                                                       action=action))
        return "slow"
    try:
        own = service.call(lambda d: d.authenticate(token))
        if own.role is not Role.SUBJECT:
            raise CredentialInvalid("not a personal token")
    except CredentialInvalid as exc:
        refusal = exc
        service.call(lambda d: d.record_access_refusal(refusal, operator="kiosk",
                                                       action=action))
        return "bad"
    allow(request, own, ApiAction.SELF, subject=own.subject_id)
    return own


_REFUSED: Final = {"bad": 401, "slow": 429}


@router.post("/withdraw")
def withdraw(request: Request, token: Annotated[str, Form(max_length=200)],
             csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """A subject withdraws with their own token or code (as ``POST /v1/me/withdrawals``)."""
    sessions.check_form(request, csrf)
    _, key, purpose = kiosk_of(request, ApiAction.CONSENT_DESK)
    own = _entered(request, key, token, "POST /kiosk/withdraw")
    if isinstance(own, str):
        return kiosk_page(request, "kiosk/withdraw.html", purpose, outcome=own, step=0,
                          status=_REFUSED[own])
    w = service_of(request).call(lambda d: d.withdraw_consent(
        subject=str(own.subject_id), purpose=purpose, method="electronic_signature",
        operator=own.principal))
    return kiosk_page(request, "kiosk/withdraw.html", purpose, outcome="done",
                      deleted=w.templates_deleted, step=0)


# -- a person's own data: see it, erase it ---------------------------------------------


def _own_key(request: Request, session: sessions.Session) -> ApiKey | None:
    """The subject key this visit was opened with, while it is live."""
    visit = current_visit(request, session)
    if visit.get("step") != "mine":
        return None
    key_id = str(visit.get("own_key") or "")
    own = next((k for k in service_of(request).call(lambda d: d.api_keys())
                if k.id == key_id), None)
    if own is None or own.revoked_at is not None or own.role is not Role.SUBJECT:
        return None
    return own


def _held(request: Request, subject: str, operator: str) -> dict[str, Any]:
    """What the data page shows: per purpose, the consents (when, which notice), the
    templates' count and expiry, the retained images' count; never a vector or image. The
    access is audited (``subject-access``) like ``GET /v1/me``."""
    service = service_of(request)
    report = service.call(lambda d: d.access_report(subject, operator=operator))
    keys = {c["purpose"] for c in report.consents} | {t["purpose"] for t in report.templates}
    known = {p.key: p for p in service.call(lambda d: d.purposes())}
    purposes = []
    for k in sorted(keys):
        templates = [t for t in report.templates if t["purpose"] == k]
        ends = [parse_time(str(t["expires_at"])) for t in templates if t["expires_at"]]
        purposes.append({
            "key": k, "purpose": known.get(k),
            "consents": [{**c, "at": datetime.fromisoformat(c["recorded_at"])}
                         for c in report.consents if c["purpose"] == k],
            "templates": len(templates), "ends": max(ends) if ends else None,
            "images": sum(1 for i in report.images if i["purpose"] == k)})
    registered = (report.subject or {}).get("registered_at")
    return {"erased": report.erased, "purposes": purposes,
            "registered": datetime.fromisoformat(registered) if registered else None}


@router.get("/mine")
def mine_page(request: Request) -> Response:
    """Where a person types their token or code to see their data."""
    session, _, purpose = kiosk_of(request, ApiAction.CONSENT_DESK)
    own = _own_key(request, session)
    if own is None:
        end_visit(request, session)
        return kiosk_page(request, "kiosk/mine.html", purpose, outcome=None, step=0)
    return kiosk_page(request, "kiosk/mine.html", purpose, outcome="open", step=0, idle=True,
                      held=_held(request, str(own.subject_id), own.principal))


@router.post("/mine")
def mine(request: Request, token: Annotated[str, Form(max_length=200)],
         csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Open the data page with a token or code; the visit remembers the key (never the
    secret) until Start over, the idle timeout (the page presses Start over itself after
    :data:`IDLE_SECONDS` untouched) or the erasure."""
    sessions.check_form(request, csrf)
    session, key, purpose = kiosk_of(request, ApiAction.CONSENT_DESK)
    end_visit(request, session)
    own = _entered(request, key, token, "POST /kiosk/mine")
    if isinstance(own, str):
        return kiosk_page(request, "kiosk/mine.html", purpose, outcome=own, step=0,
                          status=_REFUSED[own])
    session.visit.update(step="mine", own_key=own.id)
    return see_other(request, "/kiosk/mine")


@router.post("/mine/erase")
def erase_mine(request: Request, csrf: Annotated[str, Form(max_length=200)] = "",
               confirm: Annotated[str, Form(max_length=10)] = "") -> Response:
    """Erase everything held about the person (as ``DELETE /v1/me``): first a confirmation
    page, then, with ``confirm=yes``, the erasure and its receipt."""
    sessions.check_form(request, csrf)
    session, _, purpose = kiosk_of(request, ApiAction.CONSENT_DESK)
    own = _own_key(request, session)
    if own is None:
        return see_other(request, "/kiosk/mine")
    allow(request, own, ApiAction.SELF, subject=own.subject_id)
    if confirm != "yes":
        return kiosk_page(request, "kiosk/mine.html", purpose, outcome="confirm", step=0,
                          idle=True)
    receipt = service_of(request).call(lambda d: d.erase_subject(
        str(own.subject_id), operator=own.principal))
    session.visit = {}
    return kiosk_page(request, "kiosk/mine.html", purpose, outcome="erased", step=0,
                      idle=True, receipt=receipt)
