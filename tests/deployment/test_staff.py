"""Named staff accounts: an argon2id password and a sealed TOTP secret, codes never
accepted twice, failed sign-ins locked out and audited, disabled accounts refused; two
accounts are two reviewers (R19), and a purpose's review can bar its own people."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest

from facegate.access.accounts import LOCKOUT_SECONDS, MAX_FAILURES, TOTP_STEP
from facegate.deployment import Deployment
from facegate.errors import (
    AlreadyRegistered,
    CredentialInvalid,
    Error,
    Forbidden,
    RateLimited,
    ReviewerBarred,
    ReviewerRepeated,
)

from ..support.asserts import assert_refused
from ..support.governed import add_purpose, consent
from ..support.words import both

PASSWORD = "correct horse battery"
WATCH = "access.lab.entry"
EU = "eu-gdpr-ai-act"


def _code(secret: str, at: float) -> str:
    return pyotp.TOTP(secret, interval=TOTP_STEP).at(at)


def _refusals(d: Deployment) -> list[str]:
    return [str(e.detail.get("reason")) for e in d.audit_events("refusal")
            if e.detail.get("action") == "staff-sign-in"]


def test_a_password_is_kept_as_argon2id_and_the_totp_secret_only_sealed(
        books: Deployment, tmp_path: Path) -> None:
    made = books.add_staff(name="wang", display_name="Wang Fang", role="reviewer",
                           password=PASSWORD, purposes=["access.office.entry"])
    assert made.account.principal == "staff:wang" and made.account.label == "Wang Fang"
    assert made.provisioning_uri.startswith("otpauth://totp/facegate:wang?secret=")
    stored = books.connection.execute(
        "SELECT password_hash, totp_sealed FROM staff_accounts").fetchone()
    assert str(stored[0]).startswith("$argon2id$") and PASSWORD not in str(stored[0])
    assert made.totp_secret.encode() not in bytes(stored[1])
    assert "staff-account-added" in {e.name for e in books.audit_events()}
    books.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.rglob("facegate.db*")
                   if not p.name.endswith(".keys"))
    assert made.totp_secret.encode() not in raw and PASSWORD.encode() not in raw


@pytest.mark.both_stores
def test_sign_in_needs_password_and_code_and_a_code_is_never_accepted_twice(
        books: Deployment) -> None:
    made = books.add_staff(name="wang", display_name="Wang", role="reviewer",
                           password=PASSWORD)
    now = time.time()
    with pytest.raises(CredentialInvalid):
        books.sign_in_staff(name="wang", password="wrong password!", client="t",
                            code=_code(made.totp_secret, now), now=now)
    with pytest.raises(CredentialInvalid):
        books.sign_in_staff(name="wang", password=PASSWORD, code="000000", client="t",
                            now=now)
    with pytest.raises(CredentialInvalid):
        books.sign_in_staff(name="nobody", password=PASSWORD, client="t",
                            code=_code(made.totp_secret, now), now=now)
    account = books.sign_in_staff(name="wang", password=PASSWORD, client="t",
                                  code=_code(made.totp_secret, now), now=now)
    assert (account.principal, account.role) == ("staff:wang", "reviewer")
    # The same code again, within its window: refused (a code seen over a shoulder or
    # from a proxy's log cannot be replayed); an older one too.
    with pytest.raises(CredentialInvalid):
        books.sign_in_staff(name="wang", password=PASSWORD, client="t",
                            code=_code(made.totp_secret, now), now=now + 5)
    with pytest.raises(CredentialInvalid):
        books.sign_in_staff(name="wang", password=PASSWORD, client="t",
                            code=_code(made.totp_secret, now - TOTP_STEP), now=now + 5)
    later = now + 2 * TOTP_STEP
    books.sign_in_staff(name="wang", password=PASSWORD, client="t",
                        code=_code(made.totp_secret, later), now=later)
    assert _refusals(books) == ["password", "code", "unknown", "code-replayed",
                                "code-replayed"]
    assert [e.operator for e in books.audit_events("staff-signed-in")] == ["staff:wang"] * 2


def test_failed_sign_ins_lock_the_account_and_are_audited(books: Deployment) -> None:
    made = books.add_staff(name="wang", display_name="Wang", role="reviewer",
                           password=PASSWORD)
    now = time.time()
    for _ in range(MAX_FAILURES):
        with pytest.raises(CredentialInvalid):
            books.sign_in_staff(name="wang", password="guess-guess-guess", code="123456",
                                client="10.0.0.9", now=now)
    with pytest.raises(RateLimited) as locked:
        books.sign_in_staff(name="wang", password=PASSWORD, client="10.0.0.9",
                            code=_code(made.totp_secret, now), now=now)
    assert 0 < locked.value.details["retry_after"] <= LOCKOUT_SECONDS + 1
    assert _refusals(books)[-2:] == ["password; locked", "locked"]
    assert all(e.operator == "client:10.0.0.9" for e in books.audit_events("refusal"))
    after = now + LOCKOUT_SECONDS + 1
    books.sign_in_staff(name="wang", password=PASSWORD, client="10.0.0.9",
                        code=_code(made.totp_secret, after), now=after)


@pytest.mark.both_stores
def test_a_disabled_account_cannot_sign_in_until_enabled(books: Deployment) -> None:
    made = books.add_staff(name="chen", display_name="Chen", role="auditor",
                           password=PASSWORD)
    books.disable_staff("chen", operator="staff:boss")
    assert books.staff_account("chen").disabled
    now = time.time()
    with pytest.raises(CredentialInvalid):
        books.sign_in_staff(name="chen", password=PASSWORD, client="t",
                            code=_code(made.totp_secret, now), now=now)
    assert _refusals(books) == ["disabled"]
    books.enable_staff("chen", operator="staff:boss")
    books.sign_in_staff(name="chen", password=PASSWORD, client="t",
                        code=_code(made.totp_secret, now), now=now)
    assert [(e.name, e.operator, e.detail["account"]) for e in books.audit_events()
            if e.name.startswith("staff-account-")][1:] == [
        ("staff-account-disabled", "staff:boss", "staff:chen"),
        ("staff-account-enabled", "staff:boss", "staff:chen")]


def test_names_roles_scopes_and_passwords_are_checked(books: Deployment) -> None:
    books.add_staff(name="wang", display_name="Wang", role="admin", password=PASSWORD)
    with pytest.raises(AlreadyRegistered):
        books.add_staff(name="wang", display_name="Other", role="auditor", password=PASSWORD)
    for bad in ({"name": "Wang Fang"}, {"role": "subject"}, {"password": "short"},
                {"display_name": " "}, {"purposes": ["no.such.purpose"]}):
        spec = {"name": "li", "display_name": "Li", "role": "reviewer",
                "password": PASSWORD, **bad}
        with pytest.raises(Error) as refused:
            books.add_staff(**spec)  # type: ignore[arg-type]
        assert refused.value.code in ("argument.invalid", "purpose.not_registered"), bad
    assert [a.name for a in books.staff_accounts()] == ["wang"]


def test_an_account_has_a_keys_role_and_scope(books: Deployment) -> None:
    from facegate.access import ApiAction, authorize
    made = books.add_staff(name="wang", display_name="Wang", role="reviewer",
                           password=PASSWORD, purposes=["access.office.entry"])
    authorize(made.account, ApiAction.REVIEW, purpose="access.office.entry")
    with pytest.raises(Forbidden, match="a reviewer account may not"):
        authorize(made.account, ApiAction.BIOMETRIC, purpose="access.office.entry")
    with pytest.raises(Forbidden, match="outside"):
        authorize(made.account, ApiAction.REVIEW, purpose="hr.attendance")


def test_the_totp_secret_survives_key_rotation(books: Deployment) -> None:
    made = books.add_staff(name="wang", display_name="Wang", role="reviewer",
                           password=PASSWORD)
    old = books.connection.execute("SELECT kek_id FROM staff_accounts").fetchone()[0]
    rotation = books.rotate_keys()
    new = books.connection.execute("SELECT kek_id FROM staff_accounts").fetchone()[0]
    assert new == rotation.kek != old and old in rotation.retired
    now = time.time()
    books.sign_in_staff(name="wang", password=PASSWORD, client="t",
                        code=_code(made.totp_secret, now), now=now)
    books.check_store()


@pytest.fixture
def eu(open_deployment: Callable[..., Deployment], faces: dict[str, Path]) -> Deployment:
    """An EU deployment (two reviewers); the purpose registered by staff:boss."""
    d = open_deployment()
    d.register_processor(name=both("Example Ltd"), contact=both("dpo@example.com"),
                         credit_code="91310000EXAMPLE00X", jurisdiction=EU,
                         province=both("Shanghai"), security_measures=both("device storage"))
    d.register_site(key="hq.lobby", name=both("Lobby"), site_type="office")
    add_purpose(d, WATCH, operator="staff:boss")
    for name in ("wang", "chen", "boss", "desk"):
        d.add_staff(name=name, display_name=name.title(), role="reviewer", password=PASSWORD)
        d.authorise_reviewer_account(purpose=WATCH, account=name)
    s = d.register_subject(age_band="adult")
    consent(d, s.id, WATCH, method="written")
    d.enroll(subject=s.id, purpose=WATCH, image=faces["obama"])
    return d


def _case(d: Deployment, faces: dict[str, Path], operator: str = "system") -> str:
    (candidate,) = d.identify(purpose=WATCH, image=faces["obama2"],
                              operator=operator).candidates
    assert candidate.review_case is not None
    return candidate.review_case


def test_r19_two_accounts_confirm_and_the_same_account_cannot_twice(
        eu: Deployment, faces: dict[str, Path]) -> None:
    eu.configure_review(purpose=WATCH, window=timedelta(hours=2))
    case = _case(eu, faces)
    assert eu.confirm_case(case, reviewer="staff:wang", reason="same face").status == "pending"
    with pytest.raises(ReviewerRepeated) as repeated:
        eu.confirm_case(case, reviewer="staff:wang", reason="still the same")
    assert_refused(repeated.value, "review.same_reviewer", "R19", EU)
    done = eu.confirm_case(case, reviewer="staff:chen", reason="agree")
    assert (done.status, set(done.reviewers)) == ("confirmed", {"staff:wang", "staff:chen"})
    assert [e.operator for e in eu.audit_events("review-confirm")] == ["staff:wang",
                                                                       "staff:chen"]


def test_r19_a_review_can_bar_the_purposes_creator_and_the_identifications_operator(
        eu: Deployment, faces: dict[str, Path]) -> None:
    eu.configure_review(purpose=WATCH, window=timedelta(hours=2))
    open_case = _case(eu, faces, operator="staff:desk")
    # Not barred by default: the creator may review.
    eu.confirm_case(open_case, reviewer="staff:boss", reason="same face")
    eu.configure_review(purpose=WATCH, window=timedelta(hours=2), bar_own=True)
    assert eu.review_settings(WATCH).bar_own  # type: ignore[union-attr]
    case = _case(eu, faces, operator="staff:desk")
    for who, why in (("staff:boss", "registered the purpose"),
                     ("staff:desk", "ran the identification")):
        with pytest.raises(ReviewerBarred) as barred:
            eu.confirm_case(case, reviewer=who, reason="same face")
        assert_refused(barred.value, "review.reviewer_barred", "R19", EU)
        assert why in barred.value.message
    assert eu.review_case(case).confirmations == 0
    eu.confirm_case(case, reviewer="staff:wang", reason="same face")
    assert eu.confirm_case(case, reviewer="staff:chen", reason="agree").status == "confirmed"
    assert [e.outcome for e in eu.audit_events("refusal")][-2:] == [
        "review.reviewer_barred"] * 2
