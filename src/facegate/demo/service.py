"""A demo deployment for ``facegate serve --demo``: books, a live purpose and keys.

On a store without a processor it registers an example processor, a lobby
site and the ``access.office.entry`` purpose (serving East-Asian adults, on
the best-measured installed pack: the ArcFace pack when it is installed) with
its bilingual notice and signed impact assessment; with the shared data the
purpose also identifies and its hits wait for review (R19). Its threshold is
calibrated on the people it serves (R21): the East-Asian development set, every
pair, at FMR 0.1% (the sample staff photos only where that set is absent);
without the shared data it verifies at its pack's shipped East-Asian
calibration. It then issues one key per role (for machines: curl, the kiosk
device) and writes them, mode 0600, to ``<db>.demo-keys.json``, and adds a named
staff account per person (admin, two reviewers, auditor: for the dashboard,
password and TOTP), written, mode 0600, to ``<db>.demo-keys.staff.json``
(:func:`staff_file`); a store already set up keeps its books, keys and accounts.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from secrets import token_urlsafe
from typing import Final

from ..deployment import Deployment
from .governed import (
    DEMO_PROCESSOR,
    DEMO_SITE_NAME,
    STAFF,
    demo_assessment,
    demo_notice,
    demo_purpose,
    find_samples,
    staff_photos,
)

__all__ = ["DEMO_PURPOSE", "prepare_demo", "staff_file"]

DEMO_PURPOSE: Final = "access.office.entry"
_ROLES: Final = (("admin", "demo administrator"), ("operator", "lobby door controller"),
                 ("reviewer", "reviewer Wang"), ("reviewer", "reviewer Chen"),
                 ("auditor", "external auditor"))


#: The demo's people: (account name, display name, role).
_STAFF: Final = (("li", "李伟 Li Wei", "admin"), ("wang", "王芳 Wang Fang", "reviewer"),
                 ("chen", "陈静 Chen Jing", "reviewer"), ("zhao", "赵强 Zhao Qiang", "auditor"))


def staff_file(keys_file: Path) -> Path:
    """Where the demo's staff accounts (name, password, TOTP secret) are written."""
    return keys_file.with_suffix(".staff.json")


def _write_private(path: Path, data: object) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, ensure_ascii=False)


def _every_pair(dataset: Path, into: Path) -> Path:
    """``dataset``'s folder per person, without its pairs file, so that every pair is
    measured (about a million different-person pairs for the East-Asian set: a steadier
    FMR-0.1% threshold than its 3,000 listed ones). Files are linked, not copied."""
    for person in sorted(p for p in dataset.iterdir() if p.is_dir()):
        (into / person.name).mkdir(parents=True)
        for photo in sorted(person.glob("*.jpg")):
            (into / person.name / photo.name).symlink_to(photo.resolve())
    return into


def prepare_demo(d: Deployment, keys_file: Path, *, data: Path | None = None,
                 echo: Callable[[str], None] = print) -> dict[str, str]:
    """Set the demo books up once; returns ``label -> secret`` of the demo keys."""
    if keys_file.exists():
        stored: dict[str, str] = json.loads(keys_file.read_text("utf-8"))
        echo(f"demo deployment already set up; keys in {keys_file}")
        return stored
    samples = find_samples(data)
    d.register_processor(**DEMO_PROCESSOR)
    d.register_site(key="hq.lobby", name=DEMO_SITE_NAME, site_type="office")
    modes = ["verify", "identify"] if samples else ["verify"]
    d.register_purpose(key=DEMO_PURPOSE, site="hq.lobby", modes=modes, retention_days=365,
                       **demo_purpose(DEMO_PURPOSE))
    d.publish_notice(purpose=DEMO_PURPOSE, content=demo_notice())
    d.sign_assessment(purpose=DEMO_PURPOSE, content=demo_assessment(), signed_by="DPO Li Wei")
    if samples is not None:
        eastasian = samples.parent / "eastasian" / "thefamouspeople_eastasian"
        with tempfile.TemporaryDirectory(prefix="facegate-staff-") as tmp:
            if eastasian.is_dir():
                echo("calibrating door access on the East-Asian development set, the "
                     "population it serves (R21; once, about a minute)...")
                c = d.calibrate_purpose(purpose=DEMO_PURPOSE,
                                        data=_every_pair(eastasian, Path(tmp)),
                                        population="east-asian-adults (development set)",
                                        target_fmr=1e-3)
            else:
                echo("calibrating door access on the sample staff photos (R21)...")
                c = d.calibrate_purpose(purpose=DEMO_PURPOSE,
                                        data=staff_photos(samples, Path(tmp)),
                                        population=STAFF, target_fmr=1e-2)
            echo(f"{c.pack} threshold {c.threshold:.4f} at FMR {c.target_fmr:g}")
        d.configure_review(purpose=DEMO_PURPOSE, window=timedelta(hours=1), reviewers=2)
    d.activate_purpose(DEMO_PURPOSE)
    secrets: dict[str, str] = {}
    for role, label in _ROLES:
        issued = d.issue_api_key(role=role, label=label)
        secrets[label] = issued.secret
        if role == "reviewer" and samples is not None:
            d.authorise_reviewer_key(purpose=DEMO_PURPOSE, key_id=issued.key.id)
    people: dict[str, dict[str, str]] = {}
    for name, display, role in _STAFF:
        password = token_urlsafe(12)
        made = d.add_staff(name=name, display_name=display, role=role, password=password)
        if role == "reviewer" and samples is not None:
            d.authorise_reviewer_account(purpose=DEMO_PURPOSE, account=name)
        people[name] = {"role": role, "password": password, "totp_secret": made.totp_secret,
                        "totp_uri": made.provisioning_uri}
    keys_file.parent.mkdir(parents=True, exist_ok=True)
    _write_private(keys_file, secrets)
    _write_private(staff_file(keys_file), people)
    echo(f"demo deployment ready: purpose {DEMO_PURPOSE} ({', '.join(modes)}); "
         f"keys written to {keys_file} (mode 0600)")
    return secrets
