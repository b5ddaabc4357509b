"""Scopes hold (R16: access control; every refusal audited): keys of every staff role
limited to a purpose, to another purpose, to the purpose's site and to another site,
against every endpoint of the API and every page of the dashboard (key management
included), each answer checked against the scope table of docs/api.md."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from facegate.api import ApiSettings, create_app
from facegate.deployment import Deployment

from ..support.governed import add_purpose, consent
from ..support.staff import Staff, add_staff
from ..support.words import both
from .test_authorization import MATRIX, TINY

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
P, Q, R = "access.office.entry", "hr.attendance", "branch.entry"
HQ, BRANCH = "hq.lobby", "branch.lobby"
SITE_OF = {P: HQ, Q: HQ, R: BRANCH}
STAFF = ("admin", "operator", "reviewer", "auditor")
#: How each limited key is scoped: (purposes, sites); ``None`` is every one.
SCOPES: dict[str, tuple[list[str] | None, list[str] | None]] = {
    "all": (None, None), "p": ([P], None), "q": ([Q], None), "hq": (None, [HQ]),
    "branch": (None, [BRANCH])}
#: The scopes that cover purpose P (and its site).
COVER_P = {"all", "p", "hq"}
KINDS = ("notice", "pia", "access", "filing", "summary", "retention-policy")


def scope_table() -> dict[str, str]:
    """docs/api.md's scope table: ``"METHOD /path"`` -> reach."""
    text = DOCS.read_text(encoding="utf-8")
    table = text[text.index("| endpoint or page | reach |"):].split("\n\n")[0]
    rows: dict[str, str] = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        for route in re.findall(r"`([A-Z]+ /[^`]*)`", cells[0]):
            rows[route] = cells[1].strip("`")
    return rows


def covers(scope: str, purpose: str) -> bool:
    purposes, sites = SCOPES[scope]
    return ((purposes is None or purpose in purposes)
            and (sites is None or SITE_OF[purpose] in sites))


@dataclass
class World:
    """The deployment, a client, every scoped key, and the records the requests touch."""

    d: Deployment
    client: TestClient
    keys: dict[str, str]
    key_ids: dict[str, str]
    subject_p: str
    subject_r: str
    case_p: str
    #: a staff account per key, with the same role and scope, for the dashboard
    staff: dict[str, Staff]

    def headers(self, name: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[name]}

    def fresh_subject(self) -> str:
        """A subject holding records for purpose P only."""
        s = self.d.register_subject(age_band="adult").id
        consent(self.d, s, P)
        return s


@pytest.fixture
def world(books: Deployment, faces: dict[str, Path]) -> Iterator[World]:
    d = books
    d.register_site(key=BRANCH, name=both("Branch lobby"), site_type="office")
    add_purpose(d, R, site=BRANCH, modes=("verify",))
    keys: dict[str, str] = {}
    ids: dict[str, str] = {}
    staff: dict[str, Staff] = {}
    for role in STAFF:
        for name, (purposes, sites) in SCOPES.items():
            issued = d.issue_api_key(role=role, label=f"{role} {name}", purposes=purposes,
                                     sites=sites)
            keys[f"{role}_{name}"], ids[f"{role}_{name}"] = issued.secret, issued.key.id
            staff[f"{role}_{name}"] = add_staff(d, f"{role}-{name}", role, purposes=purposes,
                                                sites=sites)
    d.configure_review(purpose=P, window=timedelta(hours=1))
    for k in [*d.api_keys(), *d.staff_accounts()]:
        if k.role == "reviewer":
            d.authorise_reviewer(purpose=P, reviewer=k.principal)
    person = d.register_subject(age_band="adult").id
    consent(d, person, P)
    d.enroll(subject=person, purpose=P, image=faces["obama"])
    case = d.identify(purpose=P, image=faces["obama2"]).faces[0].candidates[0].review_case
    assert case is not None
    other = d.register_subject(age_band="adult").id
    consent(d, other, R)
    d.register_camera(id=P, site=HQ, purposes=[P])  # the camera the camera routes aim at
    app = create_app(ApiSettings(anonymous_rate_per_minute=100_000, rate_per_minute=100_000),
                     deployment=d)
    with TestClient(app, follow_redirects=False) as client:
        yield World(d=d, client=client, keys=keys, key_ids=ids, subject_p=person,
                    subject_r=other, case_p=case, staff=staff)


def _code(r: httpx.Response) -> str:
    if r.headers.get("content-type", "").startswith("application/json"):
        body = r.json()
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            return str(body["error"]["code"])
        return ""
    return "auth.forbidden" if "auth.forbidden" in r.text else ""


# -- the API ------------------------------------------------------------------------------

def _api_request(w: World, method: str, template: str) -> tuple[str, Any]:
    """A request of the endpoint aimed at purpose P (or its subject, case, challenge)."""
    if template == "/v1/purposes":
        return "/v1/purposes", {"key": P, "site": HQ, "description": "d", "necessity": "n",
                                "legal_basis": "consent", "modes": ["verify"],
                                "retention_days": 30}
    if template == "/v1/liveness/challenges/{challenge}/answer":
        challenge = w.d.liveness_challenge(purpose=P).id
        return f"/v1/liveness/challenges/{challenge}/answer", {"frames": []}
    if template.startswith("/v1/subjects/{subject}"):
        return template.replace("{subject}", w.fresh_subject()), None
    if template.startswith("/v1/review/cases/{case_id}"):
        return template.replace("{case_id}", w.case_p), MATRIX[(method, template)][1]
    path, body, _, _ = MATRIX[(method, template)]
    path = path.replace("no.such", P)
    if isinstance(body, dict):
        body = {k: (P if k == "purpose" else v) for k, v in body.items()}
    return path, body


def _allowed_roles(method: str, template: str) -> set[str]:
    return set(MATRIX[(method, template)][2])


def test_r16_the_scope_table_names_every_endpoint_and_page(world: World) -> None:
    table = scope_table()
    api = {f"{m.upper()} {path}" for path, ops in
           world.client.get("/openapi.json").json()["paths"].items() for m in ops}
    api = {r for r in api if r != "GET /v1/reports/{kind}"}
    api |= {f"GET /v1/reports/{k}" for k in KINDS}
    web = set()
    for route in world.client.app.routes:  # type: ignore[attr-defined]
        for sub in getattr(getattr(route, "original_router", None), "routes", [route]):
            path = getattr(sub, "path", "")
            if path.startswith(("/kiosk", "/dashboard", "/login", "/logout")):
                web |= {f"{m} {path}" for m in getattr(sub, "methods", ())}
    web = {r for r in web if r != "GET /dashboard/documents/{kind}"}
    web |= {f"GET /dashboard/documents/{k}" for k in KINDS}
    assert set(table) == api | web
    assert set(table.values()) <= {"purpose", "subject", "listed", "key", "deployment", "any",
                                   "none"}


def _api_check(w: World, method: str, template: str, path: str, body: Any, key: str,
               expect_refused: bool) -> str | None:
    r = w.client.request(method, path, json=body, headers=w.headers(key))
    refused = r.status_code == 403 and _code(r) == "auth.forbidden"
    if refused != expect_refused or r.status_code >= 500:
        return f"{method} {template} {key}: {r.status_code} {_code(r)}"
    return None


def test_r16_every_endpoint_keeps_its_row_of_the_scope_table(world: World) -> None:
    """Each endpoint under keys of every role that may call it, limited to P, to another
    purpose, to P's site and to another site: refused exactly as its row says."""
    w, wrong = world, []
    for route, reach in scope_table().items():
        method, template = route.split(" ", 1)
        if not template.startswith("/v1/") or reach in ("none", "listed", "key"):
            continue
        kind = template.rsplit("/", 1)[-1] if template.startswith("/v1/reports/") else None
        mtemplate = "/v1/reports/{kind}" if kind else template
        for role in sorted(_allowed_roles(method, mtemplate)):
            # out-of-scope keys first: an allowed call may change what the next one finds
            for scope in sorted(SCOPES, key=lambda s: s in COVER_P):
                if kind:
                    subject = w.fresh_subject()
                    path, body = (f"/v1/reports/{kind}?format=html&purpose={P}"
                                  f"&subject={subject}", None)
                else:
                    path, body = _api_request(w, method, template)
                refused = {"purpose": scope not in COVER_P, "subject": scope not in COVER_P,
                           "deployment": scope != "all", "any": False}[reach]
                problem = _api_check(w, method, template, path, body, f"{role}_{scope}",
                                     refused)
                if problem:
                    wrong.append(problem)
                if template.endswith("/suspend"):
                    w.d.activate_purpose(P)
    assert wrong == []


def _listed(w: World, path: str, key: str) -> str:
    r = w.client.get(path, headers=w.headers(key))
    assert r.status_code == 200, (path, key, r.status_code, r.text[:300])
    return r.text


def test_r16_lists_show_only_what_lies_in_scope(world: World) -> None:
    """Sites, purposes, review cases and the audit log: each scoped key sees its own
    purposes' items and nothing of the others."""
    w, wrong = world, []
    for scope in SCOPES:
        for role in STAFF:
            key = f"{role}_{scope}"
            seen = _listed(w, "/v1/purposes", key)
            for purpose in (P, Q, R):
                if (f'"key":"{purpose}"' in seen.replace(" ", "")) != covers(scope, purpose):
                    wrong.append(("purposes", key, purpose))
            sites = _listed(w, "/v1/sites", key)
            for site, inside in ((HQ, covers(scope, P) or covers(scope, Q)),
                                 (BRANCH, covers(scope, R))):
                if (f'"key":"{site}"' in sites.replace(" ", "")) != inside:
                    wrong.append(("sites", key, site))
            cameras = {c["id"] for c in w.client.get(
                "/v1/cameras", headers=w.headers(key)).json()["cameras"]}
            if cameras != ({P} if covers(scope, P) else set()):
                wrong.append(("cameras", key, sorted(cameras)))
        cases = w.client.get("/v1/review/cases", headers=w.headers(f"reviewer_{scope}")).json()
        if (w.case_p in {c["id"] for c in cases["cases"]}) != covers(scope, P):
            wrong.append(("cases", scope))
        events = w.client.get("/v1/audit/events?limit=1000",
                              headers=w.headers(f"auditor_{scope}")).json()["events"]
        shown = {e["purpose_key"] for e in events}
        expected = {p for p in (P, Q, R) if covers(scope, p)}
        if scope == "all":
            expected |= {None}
        if not shown <= expected or not (expected - {None, Q}) <= shown:
            wrong.append(("audit", scope, sorted(map(str, shown))))
    assert wrong == []


def test_r16_a_scoped_admin_manages_only_keys_within_its_scope(world: World) -> None:
    """Found: an admin limited to one purpose or site issued unlimited admin keys, revoked
    a global admin's key and listed every key. Now: only keys within its own scope."""
    w = world
    c, wrong = w.client, []
    for scope in SCOPES:
        admin = w.headers(f"admin_{scope}")
        purposes, sites = SCOPES[scope]
        inside = {"role": "admin", "label": "within", "purposes": purposes, "sites": sites}
        r = c.post("/v1/keys", json=inside, headers=admin)
        if r.status_code != 201:
            wrong.append(("issue within", scope, r.status_code))
        else:  # the new key lies within the issuer's scope, and it may revoke it
            made = r.json()["key"]["id"]
            if c.delete(f"/v1/keys/{made}", headers=admin).status_code != 200:
                wrong.append(("revoke within", scope))
        for role in ("admin", "operator"):
            r = c.post("/v1/keys", json={"role": role, "label": "unlimited"}, headers=admin)
            if (r.status_code == 201) != (scope == "all"):
                wrong.append(("issue unlimited", scope, role, r.status_code))
        r = c.post("/v1/keys", json={"role": "operator", "label": "other", "purposes": [R]},
                   headers=admin)
        if (r.status_code == 201) != (scope == "all"):
            wrong.append(("issue other purpose", scope, r.status_code))
        listed = {k["id"] for k in c.get("/v1/keys", headers=admin).json()["keys"]}
        if (w.key_ids["admin_all"] in listed) != (scope == "all"):
            wrong.append(("list", scope))
        if w.key_ids[f"operator_{scope}"] not in listed:
            wrong.append(("list own scope", scope))
    for scope in ("p", "q", "hq", "branch"):  # nobody scoped revokes the global admin
        r = c.delete(f"/v1/keys/{w.key_ids['admin_all']}", headers=w.headers(f"admin_{scope}"))
        if r.status_code != 403:
            wrong.append(("revoke global", scope, r.status_code))
    assert wrong == []
    assert c.get("/v1/keys", headers=w.headers("admin_all")).status_code == 200  # still live


def test_r16_a_scoped_admin_manages_only_webhooks_within_its_scope(world: World) -> None:
    """Webhook endpoints are scoped like keys: a scoped admin registers, sees and revokes
    only endpoints within its own scope, and none of an unscoped one's."""
    w = world
    c, wrong = w.client, []
    hook = {"url": "http://127.0.0.1:9/hook", "audience": "door", "label": "door"}
    unlimited = c.post("/v1/webhooks", json=hook, headers=w.headers("admin_all"))
    assert unlimited.status_code == 201, unlimited.text
    global_id = unlimited.json()["webhook"]["id"]
    for scope in ("p", "q", "hq", "branch"):
        admin = w.headers(f"admin_{scope}")
        purposes, sites = SCOPES[scope]
        r = c.post("/v1/webhooks", json={**hook, "purposes": purposes, "sites": sites},
                   headers=admin)
        if r.status_code != 201:
            wrong.append(("register within", scope, r.status_code))
            continue
        made = r.json()["webhook"]["id"]
        if c.post("/v1/webhooks", json=hook, headers=admin).status_code != 403:
            wrong.append(("register unlimited", scope))
        listed = {e["id"] for e in c.get("/v1/webhooks", headers=admin).json()["webhooks"]}
        if made not in listed or global_id in listed:
            wrong.append(("list", scope, sorted(listed)))
        if c.delete(f"/v1/webhooks/{global_id}", headers=admin).status_code != 403:
            wrong.append(("revoke global", scope))
        if c.delete(f"/v1/webhooks/{made}", headers=admin).status_code != 200:
            wrong.append(("revoke own", scope))
    assert wrong == []


def test_r16_the_subject_list_shows_a_scoped_key_only_its_subjects(world: World) -> None:
    """``GET /v1/subjects``: a key limited in scope sees the subjects whose purposes all
    lie in its scope (the one consenting to P, not the one consenting to R)."""
    w, wrong = world, []
    for scope in SCOPES:
        found = w.client.get("/v1/subjects?limit=500", headers=w.headers(f"auditor_{scope}"))
        assert found.status_code == 200, found.text
        ids = {s["id"] for s in found.json()["subjects"]}
        for subject, purpose in ((w.subject_p, P), (w.subject_r, R)):
            if (subject in ids) != covers(scope, purpose):
                wrong.append((scope, purpose))
    assert wrong == []


def test_r16_a_scoped_admin_registers_purposes_only_in_its_scope(world: World) -> None:
    """Found: scoped admins registered purposes at sites outside their scope."""
    w = world
    body = {"key": "branch.gate", "site": BRANCH, "description": "d", "necessity": "n",
            "legal_basis": "consent", "modes": ["verify"], "retention_days": 30,
            "alternatives": ["staff badge"]}
    for scope in ("p", "q", "hq"):
        r = w.client.post("/v1/purposes", json=body, headers=w.headers(f"admin_{scope}"))
        assert r.status_code == 403 and _code(r) == "auth.forbidden", scope
    r = w.client.post("/v1/purposes", json=body, headers=w.headers("admin_branch"))
    assert r.status_code == 201, r.text


def test_r16_an_operator_cannot_spend_another_purposes_liveness_challenge(
        world: World) -> None:
    """Found: an operator limited to one purpose answered another purpose's challenge,
    which burned the real kiosk's challenge (409). Now the answer is refused before it is
    read, and the challenge stays unanswered."""
    w = world
    challenge = w.client.post("/v1/liveness/challenges", json={"purpose": P},
                              headers=w.headers("operator_p")).json()["challenge"]
    frames = {"frames": [{"at": i / 10, "image": TINY} for i in range(5)]}
    for scope in ("q", "branch"):
        r = w.client.post(f"/v1/liveness/challenges/{challenge}/answer", json=frames,
                          headers=w.headers(f"operator_{scope}"))
        assert r.status_code == 403 and _code(r) == "auth.forbidden", scope
    r = w.client.post(f"/v1/liveness/challenges/{challenge}/answer", json=frames,
                      headers=w.headers("operator_p"))
    assert r.status_code != 409 and _code(r) != "liveness.challenge_used"


def test_r16_scoped_keys_reach_only_their_subjects_log_and_documents(world: World) -> None:
    """Found: keys limited to one purpose or site read the whole audit log, the filing
    status and summary, access reports of subjects outside their scope, and (admins)
    erased those subjects."""
    w, c = world, world.client
    for scope in ("q", "branch"):
        for role in ("admin", "auditor"):
            h = w.headers(f"{role}_{scope}")
            assert c.get(f"/v1/subjects/{w.subject_p}/access-report", headers=h
                         ).status_code == 403
            assert c.get("/v1/filing", headers=h).status_code == 403
            assert c.get("/v1/audit/verify", headers=h).status_code == 403
            assert c.get("/v1/reports/summary?format=html", headers=h).status_code == 403
        assert c.delete(f"/v1/subjects/{w.subject_p}",
                        headers=w.headers(f"admin_{scope}")).status_code == 403
    assert w.d.subjects()  # nobody out of scope erased anyone
    r = c.get(f"/v1/subjects/{w.subject_p}/access-report", headers=w.headers("auditor_p"))
    assert r.status_code == 200 and r.json()["report"]["subject_id"] == w.subject_p


# -- the dashboard ------------------------------------------------------------------------

def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:300]
    return found.group(1)


def _signed_in(w: World, key: str) -> tuple[TestClient, str]:
    client = TestClient(w.client.app, follow_redirects=False)  # type: ignore[arg-type]
    login = client.get("/login")
    r = client.post("/login", data={**w.staff[key].form(), "csrf": _csrf(login.text)})
    assert r.status_code == 303, r.text[:300]
    home = client.get("/dashboard/purposes/new" if key.startswith("admin") else "/login")
    return client, _csrf(home.text)


#: Dashboard pages: route -> (roles that may open it, request builder).
Build = Callable[[World, str], tuple[str, dict[str, str] | None]]
WEB: dict[str, tuple[set[str], Build]] = {
    "POST /dashboard/purposes/new": ({"admin"}, lambda w, csrf: (
        "/dashboard/purposes/new", {"csrf": csrf, "key": P, "site": HQ, "description.en": "d",
                                    "necessity.en": "n", "legal_basis.en": "consent",
                                    "retention_days": "30", "modes": "verify"})),
    "GET /dashboard/purposes/{purpose}": (set(STAFF), lambda w, csrf: (
        f"/dashboard/purposes/{P}", None)),
    "POST /dashboard/purposes/{purpose}/notice": ({"admin"}, lambda w, csrf: (
        f"/dashboard/purposes/{P}/notice", {"csrf": csrf})),
    "POST /dashboard/purposes/{purpose}/assessment": ({"admin"}, lambda w, csrf: (
        f"/dashboard/purposes/{P}/assessment", {"csrf": csrf})),
    "POST /dashboard/purposes/{purpose}/activate": ({"admin"}, lambda w, csrf: (
        f"/dashboard/purposes/{P}/activate", {"csrf": csrf})),
    "POST /dashboard/purposes/{purpose}/suspend": ({"admin"}, lambda w, csrf: (
        f"/dashboard/purposes/{P}/suspend", {"csrf": csrf})),
    "GET /dashboard/subjects/{subject}": ({"admin", "auditor"}, lambda w, csrf: (
        f"/dashboard/subjects/{w.fresh_subject()}", None)),
    "GET /dashboard/sites/new": ({"admin"}, lambda w, csrf: ("/dashboard/sites/new", None)),
    "POST /dashboard/sites/new": ({"admin"}, lambda w, csrf: (
        "/dashboard/sites/new", {"csrf": csrf, "key": "gate.north", "site_type": "office",
                                 "name.zh": "北门", "name.en": "North gate"})),
    "POST /dashboard/purposes/{purpose}/calibration": ({"admin"}, lambda w, csrf: (
        f"/dashboard/purposes/{P}/calibration", {"csrf": csrf, "population": "x"})),
    "POST /dashboard/purposes/{purpose}/calibration/use": ({"admin"}, lambda w, csrf: (
        f"/dashboard/purposes/{P}/calibration/use", {"csrf": csrf, "calibration": "999999"})),
    "POST /dashboard/purposes/{purpose}/review": ({"admin"}, lambda w, csrf: (
        f"/dashboard/purposes/{P}/review", {"csrf": csrf, "hours": "24"})),
    "POST /dashboard/purposes/{purpose}/reviewers": ({"admin"}, lambda w, csrf: (
        f"/dashboard/purposes/{P}/reviewers", {"csrf": csrf, "reviewer": "key:k_none"})),
    "POST /dashboard/purposes/{purpose}/reviewers/revoke": ({"admin"}, lambda w, csrf: (
        f"/dashboard/purposes/{P}/reviewers/revoke", {"csrf": csrf, "reviewer": "key:k_none"})),
    "GET /dashboard/subjects/{subject}/withdraw": ({"admin"}, lambda w, csrf: (
        f"/dashboard/subjects/{w.fresh_subject()}/withdraw?purpose={P}", None)),
    "POST /dashboard/subjects/{subject}/withdraw": ({"admin"}, lambda w, csrf: (
        f"/dashboard/subjects/{w.fresh_subject()}/withdraw", {"csrf": csrf, "purpose": P})),
    "GET /dashboard/subjects/{subject}/erase": ({"admin"}, lambda w, csrf: (
        f"/dashboard/subjects/{w.fresh_subject()}/erase", None)),
    "POST /dashboard/subjects/{subject}/erase": ({"admin"}, lambda w, csrf: (
        f"/dashboard/subjects/{w.fresh_subject()}/erase", {"csrf": csrf})),
    "POST /dashboard/review/{case_id}/confirm": ({"reviewer"}, lambda w, csrf: (
        f"/dashboard/review/{w.case_p}/confirm", {"csrf": csrf, "reason": "same"})),
    "POST /dashboard/review/{case_id}/reject": ({"reviewer"}, lambda w, csrf: (
        f"/dashboard/review/{w.case_p}/reject", {"csrf": csrf, "reason": "other"})),
    "POST /dashboard/review/{case_id}/act": ({"operator"}, lambda w, csrf: (
        f"/dashboard/review/{w.case_p}/act", {"csrf": csrf, "action": "open"})),
    "GET /dashboard/filing": ({"admin", "auditor"}, lambda w, csrf: (
        "/dashboard/filing", None)),
}
for _kind in KINDS:
    WEB[f"GET /dashboard/documents/{_kind}"] = ({"admin", "auditor"}, lambda w, csrf, k=_kind: (
        f"/dashboard/documents/{k}?format=html&purpose={P}&subject={w.fresh_subject()}",
        None))


def test_r16_every_dashboard_page_keeps_its_row_of_the_scope_table(world: World) -> None:
    w, wrong = world, []
    table = scope_table()
    sessions = {f"{role}_{scope}": _signed_in(w, f"{role}_{scope}")
                for role in STAFF for scope in SCOPES}
    # Lists: the overview, the purpose form's sites, subjects, the review queue, the audit
    # log, the documents, the keys and the kiosk's set-up show only what lies in scope.
    for scope in SCOPES:
        admin, _ = sessions[f"admin_{scope}"]
        overview = admin.get("/dashboard").text
        for purpose in (P, Q, R):
            if (f">{purpose}<" in overview) != covers(scope, purpose):
                wrong.append(("overview", scope, purpose))
        form = admin.get("/dashboard/purposes/new").text
        if (f'value="{BRANCH}"' in form) != covers(scope, R):
            wrong.append(("new purpose sites", scope))
        subjects = admin.get("/dashboard/subjects").text
        if (w.subject_p in subjects) != covers(scope, P) or (
                w.subject_r in subjects) != covers(scope, R):
            wrong.append(("subjects", scope))
        reviewer, _ = sessions[f"reviewer_{scope}"]
        if (w.case_p in reviewer.get("/dashboard/review").text) != covers(scope, P):
            wrong.append(("review", scope))
        auditor, _ = sessions[f"auditor_{scope}"]
        log = auditor.get("/dashboard/audit?name=consent-granted").text
        for purpose in (P, R):
            if (f">{purpose}<" in log) != covers(scope, purpose):
                wrong.append(("audit log", scope, purpose))
        if ('data-chain="verified"' in log) != (scope == "all"):
            wrong.append(("chain", scope))
        documents = auditor.get("/dashboard/documents").text
        if ("/dashboard/documents/summary" in documents) != (scope == "all"):
            wrong.append(("documents", scope))
        keys = admin.get("/dashboard/keys").text
        if (w.key_ids["admin_all"] in keys) != (scope == "all"):
            wrong.append(("keys", scope))
        operator, _ = _signed_in(w, f"operator_{scope}")
        setup = operator.get("/kiosk/setup").text
        for purpose in (P, R):
            if (f'value="{purpose}"' in setup) != covers(scope, purpose):
                wrong.append(("kiosk setup", scope, purpose))
        r = operator.post("/kiosk/setup", data={"purpose": P, "csrf": _csrf(setup)})
        if (r.status_code == 303) != covers(scope, P):
            wrong.append(("kiosk setup post", scope, r.status_code))
    for route, (roles, build) in WEB.items():
        reach = table[route]
        method = route.split(" ", 1)[0]
        for role in sorted(roles):
            for scope in sorted(SCOPES, key=lambda s: s in COVER_P):
                client, csrf = sessions[f"{role}_{scope}"]
                path, form = build(w, csrf)
                r = client.request(method, path, data=form)
                refused = r.status_code == 403 and "auth.forbidden" in r.text
                expected = {"purpose": scope not in COVER_P, "subject": scope not in COVER_P,
                            "deployment": scope != "all"}[reach]
                if refused != expected or r.status_code >= 500 or r.status_code == 401:
                    wrong.append((route, role, scope, r.status_code))
                if "suspend" in route:
                    w.d.activate_purpose(P)
    assert wrong == []


def test_r16_the_dashboards_keys_page_manages_only_keys_within_scope(world: World) -> None:
    w = world
    for scope in ("p", "hq", "branch"):
        client, csrf = _signed_in(w, f"admin_{scope}")
        unlimited = client.post("/dashboard/keys", data={"csrf": csrf, "role": "admin",
                                                         "label": "unlimited"})
        assert unlimited.status_code == 403, scope
        revoke = client.post(f"/dashboard/keys/{w.key_ids['admin_all']}/revoke",
                             data={"csrf": csrf})
        assert revoke.status_code == 403, scope
    client, csrf = _signed_in(w, "admin_p")
    made = client.post("/dashboard/keys", data={"csrf": csrf, "role": "operator",
                                                "label": "kiosk 2", "purposes": P})
    assert made.status_code == 200 and "data-secret" in made.text
    assert w.d.api_key(w.key_ids["admin_all"]).revoked_at is None
