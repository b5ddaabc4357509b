"""Helpers that build a deployment's books the way a deployer would."""

from __future__ import annotations

from datetime import UTC, datetime

from facegate.deployment import Deployment
from facegate.governed_demo import DEMO_THRESHOLD, demo_assessment, demo_notice

#: The fixed clock's start: 10:00 in China on Monday 1 September 2025.
START = datetime(2025, 9, 1, 2, 0, tzinfo=UTC)


def add_purpose(d: Deployment, key: str, *, site: str = "hq.lobby",
                modes: tuple[str, ...] = ("verify", "identify"), activate: bool = True,
                **overrides: object) -> None:
    """Register a complete purpose (notice, PIA) and, by default, activate it."""
    spec: dict[str, object] = dict(
        key=key, site=site, description=f"{key} for staff", necessity="hands-free entry",
        legal_basis="separate consent", modes=list(modes),
        alternatives=["staff badge with guard check"], retention_days=365,
        threshold=DEMO_THRESHOLD)
    spec.update(overrides)
    d.register_purpose(**spec)  # type: ignore[arg-type]
    d.publish_notice(purpose=key, content=demo_notice("Example Ltd", key, "365 days"))
    d.sign_assessment(purpose=key, content=demo_assessment(), signed_by="DPO")
    if activate:
        d.activate_purpose(key)


def consent(d: Deployment, subject: str, purpose: str, **kw: object) -> None:
    """Record a valid separate consent against the current notice."""
    notice = d.notice(purpose)
    assert notice is not None
    d.record_consent(subject=subject, purpose=purpose, notice_version=notice.version,
                     method=kw.pop("method", "on_screen"), **kw)  # type: ignore[arg-type]
