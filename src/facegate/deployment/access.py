"""The service's keys through the deployment: issue, revoke, authenticate, idempotency.

Issuing and revoking a key are audited (never its secret); so is every request
the service refuses for want of a credential, a role or scope
(:meth:`ApiAccess.record_access_refusal`, R15/R16: failed access is audited).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from ..access.keys import (
    IssuedKey,
    find_key,
    insert_key,
    list_keys,
    recall_response,
    remember_response,
    revoke_key,
)
from ..access.roles import ApiKey, Role
from ..access.sessions import (
    StoredSession,
    delete_key_sessions,
    delete_session,
    insert_session,
    load_session,
    new_cookie,
    spend_token,
    touch_session,
    update_session,
)
from ..consent.ledger import ConsentEvent
from ..errors import ChallengeUnknown, Error, IdempotencyConflict, NotFound, StoreTampered
from ..liveness.challenges import get_challenge
from ..storage.db import transaction
from ..subjects.repository import subject_holdings
from .books import Books

__all__ = ["ApiAccess"]


def _scope(values: Iterable[str] | None) -> frozenset[str] | None:
    return None if values is None else frozenset(values)


class ApiAccess(Books):
    """API keys and idempotent requests; see :class:`~facegate.deployment.Deployment`."""

    def issue_api_key(self, *, role: Role | str, label: str,
                      purposes: Iterable[str] | None = None, sites: Iterable[str] | None = None,
                      subject: str | None = None, operator: str = "system",
                      code: bool = False) -> IssuedKey:
        """A new key for ``role``, limited to ``purposes`` and ``sites`` (all when ``None``).

        The secret is in the result only; the store keeps its hash. ``code``: a subject's
        code to copy by hand (:func:`facegate.access.keys.new_code`) instead of a token.
        """
        with self._unit() as conn:
            if subject is not None:
                self._subject(conn, subject)
            for key in purposes or ():
                self._purpose(conn, key)
            for key in sites or ():
                self._site(conn, key)
            issued = insert_key(conn, guard=self._guard(conn), role=role, label=label,
                                purposes=_scope(purposes), sites=_scope(sites),
                                subject_id=subject, now=self._clock.now(), code=code)
            self._audit(conn, "api-key-issued", operator=operator, subject_id=subject,
                        detail={"key": issued.key.id, "role": issued.key.role.value,
                                **({"form": "code"} if code else {}),
                                "purposes": sorted(purposes) if purposes is not None else None,
                                "sites": sorted(sites) if sites is not None else None})
        return issued

    def revoke_api_key(self, key_id: str, *, operator: str = "system") -> ApiKey:
        """Revoke a key at once; its browser sessions end with it."""
        with self._unit() as conn:
            key = revoke_key(conn, guard=self._guard(conn), key_id=key_id,
                             now=self._clock.now())
            delete_key_sessions(conn, key_id=key.id)
            self._audit(conn, "api-key-revoked", operator=operator,
                        detail={"key": key.id, "role": key.role.value})
        return key

    def api_keys(self) -> list[ApiKey]:
        """Every key ever issued (revoked ones too), without secrets."""
        return list_keys(self._conn, guard=self._guard(self._conn))

    def api_key(self, key_id: str) -> ApiKey:
        """One key, without its secret.

        Raises:
            NotFound: no such key.
        """
        found = next((k for k in list_keys(self._conn, guard=self._guard(self._conn))
                      if k.id == key_id), None)
        if found is None:
            raise NotFound(f"no API key {key_id!r}", details={"key": key_id})
        return found

    def subject_holdings(self, subject: str) -> set[tuple[str, str]]:
        """Every ``(purpose, site)`` the subject appears under in the records (consents,
        templates, images, review cases, audit entries): what a key's scope must cover to
        see or erase the subject."""
        return subject_holdings(self._conn, id=subject)

    def purpose_sites(self) -> dict[str, str]:
        """Each registered purpose's site, for scope checks of lists."""
        return {p.key: p.site_key for p in self.purposes()}

    def challenge_purpose(self, challenge: str) -> str:
        """The purpose a liveness challenge was issued for (checked before an answer is
        read, so a key outside that purpose cannot spend the challenge).

        Raises:
            ChallengeUnknown: no such challenge.
        """
        found = get_challenge(self._conn, id=challenge)
        if found is None:
            raise ChallengeUnknown(f"no liveness challenge {challenge!r} was issued",
                                   details={"challenge": challenge})
        return found.purpose_key

    def authenticate(self, secret: str) -> ApiKey:
        """The live key with this secret.

        Raises:
            CredentialInvalid: unknown or revoked.
            StoreTampered: the key's row was written or changed without the key file (a
                forged key, a widened scope, an undone revocation); audited as an
                ``integrity-failure``, and every later write is refused as after
                :meth:`check_store`.
        """
        try:
            return find_key(self._conn, guard=self._guard(self._conn), secret=secret)
        except StoreTampered as exc:
            self._tampered = exc
            if not self._conn.in_transaction:
                with transaction(self._conn) as conn:
                    self._audit(conn, "integrity-failure", operator="system",
                                outcome=exc.code, detail={"message": exc.message})
            raise

    def record_access_refusal(self, error: Error, *, operator: str, action: str,
                              purpose: str | None = None, subject: str | None = None) -> None:
        """Put a refused request (no key, bad key, role, scope, rate) in the audit log."""
        with self._unit() as conn:
            self._audit(conn, "refusal", operator=operator, outcome=error.code,
                        purpose_key=purpose, subject_id=subject,
                        detail={"action": action, "message": error.message})

    def consent_with_token(self, *, subject: str, purpose: str, operator: str = "system",
                           **consent: Any) -> tuple[ConsentEvent, IssuedKey]:
        """Record consent and issue the subject's own token, together or not at all."""
        with self._unit():
            event = self.record_consent(subject=subject, purpose=purpose, operator=operator,
                                        **consent)
            issued = self.issue_api_key(role=Role.SUBJECT, label=f"subject token ({purpose})",
                                        subject=subject, operator=operator)
        return event, issued

    def consent_with_receipt(self, *, subject: str, purpose: str, operator: str = "system",
                             **consent: Any) -> tuple[ConsentEvent, IssuedKey, IssuedKey]:
        """Record consent and issue the subject's token and their code (a second subject key,
        short enough to copy by hand), all together or not at all: a kiosk's receipt."""
        with self._unit():
            event, token = self.consent_with_token(subject=subject, purpose=purpose,
                                                   operator=operator, **consent)
            code = self.issue_api_key(role=Role.SUBJECT, label=f"subject code ({purpose})",
                                      subject=subject, operator=operator, code=True)
        return event, token, code

    def idempotent_answer(self, *, key_id: str, idempotency_key: str,
                          request_hash: str) -> tuple[int, dict[str, Any]] | None:
        """The stored first answer to this idempotent request, if there is one (a look
        before the work: :meth:`idempotent` decides under the writer lock).

        Raises:
            IdempotencyConflict: the key was used before with another body.
        """
        stored = recall_response(self._conn, key_id=key_id, idempotency_key=idempotency_key)
        if stored is None:
            return None
        if stored.request_hash != request_hash:
            raise IdempotencyConflict("this Idempotency-Key was used with a different request",
                                      details={"idempotency_key": idempotency_key})
        return stored.status, stored.body

    def idempotent(self, *, key_id: str, idempotency_key: str, request_hash: str,
                   run: Callable[[], tuple[int, dict[str, Any]]]) -> tuple[int, dict[str, Any]]:
        """Answer a request once: the first answer is stored with the work it did, in one
        transaction, and returned again for the same key and body.

        Raises:
            IdempotencyConflict: the key was used before with another body.
        """
        with self._unit() as conn:
            stored = recall_response(conn, key_id=key_id, idempotency_key=idempotency_key)
            if stored is not None:
                if stored.request_hash != request_hash:
                    raise IdempotencyConflict(
                        "this Idempotency-Key was used with a different request",
                        details={"idempotency_key": idempotency_key})
                return stored.status, stored.body
            status, body = run()
            remember_response(conn, key_id=key_id, idempotency_key=idempotency_key,
                              request_hash=request_hash, status=status, body=body,
                              now=self._clock.now())
        return status, body

    # -- what the service keeps in the store so that any process serves any request -----

    def spend_rate(self, bucket: str, *, per_minute: int) -> float | None:
        """Spend one request of ``bucket``'s allowance (``key:<id>``, ``client:<address>``),
        shared by every process of the deployment; ``None`` when spent, else the seconds
        until the next request is allowed."""
        with self._unit(serialise=False) as conn:
            return spend_token(conn, bucket=bucket, per_minute=per_minute, now=time.time())

    def web_session(self, cookie: str) -> StoredSession | None:
        """The browser session a cookie names (its data opened with the cookie's key)."""
        return load_session(self._conn, cookie=cookie)

    def start_web_session(self, data: dict[str, Any], *, key_id: str | None = None) -> str:
        """Store a new browser session; returns its cookie value (shown to nobody else)."""
        cookie = new_cookie()
        with self._unit(serialise=False) as conn:
            insert_session(conn, cookie=cookie, data=data, key_id=key_id, now=time.time())
        return cookie

    def save_web_session(self, cookie: str, data: dict[str, Any] | None, *,
                         key_id: str | None, visit_seen: float) -> bool:
        """Store the session's changed ``data`` (``None``: unchanged, only its use is
        recorded); ``False`` when the session was ended meanwhile."""
        with self._unit(serialise=False) as conn:
            if data is None:
                touch_session(conn, cookie=cookie, now=time.time(), visit_seen=visit_seen)
                return True
            return update_session(conn, cookie=cookie, data=data, key_id=key_id,
                                  now=time.time(), visit_seen=visit_seen)

    def end_web_session(self, cookie: str) -> None:
        with self._unit(serialise=False) as conn:
            delete_session(conn, cookie=cookie)

    def end_key_sessions(self, key_id: str) -> int:
        """End every browser session signed in with ``key_id``."""
        with self._unit(serialise=False) as conn:
            return delete_key_sessions(conn, key_id=key_id)
