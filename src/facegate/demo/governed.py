"""The governed flow, end to end, on a fresh SQLite store: the README walkthrough.

:func:`run` registers a processor, a site and two purposes (each with its
bilingual notice and signed impact assessment), records one person's separate
consent, enrolls and verifies them with the real engine, shows the refusal for
a purpose they did not consent to, the non-biometric alternative for someone
who declines, the withdrawal that deletes the template, the erasure that
shreds the subject's data key, and the audit check. Each step prints
one or two lines. The photos come from the shared sample set
(``$FACEGATE_DATA`` or ``../shared/data``) or, without it, from the
public-domain astronaut photo inside scikit-image (then the second "photo" is
the same one, mirrored, and the stranger step is skipped); nothing is
downloaded and the store lives in a temporary folder that is deleted at the end.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from ..consent.alternatives import AlternativeRoute
from ..deployment import Deployment
from ..errors import PolicyRefusal
from ..purposes.models import ASSESSMENT_ITEMS

__all__ = [
    "DEMO_PROCESSOR", "DEMO_PURPOSES", "DEMO_SITE_NAME", "DEMO_THRESHOLD", "STAFF",
    "demo_assessment", "demo_notice", "demo_purpose", "find_samples", "run", "staff_photos",
]

#: The population of a calibration on the sample set's named people (the office's staff).
STAFF: Final = "office-staff (sample photos)"

#: Decision distance locked by the demo purposes: ``None`` takes the model
#: pack's shipped calibration for the population the purpose serves (see
#: docs/model-packs.md, R21).
DEMO_THRESHOLD: Final[float | None] = None

_OBAMA: Final = "identity/face_recognition/examples/obama.jpg"
_OBAMA2: Final = "identity/face_recognition/examples/obama2.jpg"
_BIDEN: Final = "identity/face_recognition/examples/biden.jpg"


def find_samples(explicit: Path | None = None) -> Path | None:
    """The ``samples`` folder of the shared data: ``explicit``, ``$FACEGATE_DATA`` or
    ``../shared/data`` (from the working directory)."""
    roots = [explicit] if explicit else []
    if os.environ.get("FACEGATE_DATA"):
        roots.append(Path(os.environ["FACEGATE_DATA"]))
    roots += [Path.cwd().parent / "shared" / "data", Path.cwd() / "shared" / "data"]
    for root in roots:
        if root is not None and (root / "samples" / _OBAMA).is_file():
            return root / "samples"
    return None


def staff_photos(samples: Path, into: Path) -> Path:
    """Lay out the named people of the sample set as a folder per person, in ``into``.

    These stand for the photos a deployer collects of the people a purpose
    serves, to calibrate its threshold (R21). Files are linked, not copied;
    anonymous identities are left out, as their overlap with named people
    cannot be checked.
    """
    seen: set[str] = set()
    with (samples / "labels.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            person = row["identities"]
            if (row["task"] != "identity" or not person or ";" in person
                    or person.startswith("deepface_id") or row["sha256"] in seen):
                continue
            seen.add(row["sha256"])
            target = into / person.replace(" ", "_") / f"{len(seen):03d}{Path(row['path']).suffix}"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to((samples / row["path"]).resolve())
    return into


#: The demo processor, in both languages (what its documents and kiosk show).
DEMO_PROCESSOR: Final[dict[str, Any]] = {
    "name": {"zh": "示例办公有限公司", "en": "Example Office Ltd"},
    "contact": {"zh": "隐私办公室，dpo@example.com", "en": "privacy office, dpo@example.com"},
    "credit_code": "91310000EXAMPLE00X",
    "province": {"zh": "上海市", "en": "Shanghai"},
    "security_measures": {"zh": "模板加密存储、访问控制、审计日志",
                          "en": "encrypted templates, access control, audit log"},
}

#: The demo's lobby, in both languages.
DEMO_SITE_NAME: Final = {"zh": "总部大堂", "en": "Head office lobby"}

#: The words of the demo purposes, in both languages: name, description, necessity,
#: legal basis and the alternative offered to anyone who declines.
DEMO_PURPOSES: Final[dict[str, dict[str, Any]]] = {
    "access.office.entry": {
        "name": {"zh": "员工门禁", "en": "staff door access"},
        "description": {"zh": "员工通过人脸识别进入办公楼。",
                        "en": "Staff enter the office building by face recognition."},
    },
    "hr.attendance": {
        "name": {"zh": "考勤记录", "en": "attendance records"},
        "description": {"zh": "记录员工的上下班时间。",
                        "en": "Staff arrival and departure times are recorded."},
    },
}
_DEMO_COMMON: Final[dict[str, Any]] = {
    "necessity": {"zh": "共享的门禁密码容易泄露；员工要求免接触通行。",
                  "en": "shared door codes leak; staff asked for hands-free entry"},
    "legal_basis": {"zh": "个人的单独同意（《个人信息保护法》第二十九条）",
                    "en": "separate consent (PIPL 29)"},
    "alternatives": [{"key": "badge", "name": {"zh": "员工卡加保安核验",
                                               "en": "staff badge with guard check"}}],
}


def demo_purpose(key: str) -> dict[str, Any]:
    """The bilingual words of the demo purpose ``key`` (``register_purpose`` arguments)."""
    return {**DEMO_PURPOSES[key], **_DEMO_COMMON}


def demo_notice() -> dict[str, dict[str, str]]:
    """The demo deployer's own words for its notices. What a purpose does (its method,
    review, retention, storage, alternative, how to withdraw) is generated from its
    records; the deployer adds what the records cannot state."""
    return {
        "accessibility": {"zh": "前台提供大字版告知书和朗读服务，工作人员可协助操作。",
                          "en": "Large-print and read-aloud versions are at reception, and "
                                "staff there help anyone who asks."},
        "other_legal_items": {"zh": "人脸信息不用于本目的以外的任何用途。",
                              "en": "Face information is used for nothing but this purpose."},
    }


def demo_assessment() -> dict[str, dict[str, str]]:
    """The demo's signed impact assessment statements (PIPL 56 items plus alternatives), in
    both languages; the records' own facts are generated beside them."""
    text = {
        "lawful_legitimate_necessary": {
            "zh": "员工门禁与考勤；以员工的单独同意为依据；不处理访客的人脸信息。",
            "en": "door access and attendance for staff; separate consent; no visitor's face "
                  "is processed"},
        "rights_impact": {"zh": "较低：员工可改用员工卡，不受任何不利对待。",
                          "en": "low: staff may use a badge instead, without penalty"},
        "security_risks": {"zh": "模板泄露或被滥用；以加密、访问控制和审计降低风险。",
                           "en": "template leakage or misuse; mitigated by encryption, access "
                                 "control and audit"},
        "protection_measures": {"zh": "访问控制、防篡改审计日志、定期清理到期模板。",
                                "en": "access control, a tamper-evident audit log, scheduled "
                                      "erasure of expired templates"},
        "alternatives_considered": {"zh": "员工卡加保安核验；密码键盘。",
                                    "en": "badge with guard check; PIN pad"},
    }
    assert set(text) == set(ASSESSMENT_ITEMS)
    return text


def run(data: Path | None = None, *, echo: Callable[[str], None],
        workdir: Path | None = None, deployment_factory: Callable[[Path], Deployment] | None = None
        ) -> int:
    """Walk through the governed flow; returns a process exit status.

    Args:
        data: the shared data folder (default: ``$FACEGATE_DATA`` or ``../shared/data``).
        echo: where each line goes.
        workdir: where to create the store (default: a temporary folder, deleted after).
        deployment_factory: opens the store (tests pass one sharing a loaded engine).
    """
    samples = find_samples(data)
    photos = _photos(samples)
    if photos is None:
        echo("facegate: demo.no_photos: set FACEGATE_DATA to the folder holding samples/, "
             "or install the demo extra (pip install 'facegate[demo]')")
        return 2
    with tempfile.TemporaryDirectory(prefix="facegate-demo-") as tmp:
        staff = staff_photos(samples, Path(tmp) / "staff") if samples else None
        db = (workdir or Path(tmp)) / "facegate-demo.db"
        return _walk(photos, staff, db, echo, deployment_factory)


Photo = tuple[str, "Path | npt.NDArray[np.uint8]"]


def _photos(samples: Path | None) -> tuple[Photo, Photo, Photo | None] | None:
    """(enrollment photo, another photo of the same person, a stranger or None)."""
    if samples is not None:
        return ((_name(_OBAMA), samples / _OBAMA), (_name(_OBAMA2), samples / _OBAMA2),
                (_name(_BIDEN), samples / _BIDEN))
    try:
        from skimage import data as skdata
    except ImportError:
        return None
    astronaut = np.asarray(skdata.astronaut(), dtype=np.uint8)  # type: ignore[no-untyped-call]
    return (("astronaut.png (scikit-image)", astronaut),
            ("astronaut.png mirrored (the same photo)", np.ascontiguousarray(astronaut[:, ::-1])),
            None)


def _name(rel: str) -> str:
    return rel.rsplit("/", 1)[-1]


def _walk(photos: tuple[Photo, Photo, Photo | None], staff: Path | None, db: Path,
          echo: Callable[[str], None], factory: Callable[[Path], Deployment] | None) -> int:
    (enroll_name, enroll_photo), same, stranger = photos
    step = iter(range(1, 100))

    def title(text: str) -> None:
        echo(f"\n== {next(step)}. {text}")

    with (factory or partial(Deployment.open, create=True))(db) as d:
        title(f"Open a fresh deployment store: {db.name}")
        p = d.register_processor(**DEMO_PROCESSOR)
        echo(f"processor: {p.name['en']} / {p.name['zh']} under {p.jurisdiction}")
        d.register_site(key="hq.lobby", name=DEMO_SITE_NAME, site_type="office")
        echo("site: hq.lobby (office, not a public place)")

        title("Register purposes, each with notice and impact assessment")
        for key, modes in (
            ("access.office.entry", ["verify", "identify"] if staff else ["verify"]),
            ("hr.attendance", ["verify"]),
        ):
            d.register_purpose(key=key, site="hq.lobby", modes=modes, retention_days=365,
                               threshold=DEMO_THRESHOLD, **demo_purpose(key))
            notice = d.publish_notice(purpose=key, content=demo_notice())
            d.sign_assessment(purpose=key, content=demo_assessment(), signed_by="DPO Li Wei")
            if "identify" in modes:
                _calibrate(d, key, staff, echo)
            d.activate_purpose(key)
            echo(f"purpose {key}: notice v{notice.version}, PIA signed, active")
            for warning in d.activation_warnings(key):
                echo(f"  warning: {warning}")
        if staff is None:
            echo("(identification needs a threshold calibrated on labelled photos of the "
                 "people served; without the sample set, door access verifies only)")

        title("A staff member gives separate consent for door access only")
        alice = d.register_subject(external_ref="staff-0042", age_band="adult")
        d.record_consent(subject=alice.id, purpose="access.office.entry", notice_version=1,
                         method="on_screen")
        echo(f"subject {alice.id} (staff-0042): consent recorded against notice v1")

        title("Enroll (the photo is processed in memory; only the template is kept)")
        d.enroll(subject=alice.id, purpose="access.office.entry", image=enroll_photo)
        echo(f"enrolled from {enroll_name}")

        title("Verify at the door")
        for name, photo in (same, stranger) if stranger else (same,):
            v = d.verify(subject=alice.id, purpose="access.office.entry", image=photo)
            assert not isinstance(v, AlternativeRoute)
            echo(f"{name}: {'match' if v.matched else 'no match'} "
                 f"(distance {v.distance:.3f}, threshold {v.threshold:.3f})")

        title("Another purpose is refused: no consent for attendance")
        try:
            d.verify(subject=alice.id, purpose="hr.attendance", image=same[1])
            echo("unexpected: allowed")
            return 1
        except PolicyRefusal as exc:
            echo(f"refused: {exc.code}: {exc.message} [{exc.citation()}]")

        title("Someone declines face recognition: the alternative, never a failure")
        bob = d.register_subject(external_ref="staff-0043", age_band="adult")
        route = d.decline(purpose="access.office.entry", subject=bob.id)
        echo(f"{route.outcome}: {', '.join(a.name['en'] for a in route.alternatives)}")
        outcome = d.record_alternative_outcome(purpose="access.office.entry",
                                               method=route.alternatives[0].key,
                                               result="verified", subject=bob.id)
        echo(f"alternative check recorded: {outcome.method} -> {outcome.result}")

        title("Withdrawal: one call, and the template is gone")
        receipt = d.withdraw_consent(subject=alice.id, purpose="access.office.entry")
        echo(f"withdrawn; {receipt.templates_deleted} template(s) deleted")
        try:
            d.verify(subject=alice.id, purpose="access.office.entry", image=same[1])
            echo("unexpected: allowed")
            return 1
        except PolicyRefusal as exc:
            echo(f"verify refused: {exc.code} [{exc.citation()}]")
        if staff is not None:
            found = d.identify(purpose="access.office.entry", image=same[1])
            echo(f"identify: {'no_match' if found.no_match else 'MATCH'} "
                 f"(gallery of {found.gallery_size})")

        title("Erasure: the subject's data key is destroyed, a receipt stays")
        erased = d.erase_subject(alice.id)
        echo(f"erased {alice.id}: {erased.consents} consent event(s), data key destroyed; "
             f"access report now: {len(d.access_report(alice.id).erasures)} receipt")

        title("The trail: hash-chained, checkpoint signed")
        events = d.audit_events()
        refusals = [e for e in events if e.name == "refusal"]
        echo(f"{len(events)} events, {len(refusals)} refusals: "
             + ", ".join(f"{e.outcome} ({e.rule})" for e in refusals))
        echo(f"audit verify: intact, {d.verify_audit().entries} entries")
    return 0


def _calibrate(d: Deployment, key: str, staff: Path | None, echo: Callable[[str], None]) -> None:
    """Show the calibration gate (R21), then calibrate on the staff photos."""
    try:
        d.activate_purpose(key)
    except PolicyRefusal as exc:
        echo(f"activation refused: {exc.code} [{exc.citation()}]")
    assert staff is not None
    people = sum(1 for p in staff.iterdir() if p.is_dir())
    echo(f"calibrating on {people} people's photos...")
    c = d.calibrate_purpose(purpose=key, data=staff, population=STAFF, target_fmr=1e-2)
    fnmr = c.summary()["fnmr"]
    echo(f"calibration {c.id}: threshold {c.threshold:.3f} for FMR {c.target_fmr:g} "
         f"({c.impostor_pairs} different-person pairs); FNMR there "
         f"{100 * fnmr['value']:.1f}% of {fnmr['trials']} same-person pairs")


