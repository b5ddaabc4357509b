"""Named staff accounts through the deployment: add, list, disable, enable, sign in.

An admin adds an account (name, display name, role, scope, password); its TOTP
secret is in the result only. Every change is audited, naming the account and who
made the change. A sign-in checks the password (argon2id), then the TOTP code (a
code already accepted is refused), and counts failures: :data:`MAX_FAILURES` in a
row lock the account for :data:`LOCKOUT_SECONDS`. Every refused sign-in is in the
audit log (R15/R16: failed access is audited), with why, which the person is not
told: one answer for an unknown name, a wrong password, a wrong or replayed code
and a disabled account.
"""

from __future__ import annotations

import functools
import secrets
import time
from collections.abc import Iterable

from ..access.accounts import (
    LOCKOUT_SECONDS,
    MAX_FAILURES,
    NewAccount,
    accept_step,
    check_password,
    find_account,
    get_account,
    hash_password,
    insert_account,
    list_accounts,
    matching_step,
    open_totp,
    record_failure,
    set_disabled,
    sign_in_state,
)
from ..access.roles import Role, StaffAccount
from ..access.sessions import delete_key_sessions
from ..errors import CredentialInvalid, Error, InvalidArgument, RateLimited, StoreTampered
from ..review import store as review_store
from .books import Books

__all__ = ["LOCKOUT_SECONDS", "MAX_FAILURES", "StaffAccess"]


@functools.cache
def _nobody() -> str:
    """A hash of a password nobody has, checked when the name is unknown so that an
    unknown name takes as long to refuse as a wrong password."""
    return hash_password(secrets.token_urlsafe(32))


def _scope(values: Iterable[str] | None) -> frozenset[str] | None:
    return None if values is None else frozenset(values)


class StaffAccess(Books):
    """Staff accounts; see :class:`~facegate.deployment.Deployment`."""

    def add_staff(self, *, name: str, display_name: str, role: Role | str, password: str,
                  purposes: Iterable[str] | None = None, sites: Iterable[str] | None = None,
                  operator: str = "system") -> NewAccount:
        """A new account, limited to ``purposes`` and ``sites`` (all when ``None``).

        The TOTP secret and its ``otpauth://`` URI are in the result only.

        Raises:
            InvalidArgument: a bad name, display name, role or a password under 12 characters.
            AlreadyRegistered: the name is taken.
            NotFound: a purpose or site of the scope is not registered.
        """
        with self._unit() as conn:
            for key in purposes or ():
                self._purpose(conn, key)
            for key in sites or ():
                self._site(conn, key)
            made = insert_account(conn, guard=self._guard(conn), ring=self._keys.ring,
                                  name=name, display_name=display_name, role=role,
                                  password=password, purposes=_scope(purposes),
                                  sites=_scope(sites), created_by=operator,
                                  now=self._clock.now())
            self._audit(conn, "staff-account-added", operator=operator,
                        detail={"account": made.account.principal,
                                "role": made.account.role.value,
                                "purposes": sorted(purposes) if purposes is not None else None,
                                "sites": sorted(sites) if sites is not None else None})
        return made

    def staff_accounts(self) -> list[StaffAccount]:
        """Every account (disabled ones too), without password hash or TOTP secret."""
        return list_accounts(self._conn, guard=self._guard(self._conn))

    def staff_account(self, account: str) -> StaffAccount:
        """One account, by id or name.

        Raises:
            NotFound: no such account.
            StoreTampered: its row was written or changed without the key file.
        """
        return get_account(self._conn, guard=self._guard(self._conn), account=account)

    def disable_staff(self, account: str, *, operator: str = "system") -> StaffAccount:
        """Disable an account at once: it cannot sign in, and its sessions end."""
        return self._set_disabled(account, disabled=True, operator=operator)

    def enable_staff(self, account: str, *, operator: str = "system") -> StaffAccount:
        """Enable a disabled account again (its failure count cleared)."""
        return self._set_disabled(account, disabled=False, operator=operator)

    def _set_disabled(self, account: str, *, disabled: bool, operator: str) -> StaffAccount:
        with self._unit() as conn:
            now = self._clock.now()
            changed = set_disabled(conn, guard=self._guard(conn), account=account,
                                   at=now if disabled else None)
            if disabled:
                delete_key_sessions(conn, key_id=changed.id)
            self._audit(conn, "staff-account-disabled" if disabled else "staff-account-enabled",
                        operator=operator, detail={"account": changed.principal,
                                                   "role": changed.role.value})
        return changed

    def authorise_reviewer_account(self, *, purpose: str, account: str,
                                   operator: str = "system") -> StaffAccount:
        """Authorise the reviewer account ``account`` (id or name) for ``purpose``; cases and
        the audit log name it ``staff:<name>``.

        Raises:
            InvalidArgument: the account is not an enabled reviewer account.
            NotFound: no such account or purpose.
        """
        with self._unit() as conn:
            found = get_account(conn, guard=self._guard(conn), account=account)
            if found.role is not Role.REVIEWER or found.disabled:
                raise InvalidArgument(f"{found.principal} is not an enabled reviewer account",
                                      details={"account": found.principal,
                                               "role": found.role.value})
            self._purpose(conn, purpose)
            review_store.authorise_reviewer(conn, purpose_key=purpose,
                                            reviewer=found.principal, authorised_by=operator,
                                            at=self._clock.now())
            self._audit(conn, "reviewer-authorised", operator=operator, purpose_key=purpose,
                        detail={"reviewer": found.principal})
        return found

    def sign_in_staff(self, *, name: str, password: str, code: str, client: str,
                      now: float | None = None) -> StaffAccount:
        """The account, when ``password`` and the TOTP ``code`` are right, the code was not
        used before, and the account is enabled and not locked.

        Raises:
            CredentialInvalid: an unknown name, a wrong password, a wrong or used code, a
                disabled account (one answer for all; the audit entry says which).
            RateLimited: the account is locked after repeated failures
                (``details.retry_after``, seconds).
            StoreTampered: the account's row was written or changed without the key file;
                audited as an ``integrity-failure``, and later writes are refused.
        """
        at = time.time() if now is None else now
        refusal: Error | None = None
        with self._unit() as conn:
            try:
                found = find_account(conn, guard=self._guard(conn), name=name.strip())
            except StoreTampered as exc:
                self._tampered = exc
                raise
            why = ""
            account: StaffAccount | None = None
            if found is None:
                check_password(_nobody(), password)
                why = "unknown"
            else:
                account, password_hash = found
                state = sign_in_state(conn, account_id=account.id)
                if state.locked_until > at:
                    refusal = RateLimited(
                        "too many failed sign-ins; this account is locked for a while",
                        details={"retry_after": int(state.locked_until - at) + 1})
                    why = "locked"
                elif not check_password(password_hash, password):
                    why = "password"
                elif account.disabled:
                    why = "disabled"
                else:
                    step = matching_step(open_totp(conn, ring=self._keys.ring,
                                                   account_id=account.id), code, now=at)
                    if step is None:
                        why = "code"
                    elif not accept_step(conn, account_id=account.id, step=step):
                        why = "code-replayed"
                if why in ("password", "code", "code-replayed"):
                    after = record_failure(conn, account_id=account.id, now=at)
                    if after.locked_until > at:
                        why += "; locked"
            if why:
                refusal = refusal or CredentialInvalid(
                    "the name, password or code is not valid")
                self._audit(conn, "refusal", operator=f"client:{client}",
                            outcome=refusal.code,
                            detail={"action": "staff-sign-in", "reason": why,
                                    "account": account.principal if account else None,
                                    "message": refusal.message})
            else:
                assert account is not None
                self._audit(conn, "staff-signed-in", operator=account.principal,
                            detail={"account": account.principal, "client": client})
        if refusal is not None:
            raise refusal
        assert account is not None
        return account
