"""The admin journey's actions, by role: each page shows only the actions the signed-in
key's role and scope allow, and posting one anyway is refused (403) and audited.

Through the application (no browser), over the ``books`` deployment: an admin, an
auditor and a reviewer (named accounts), the kiosk's operator key (scoped to one purpose)
and an admin account scoped to the other purpose."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Final

import pytest
from fastapi.testclient import TestClient

from facegate.api import ApiSettings, create_app
from facegate.deployment import Deployment
from facegate.subjects.models import AgeBand

from ..support.governed import consent, population_evaluation
from ..support.staff import Staff, add_staff
from .conftest import web_keys, web_staff
from .test_sessions import Site, csrf_of, sign_in

DOOR: Final = "access.office.entry"
HR: Final = "hr.attendance"

#: Every action of the journey: a marker of its control in the page, and how to post it.
ACTIONS: Final = {
    "register-site": ('action="/dashboard/sites/new"', "/dashboard/sites/new"),
    "calibrate": (f'action="/dashboard/purposes/{DOOR}/calibration"',
                  f"/dashboard/purposes/{DOOR}/calibration"),
    "review": (f'action="/dashboard/purposes/{DOOR}/review"',
               f"/dashboard/purposes/{DOOR}/review"),
    "authorise": (f'action="/dashboard/purposes/{DOOR}/reviewers"',
                  f"/dashboard/purposes/{DOOR}/reviewers"),
    "activate": (f'action="/dashboard/purposes/{DOOR}/suspend"',
                 f"/dashboard/purposes/{DOOR}/suspend"),
    "withdraw": ("/withdraw?purpose=", "/dashboard/subjects/{s}/withdraw"),
    "erase": ("/erase\"", "/dashboard/subjects/{s}/erase"),
}

#: What each key may do of :data:`ACTIONS` (the scoped admin holds only ``hr.attendance``).
MAY: Final = {
    "admin": set(ACTIONS),
    "auditor": set(),
    "reviewer": set(),
    "kiosk": set(),
    "hr-admin": set(),
}


@pytest.fixture
def site(books: Deployment) -> Iterator[Site]:
    staff = web_staff(books)
    staff["hr-admin"] = add_staff(books, "hr", "admin", purposes=[HR])
    app = create_app(ApiSettings(anonymous_rate_per_minute=100_000), deployment=books)
    yield Site(app=app, deployment=books, keys=web_keys(books), staff=staff)


def who_signs_in(site: Site, who: str) -> Staff | str:
    """A person's account; the kiosk, a device, signs in with its operator key."""
    return site.keys[who] if who == "kiosk" else site.staff[who]


def principal(site: Site, who: str) -> str:
    """How the audit log names who signed in."""
    if who == "kiosk":
        return next(k.principal for k in site.deployment.api_keys() if k.label == "Lobby kiosk")
    return f"staff:{site.staff[who].name}"


def _pages(c: TestClient, subject: str) -> str:
    """Every page of the journey this key can open, joined (a refused page adds
    nothing)."""
    html = []
    for path in ("/dashboard", "/dashboard/sites/new", f"/dashboard/purposes/{DOOR}",
                 "/dashboard/subjects", f"/dashboard/subjects/{subject}",
                 f"/dashboard/subjects/{subject}/withdraw?purpose={DOOR}",
                 f"/dashboard/subjects/{subject}/erase"):
        r = c.get(path)
        assert r.status_code in (200, 403), (path, r.status_code)
        if r.status_code == 200:
            html.append(r.text)
    return "\n".join(html)


def _post(c: TestClient, action: str, path: str, csrf: str) -> int:
    data = {"csrf": csrf, "purpose": DOOR, "reviewer": "key:k_none", "hours": "24",
            "key": "x.y", "site_type": "office", "name.zh": "甲", "name.en": "A"}
    files = None
    if action == "calibrate":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr("a/1.jpg", b"not a photo")
        files = {"data": ("set.zip", buffer.getvalue(), "application/zip")}
        data = {"csrf": csrf, "population": "east-asian-adults", "target_fmr": "0.001"}
    return c.post(path, data=data, files=files).status_code


@pytest.mark.parametrize("who", sorted(MAY))
def test_a_key_is_shown_only_the_journey_actions_it_may_take_and_is_refused_the_rest(
        site: Site, who: str) -> None:
    d = site.deployment
    person = d.register_subject(external_ref="EMP-7", age_band=AgeBand.ADULT)
    consent(d, person.id, DOOR)
    with site.client() as c:
        csrf = sign_in(c, who_signs_in(site, who))
        html = _pages(c, person.id)
        for action, (marker, _) in ACTIONS.items():
            shown = marker in html
            assert shown == (action in MAY[who]), (who, action, shown)
        if who == "admin":
            assert "EMP-7" in html  # the deployer's reference, where the role may read it
            return
        actor = principal(site, who)
        for action, (_, path) in ACTIONS.items():
            before = len([e for e in d.audit_events("refusal") if e.operator == actor])
            status = _post(c, action, path.format(s=person.id), csrf)
            after = [e for e in d.audit_events("refusal") if e.operator == actor]
            assert status == 403, (who, action, status)
            assert len(after) == before + 1 and after[-1].outcome == "auth.forbidden", \
                (who, action)
    # Nothing was changed by the refused posts.
    assert d.find_subjects(external_ref="EMP-7") == [person]
    assert d.consents(person.id)[-1].kind == "granted"
    assert [s.key for s in d.sites()] == ["hq.lobby"]
    assert d.review_settings(DOOR) is None


def test_a_scoped_admin_configures_its_own_purpose_only(site: Site) -> None:
    d = site.deployment
    with site.client() as c:
        csrf = sign_in(c, site.staff["hr-admin"])
        page = c.get(f"/dashboard/purposes/{HR}").text
        assert f'action="/dashboard/purposes/{HR}/review"' in page
        assert f'action="/dashboard/purposes/{HR}/calibration"' in page
        assert "/dashboard/sites/new" not in c.get("/dashboard").text
        assert c.post(f"/dashboard/purposes/{HR}/review",
                      data={"csrf": csrf, "hours": "12"}).status_code == 303
    settings = d.review_settings(HR)
    assert settings is not None and settings.window_seconds == 12 * 3600


def test_a_bad_calibration_upload_is_a_typed_refusal_and_records_nothing(site: Site) -> None:
    d = site.deployment
    before = len(d.calibrations(DOOR))
    cases = {
        "not a zip": b"PK not really",
        "a path outside": _zip({"../evil/1.jpg": b"x"}),
        "no folders": _zip({"1.jpg": b"x"}),
        "too many images": _zip({f"p{i}/{i}.jpg": b"x" for i in range(601)}),
    }
    with site.client() as c:
        csrf = sign_in(c, site.staff["admin"])
        for why, content in cases.items():
            r = c.post(f"/dashboard/purposes/{DOOR}/calibration",
                       data={"csrf": csrf, "population": "east-asian-adults",
                             "target_fmr": "0.001"},
                       files={"data": ("set.zip", content, "application/zip")})
            assert r.status_code == 422, why
            assert re.search(r"\[argument\.invalid", r.text), why
    assert len(d.calibrations(DOOR)) == before


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buffer.getvalue()


def test_the_subject_search_finds_by_reference_and_the_reference_is_not_audited(
        site: Site) -> None:
    d = site.deployment
    person = d.register_subject(external_ref="EMP-9", age_band=AgeBand.ADULT)
    d.register_subject(external_ref="EMP-10", age_band=AgeBand.ADULT)
    with site.client() as c:
        sign_in(c, site.staff["auditor"])
        page = c.get("/dashboard/subjects", params={"external_ref": "EMP-9"}).text
    assert person.id in page and "EMP-10" not in page
    listed = d.audit_events("subjects-listed")[-1]
    assert listed.detail == {"count": 1, "by_external_ref": True}
    assert "EMP-9" not in str(listed.detail)
    assert csrf_of(page)


def test_an_admin_picks_a_stored_calibration_where_the_gate_allows_it(site: Site) -> None:
    d = site.deployment
    first = d.purpose(DOOR).calibration_id
    assert first is not None
    second = d.record_calibration(purpose=DOOR, evaluation=population_evaluation(
        d.analyzer_for(d.purpose(DOOR).pack)), population="east-asian-adults")
    assert d.purpose(DOOR).calibration_id == second.id
    with site.client() as c:
        csrf = sign_in(c, site.staff["admin"])
        page = c.get(f"/dashboard/purposes/{DOOR}").text
        assert f'name="calibration" value="{first}"' in page
        # An identification purpose cannot drop to the shipped calibration (R21).
        r = c.post(f"/dashboard/purposes/{DOOR}/calibration/use",
                   data={"csrf": csrf, "calibration": "shipped"})
        assert r.status_code == 409 and "calibration.missing" in r.text and "R21" in r.text
        assert d.purpose(DOOR).calibration_id == second.id
        # It may go back to its earlier calibration of the same pack.
        r = c.post(f"/dashboard/purposes/{DOOR}/calibration/use",
                   data={"csrf": csrf, "calibration": str(first)})
        assert r.status_code == 303
        assert d.purpose(DOOR).calibration_id == first
        # Another purpose's calibration is refused.
        r = c.post(f"/dashboard/purposes/{HR}/calibration/use",
                   data={"csrf": csrf, "calibration": str(first)})
        assert r.status_code == 400 and "argument.invalid" in r.text
        # A verification purpose may go back to the shipped calibration for its population.
        d.record_calibration(purpose=HR, evaluation=population_evaluation(
            d.analyzer_for(d.purpose(HR).pack)), population="east-asian-adults")
        assert 'name="calibration" value="shipped"' in c.get(f"/dashboard/purposes/{HR}").text
        assert 'name="calibration" value="shipped"' not in c.get(
            f"/dashboard/purposes/{DOOR}").text
        r = c.post(f"/dashboard/purposes/{HR}/calibration/use",
                   data={"csrf": csrf, "calibration": "shipped"})
        assert r.status_code == 303
    assert d.purpose(HR).calibration_id is None
    chosen = [e for e in d.audit_events("calibration-chosen")]
    assert [e.detail["calibration"] for e in chosen] == [first, None]


def test_a_reviewer_is_shown_only_the_cases_it_is_authorised_to_decide(
        site: Site, faces: dict[str, Path]) -> None:
    d = site.deployment
    d.configure_review(purpose=DOOR, window=timedelta(hours=1))
    d.authorise_reviewer(purpose=DOOR, reviewer=f"staff:{site.staff['reviewer'].name}")
    person = d.register_subject(age_band=AgeBand.ADULT)
    consent(d, person.id, DOOR)
    d.enroll(subject=person.id, purpose=DOOR, image=faces["obama"])
    case = d.identify(purpose=DOOR, image=faces["obama2"]).faces[0].candidates[0].review_case
    assert case is not None
    with site.client() as c:
        sign_in(c, site.staff["reviewer"])
        assert f"/dashboard/review/{case}/confirm" in c.get("/dashboard/review").text
    with site.client() as c:
        csrf = sign_in(c, site.staff["reviewer2"])  # not authorised for the purpose
        queue = c.get("/dashboard/review").text
        assert case not in queue and "/confirm" not in queue
        r = c.post(f"/dashboard/review/{case}/confirm", data={"csrf": csrf, "reason": "same"})
        assert r.status_code == 409 and "review.reviewer_not_authorised" in r.text
    assert d.review_case(case).status == "pending"
