"""Which audit entries become which events, for whom, carrying what."""

from __future__ import annotations

from typing import Any

from facegate.events.catalogue import AUDIENCES, Entry, event_for, event_type, in_scope
from facegate.events.delivery import next_attempt
from facegate.events.signing import signature_header, verify_signature


def _entry(name: str, outcome: str = "ok", purpose: str | None = "door.a",
           subject: str | None = "s_1", **detail: Any) -> Entry:
    return Entry(seq=7, at="2025-09-01T02:00:00+00:00", name=name, operator="key:k_1",
                 outcome=outcome, purpose=purpose, subject=subject, rule=None, detail=detail)


def test_named_types_and_the_rest_as_audit_entries() -> None:
    assert event_type(_entry("verify", "match")) == "verify.match"
    assert event_type(_entry("verify", "no_match")) == "verify.no_match"
    assert event_type(_entry("review-confirm", "confirmed")) == "identify.hit_confirmed"
    assert event_type(_entry("review-confirm", "pending")) == "audit.review-confirm"
    assert event_type(_entry("consent-withdrawn")) == "consent.withdrawn"
    assert event_type(_entry("review-cases-opened")) == "review.case_opened"
    assert event_type(_entry("subject-erased", "erased")) == "subject.erased"
    assert event_type(_entry("api-key-issued")) == "audit.api-key-issued"


def test_door_controllers_and_hr_systems_get_their_events_only() -> None:
    assert AUDIENCES["door"] == {"verify.match", "identify.hit_confirmed", "consent.withdrawn",
                                 "door.open", "door.refused"}
    assert AUDIENCES["hr"] == {"review.case_opened", "subject.erased"}
    match = _entry("verify", "match")
    door = event_for(match, "door")
    assert door is not None and door.id == "evt_7" and door.type == "verify.match"
    assert door.data == {"purpose": "door.a", "subject": "s_1"}
    assert event_for(match, "hr") is None
    assert event_for(_entry("verify", "no_match"), "door") is None
    assert event_for(_entry("api-key-issued", key="k_2"), "door") is None
    erased = event_for(_entry("subject-erased", purpose=None, purposes=["door.a"],
                              templates=2), "hr")
    assert erased is not None and erased.data == {"subject": "s_1", "purposes": ["door.a"]}
    opened = event_for(_entry("camera-match", "match", camera="lobby-door-1", track=3), "door")
    assert opened is not None and opened.type == "door.open"
    assert opened.data == {"purpose": "door.a", "subject": "s_1", "camera": "lobby-door-1"}
    refused = event_for(_entry("camera-claim-refused", "no_match", camera="lobby-door-1",
                               claim="clm_1", track=4), "door")
    assert refused is not None and refused.type == "door.refused"
    assert refused.data == {"purpose": "door.a", "subject": "s_1", "camera": "lobby-door-1",
                            "claim": "clm_1", "reason": "no_match", "rule": None}
    everything = event_for(_entry("api-key-issued", key="k_2"), "audit")
    assert everything is not None and everything.data["detail"] == {"key": "k_2"}
    assert event_for(match, "door", types=frozenset({"consent.withdrawn"})) is None


def test_scope_by_purpose_and_site() -> None:
    sites = {"door.a": "hq", "door.b": "branch"}
    a, b = _entry("verify", "match"), _entry("verify", "match", purpose="door.b")
    assert in_scope(a, purposes=None, sites=None, site_of=sites)
    assert in_scope(a, purposes=frozenset({"door.a"}), sites=None, site_of=sites)
    assert not in_scope(b, purposes=frozenset({"door.a"}), sites=None, site_of=sites)
    assert not in_scope(a, purposes=None, sites=frozenset({"branch"}), site_of=sites)
    erased = _entry("subject-erased", purpose=None, purposes=["door.b"])
    assert in_scope(erased, purposes=None, sites=frozenset({"branch"}), site_of=sites)
    assert not in_scope(_entry("processor-registered", purpose=None, subject=None),
                        purposes=frozenset({"door.a"}), sites=None, site_of=sites)


def test_signatures_and_the_retry_schedule() -> None:
    header = signature_header(b"whsec_x", b'{"id":"evt_1"}', now=1_000_000)
    assert verify_signature(b"whsec_x", b'{"id":"evt_1"}', header, now=1_000_100)
    assert not verify_signature(b"whsec_x", b'{"id":"evt_2"}', header, now=1_000_100)
    assert not verify_signature(b"whsec_y", b'{"id":"evt_1"}', header, now=1_000_100)
    assert not verify_signature(b"whsec_x", b'{"id":"evt_1"}', header, now=1_000_400)
    assert not verify_signature(b"whsec_x", b"{}", "t=x,v1=y")
    delays = [next_attempt(n, now=0.0, base=2.0, cap=60.0, limit=8) for n in range(1, 9)]
    assert delays[-1] is None
    assert all(2.0 * 2 ** (n - 1) <= (d or 0) <= min(60.0, 2.0 * 2 ** (n - 1)) * 1.2
               for n, d in enumerate(delays[:7], start=1) if n < 6)
    assert 60.0 <= (delays[6] or 0) <= 72.0
