"""Staff accounts as their holders know them, for tests that sign in to the dashboard."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pyotp

from facegate.access.accounts import TOTP_STEP

#: the password every test account is given
STAFF_PASSWORD = "correct horse battery"


@dataclass
class Staff:
    """A staff account as its holder knows it: name, password and TOTP secret."""

    name: str
    password: str
    totp_secret: str
    #: the last TOTP time step this holder used (a code is never accepted twice)
    used_step: int = 0

    def code(self) -> str:
        """A TOTP code not used before: this step's, or the next one's (within the
        window), waiting for a fresh step only when both were used."""
        while True:
            now = time.time()
            step = max(int(now // TOTP_STEP), self.used_step + 1)
            if step <= int(now // TOTP_STEP) + 1:
                self.used_step = step
                return pyotp.TOTP(self.totp_secret, interval=TOTP_STEP).at(step * TOTP_STEP)
            time.sleep(1)

    def form(self) -> dict[str, str]:
        """The sign-in form's fields, with a fresh code."""
        return {"name": self.name, "password": self.password, "code": self.code()}


def add_staff(d: Any, name: str, role: str, **scope: Any) -> Staff:
    """Add account ``name`` with ``role`` (and ``purposes``/``sites``) to deployment ``d``."""
    made = d.add_staff(name=name, display_name=name.title(), role=role,
                       password=STAFF_PASSWORD, **scope)
    return Staff(name=name, password=STAFF_PASSWORD, totp_secret=made.totp_secret)
