"""The admin's journey in the dashboard: sites, calibration, review, and a subject's rights.

From a store with only a processor and an admin key to a live identification
purpose, each step is a page or form over the same :class:`Deployment` calls as
the CLI and the API, so the same policy gate decides and the same audit log
records: a site (a private space is refused with R12; a public place needs its
signage, R13), a calibration on labelled photos of the purpose's population
(R21) with its DET curve drawn here, review settings and authorised reviewers
(R19), and, for a subject found by the deployer's reference, withdrawal of a
consent or erasure, each after a confirmation page.

Every control is shown only when :func:`facegate.api.common.allowed` would let the
signed-in key take it; a forced request is refused by :func:`allow` (403, audited).
"""

from __future__ import annotations

import io
import math
import tempfile
import zipfile
from datetime import timedelta
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from ..access import ApiAction, ApiKey
from ..api.common import allow, service_of
from ..calibration.models import Calibration
from ..errors import Error, Forbidden, InvalidArgument
from ..jurisdictions import get_profile
from ..organisation.models import SiteType
from . import sessions
from .auth import see_other
from .dashboard import staff, staff_page

__all__ = ["MAX_CALIBRATION_BYTES", "MAX_CALIBRATION_IMAGES", "det_figure", "router"]

router = APIRouter(prefix="/dashboard", include_in_schema=False)

#: The largest calibration upload (the zip file as sent; the service's body limit,
#: ``max_body_bytes``, 16 MiB by default, applies first).
MAX_CALIBRATION_BYTES: Final = 16 * 1024 * 1024
#: The most images one upload may hold; and the largest one, unpacked.
MAX_CALIBRATION_IMAGES: Final = 600
MAX_IMAGE_BYTES: Final = 4 * 1024 * 1024
#: The most bytes one upload may unpack to (a zip's declared sizes can lie: the bytes
#: actually read are counted).
MAX_UNPACKED_BYTES: Final = 256 * 1024 * 1024
_IMAGE_SUFFIXES: Final = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}
#: The false-match rates a calibration may target.
_TARGET_FMRS: Final = ("0.001", "0.0001")


# -- sites ---------------------------------------------------------------------------


def _site_form(request: Request, key: ApiKey, *, form: dict[str, str],
               error: Error | None = None, status: int = 200) -> Response:
    return staff_page(request, key, "dashboard/site_new.html", status=status, error=error,
                      form=form, site_types=[t.value for t in SiteType],
                      sites=service_of(request).call(lambda d: d.sites()))


@router.get("/sites/new")
def new_site_page(request: Request) -> Response:
    _, key = staff(request, ApiAction.CONFIGURE, whole=True)
    return _site_form(request, key, form={})


@router.post("/sites/new")
async def new_site(request: Request) -> Response:
    """Register a capture site through the gate (R12 private spaces, R13 public places)."""
    async with request.form(max_fields=16, max_files=0) as data:
        form = {k: str(v)[:500] for k, v in data.multi_items() if isinstance(v, str)}
    sessions.check_form(request, form.get("csrf", ""))
    _, key = staff(request, ApiAction.CONFIGURE, whole=True)
    public = form.get("public_place") == "on"
    try:
        service_of(request).call(lambda d: d.register_site(
            key=form.get("key", "").strip(),
            name={lang: form.get(f"name.{lang}", "").strip() for lang in ("zh", "en")},
            site_type=form.get("site_type", ""), public_place=public,
            capture_zone=form.get("capture_zone", "").strip() or None,
            signage_attested=form.get("signage_attested") == "on", operator=key.principal))
    except Error as exc:
        if isinstance(exc, Forbidden):
            raise
        return _site_form(request, key, form=form, error=exc, status=422)
    return see_other(request, "/dashboard/purposes/new")


# -- calibration ---------------------------------------------------------------------


def det_figure(calibration: Calibration) -> dict[str, Any]:
    """The calibration's DET curve (FNMR against FMR, log-scaled FMR) as SVG coordinates,
    from its measured points; with the threshold's point and the rows of a text table."""
    det = calibration.report.get("det") or {}
    fmr = [float(x) for x in det.get("fmr", [])]
    fnmr = [float(x) for x in det.get("fnmr", [])]
    width, height, left, top = 480.0, 300.0, 56.0, 16.0
    plot_w, plot_h = width - left - 16, height - top - 44
    lo = -5.0

    def x(rate: float) -> float:
        value = max(lo, math.log10(rate)) if rate > 0 else lo
        return round(left + (value - lo) / -lo * plot_w, 2)

    def y(rate: float) -> float:
        return round(top + (1 - min(1.0, max(0.0, rate))) * plot_h, 2)

    # A rate of 0 lies below what the pairs can show (1/n): it is not drawn.
    measured = [(a, b) for a, b in zip(fmr, fnmr, strict=False) if a > 0]
    points = " ".join(f"{x(a)},{y(b)}" for a, b in measured)
    target = calibration.report.get("target") or {}
    fmr_at = (target.get("fmr") or {}).get("value")
    fnmr_at = (target.get("fnmr") or {}).get("value")
    marker = ({"x": x(float(fmr_at)), "y": y(float(fnmr_at))}
              if fmr_at is not None and fnmr_at is not None else None)
    step = max(1, len(fmr) // 12)
    rows = [{"fmr": a, "fnmr": b} for a, b in list(zip(fmr, fnmr, strict=False))[::step]]
    return {"width": width, "height": height, "points": points, "marker": marker,
            "x_ticks": [{"x": x(10.0 ** e), "label": f"1e{e}"} for e in range(-5, 1)],
            "y_ticks": [{"y": y(v / 4), "label": f"{v * 25}%"} for v in range(5)],
            "axis": {"left": left, "top": top, "right": left + plot_w,
                     "bottom": top + plot_h}, "rows": rows}


def _rate(rate: Any) -> dict[str, Any] | None:
    if not rate:
        return None
    lo, hi = rate.get("ci95", [None, None])
    return {"value": rate.get("value"), "errors": rate.get("errors"),
            "trials": rate.get("trials"), "lo": lo, "hi": hi}


def calibration_view(calibration: Calibration | None) -> dict[str, Any] | None:
    """What the wizard shows of the purpose's calibration: threshold, FMR and FNMR with
    their 95% intervals, and the DET curve."""
    if calibration is None:
        return None
    target = calibration.report.get("target") or {}
    return {"c": calibration, "fmr": _rate(target.get("fmr")),
            "fnmr": _rate(target.get("fnmr")), "det": det_figure(calibration),
            "images": calibration.report.get("images"),
            "no_face": calibration.report.get("no_face")}


def _unpack(upload: bytes, into: Path) -> int:
    """Unpack a zip of one folder per person into ``into``; the number of images.

    Raises:
        InvalidArgument: not a zip, too large, too many images, a path outside its
            folder, or not one folder per person.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(upload))
    except zipfile.BadZipFile:
        raise InvalidArgument("the calibration set must be a zip file of one folder per "
                              "person", details={"field": "data"}) from None
    entries = [i for i in archive.infolist() if not i.is_dir()
               and not any(p.startswith((".", "__MACOSX")) for p in PurePosixPath(
                   i.filename).parts)]
    paths = [PurePosixPath(i.filename) for i in entries]
    if any(p.is_absolute() or ".." in p.parts or "\\" in str(p) for p in paths):
        raise InvalidArgument("the zip holds a path outside its folders",
                              details={"field": "data"})
    # A zip of one top folder holding the person folders is accepted as well.
    tops = {p.parts[0] for p in paths if len(p.parts) > 1}
    strip = 1 if len(tops) == 1 and all(len(p.parts) == 3 for p in paths) else 0
    images = [(i, PurePosixPath(*p.parts[strip:])) for i, p in zip(entries, paths, strict=True)
              if p.suffix.lower() in _IMAGE_SUFFIXES]
    if not images or any(len(p.parts) != 2 for _, p in images):
        raise InvalidArgument("the zip must hold one folder per person, each with that "
                              "person's photos", details={"field": "data"})
    if len(images) > MAX_CALIBRATION_IMAGES:
        raise InvalidArgument(f"at most {MAX_CALIBRATION_IMAGES} images per upload",
                              details={"images": len(images),
                                       "limit": MAX_CALIBRATION_IMAGES})
    unpacked = 0
    for info, path in images:
        if info.file_size > MAX_IMAGE_BYTES:
            raise InvalidArgument(f"{path} is larger than {MAX_IMAGE_BYTES // 1048576} MiB",
                                  details={"path": str(path)})
        target = into / path.parts[0] / path.parts[1]
        target.parent.mkdir(exist_ok=True)
        try:
            with archive.open(info) as src:
                data = src.read(MAX_IMAGE_BYTES + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError,
                OSError) as exc:
            raise InvalidArgument(f"{path} cannot be read from the zip: {exc}",
                                  details={"path": str(path)}) from None
        if len(data) > MAX_IMAGE_BYTES:
            raise InvalidArgument(f"{path} is larger than {MAX_IMAGE_BYTES // 1048576} MiB",
                                  details={"path": str(path)})
        unpacked += len(data)
        if unpacked > MAX_UNPACKED_BYTES:
            raise InvalidArgument(f"the photos unpack to more than "
                                  f"{MAX_UNPACKED_BYTES // 1048576} MiB",
                                  details={"limit": MAX_UNPACKED_BYTES})
        target.write_bytes(data)
    return len(images)


@router.post("/purposes/{purpose}/calibration")
async def calibrate(request: Request, purpose: str) -> Response:
    """Measure the purpose's pack on an uploaded labelled set and record it (R21). The
    photos are unpacked into a temporary folder, read, and deleted with it; nothing is
    recorded unless the whole evaluation succeeds."""
    from .dashboard import _wizard_page
    declared = request.headers.get("content-length") or "0"
    length = int(declared) if declared.isdigit() else 0
    if length > MAX_CALIBRATION_BYTES + 65536:
        raise InvalidArgument(f"a calibration upload is at most "
                              f"{MAX_CALIBRATION_BYTES // 1048576} MiB",
                              details={"bytes": length, "limit": MAX_CALIBRATION_BYTES})
    async with request.form(max_fields=8, max_files=1) as data:
        csrf = str(data.get("csrf") or "")
        population = str(data.get("population") or "").strip()[:100]
        target = str(data.get("target_fmr") or "0.001")
        upload = data.get("data")
        name = "".join(ch for ch in (upload.filename or "") if ch.isalnum() or ch in "-_.")[
            :80].removesuffix(".zip") if isinstance(upload, UploadFile) else ""
        sessions.check_form(request, csrf)
        _, key = staff(request, ApiAction.CONFIGURE, purpose)
        content = b""
        if isinstance(upload, UploadFile):
            content = await upload.read(MAX_CALIBRATION_BYTES + 1)
    try:
        if len(content) > MAX_CALIBRATION_BYTES:
            raise InvalidArgument(f"a calibration upload is at most "
                                  f"{MAX_CALIBRATION_BYTES // 1048576} MiB",
                                  details={"limit": MAX_CALIBRATION_BYTES})
        if not content:
            raise InvalidArgument("choose a zip file of labelled photos",
                                  details={"field": "data"})
        if target not in _TARGET_FMRS:
            raise InvalidArgument("choose a target false-match rate",
                                  details={"target_fmr": target})
        with tempfile.TemporaryDirectory(prefix="facegate-calibration-") as folder:
            # The set is named after the uploaded file (the calibration's dataset).
            root = Path(folder) / (name.strip(".") or "upload")
            root.mkdir()
            _unpack(content, root)
            service_of(request).call(lambda d: d.calibrate_purpose(
                purpose=purpose, data=root, population=population,
                target_fmr=float(target), operator=key.principal))
    except Error as exc:
        if isinstance(exc, Forbidden):
            raise
        return _wizard_page(request, key, purpose, error=exc, status=422)
    return see_other(request, f"/dashboard/purposes/{purpose}#calibration")


@router.post("/purposes/{purpose}/calibration/use")
def use_calibration(request: Request, purpose: str,
                    calibration: Annotated[str, Form(max_length=20)],
                    csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Run the purpose at one of its own recorded calibrations, or (``shipped``) at its
    pack's shipped calibration for its population, where the gate allows it (R21)."""
    from .dashboard import _wizard_page
    sessions.check_form(request, csrf)
    _, key = staff(request, ApiAction.CONFIGURE, purpose)
    try:
        if calibration != "shipped" and not calibration.isdigit():
            raise InvalidArgument("choose a recorded calibration or the shipped one",
                                  details={"calibration": calibration})
        chosen = None if calibration == "shipped" else int(calibration)
        service_of(request).call(lambda d: d.use_calibration(
            purpose=purpose, calibration=chosen, operator=key.principal))
    except Error as exc:
        if isinstance(exc, Forbidden):
            raise
        return _wizard_page(request, key, purpose, error=exc, status=exc.http_status)
    return see_other(request, f"/dashboard/purposes/{purpose}#calibration")


# -- review --------------------------------------------------------------------------


@router.post("/purposes/{purpose}/review")
def configure_review(request: Request, purpose: str,
                     hours: Annotated[int, Form(ge=1, le=24 * 30)] = 24,
                     reviewers: Annotated[int | None, Form(ge=1, le=5)] = None,
                     csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Every identification hit becomes a case that waits at most ``hours`` for
    ``reviewers`` distinct confirmations (at least the jurisdiction's, R19)."""
    sessions.check_form(request, csrf)
    _, key = staff(request, ApiAction.CONFIGURE, purpose)
    service_of(request).call(lambda d: d.configure_review(
        purpose=purpose, window=timedelta(hours=hours), reviewers=reviewers,
        operator=key.principal))
    return see_other(request, f"/dashboard/purposes/{purpose}#review")


@router.post("/purposes/{purpose}/reviewers")
def authorise_reviewer(request: Request, purpose: str,
                       reviewer: Annotated[str, Form(max_length=200)],
                       csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Authorise a reviewer for the purpose: a person's account (``staff:<name>``) or a
    reviewer key (``key:<id>``)."""
    from .dashboard import _wizard_page
    sessions.check_form(request, csrf)
    _, key = staff(request, ApiAction.CONFIGURE, purpose)

    def authorise(d: Any) -> object:
        if reviewer.startswith("staff:"):
            return d.authorise_reviewer_account(purpose=purpose,
                                                account=reviewer.removeprefix("staff:"),
                                                operator=key.principal)
        return d.authorise_reviewer_key(purpose=purpose, key_id=reviewer.removeprefix("key:"),
                                        operator=key.principal)
    try:
        service_of(request).call(authorise)
    except Error as exc:
        if isinstance(exc, Forbidden):
            raise
        return _wizard_page(request, key, purpose, error=exc, status=exc.http_status)
    return see_other(request, f"/dashboard/purposes/{purpose}#review")


@router.post("/purposes/{purpose}/reviewers/revoke")
def revoke_reviewer(request: Request, purpose: str,
                    reviewer: Annotated[str, Form(max_length=200)],
                    csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    sessions.check_form(request, csrf)
    _, key = staff(request, ApiAction.CONFIGURE, purpose)
    service_of(request).call(lambda d: d.revoke_reviewer(
        purpose=purpose, reviewer=reviewer, operator=key.principal))
    return see_other(request, f"/dashboard/purposes/{purpose}#review")


def review_view(request: Request, key: ApiKey, purpose: str) -> dict[str, Any]:
    """The purpose's review settings, its reviewers with their names, and the live reviewer
    accounts and keys an admin may authorise."""
    service = service_of(request)
    keys = {k.principal: k for k in [*service.call(lambda d: d.staff_accounts()),
                                     *service.call(lambda d: d.api_keys())]
            if k.role.value == "reviewer" and k.revoked_at is None}
    authorised = service.call(lambda d: d.reviewers(purpose))
    processor = service.call(lambda d: d.processor())
    minimum = (get_profile(processor.jurisdiction).reviewers_required
               if processor is not None else 1)
    settings = service.call(lambda d: d.review_settings(purpose))
    return {"settings": settings,
            "reviewers": [{"principal": r, "label": keys[r].label if r in keys else None}
                          for r in authorised],
            "candidates": [k for p, k in keys.items() if p not in authorised
                           and k.scope.covers(purpose=purpose)],
            "minimum": minimum,
            "required": settings.reviewers_required(minimum) if settings else minimum}


# -- subjects: search, withdraw, erase -----------------------------------------------


def _withdrawer(request: Request, subject: str, purpose: str) -> ApiKey:
    """The signed-in key, if it may read the subject's record (the page shows it) and
    withdraw its consent for ``purpose`` (an operator at the desk or an admin on the
    subject's request)."""
    _, key = staff(request, ApiAction.SUBJECT_REPORT, subject=subject)
    allow(request, key, ApiAction.WITHDRAW, purpose=purpose, subject=subject)
    return key


@router.get("/subjects/{subject}/withdraw")
def withdraw_page(request: Request, subject: str,
                  purpose: Annotated[str, Query(max_length=200)]) -> Response:
    """Confirm withdrawing one consent: what is deleted with it (R4)."""
    key = _withdrawer(request, subject, purpose)
    p = service_of(request).call(lambda d: d.purpose(purpose))
    return staff_page(request, key, "dashboard/confirm.html", action="withdraw",
                      subject=subject, purpose=p, error=None)


@router.post("/subjects/{subject}/withdraw")
def withdraw(request: Request, subject: str, purpose: Annotated[str, Form(max_length=200)],
             csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Withdraw the subject's consent for ``purpose`` on their request: the consent is
    recorded as withdrawn and the purpose's templates and images are deleted (R4)."""
    sessions.check_form(request, csrf)
    key = _withdrawer(request, subject, purpose)
    try:
        service_of(request).call(lambda d: d.withdraw_consent(
            subject=subject, purpose=purpose, method="written", operator=key.principal,
            reason="subject-request"))
    except Error as exc:
        if isinstance(exc, Forbidden):
            raise
        p = service_of(request).call(lambda d: d.purpose(purpose))
        return staff_page(request, key, "dashboard/confirm.html", status=exc.http_status,
                          action="withdraw", subject=subject, purpose=p, error=exc)
    return see_other(request, f"/dashboard/subjects/{subject}?done=withdrawn")


@router.get("/subjects/{subject}/erase")
def erase_page(request: Request, subject: str) -> Response:
    """Confirm erasure: everything held is destroyed, and it cannot be undone (R23)."""
    _, key = staff(request, ApiAction.ERASE, subject=subject)
    return staff_page(request, key, "dashboard/confirm.html", action="erase",
                      subject=subject, purpose=None, error=None)


@router.post("/subjects/{subject}/erase")
def erase(request: Request, subject: str,
          csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    sessions.check_form(request, csrf)
    _, key = staff(request, ApiAction.ERASE, subject=subject)
    service_of(request).call(lambda d: d.erase_subject(subject, operator=key.principal))
    return see_other(request, f"/dashboard/subjects/{subject}?done=erased")
