"""Who may call the service: API keys, roles, scopes.

:mod:`.roles` is pure: the role of a key decides which actions it may take and
its scope which purposes, sites and subject it may take them on.
:mod:`.keys` stores keys (hashed) and idempotent responses; :mod:`.accounts` named
staff accounts (argon2 password, sealed TOTP secret).
"""

from .roles import ApiAction, ApiKey, Reach, Role, Scope, StaffAccount, authorize

__all__ = ["ApiAction", "ApiKey", "Reach", "Role", "Scope", "StaffAccount", "authorize"]
