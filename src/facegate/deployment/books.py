"""The deployment's books: processor, sites, purposes, notices, assessments, subjects, consent.

Each method is one transaction. Where the law constrains a change, the policy
layer decides first and a refusal is recorded in the trail before it is raised.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from ..consent.alternatives import AlternativeOutcome, AlternativeResult, insert_outcome
from ..consent.ledger import (
    ConsentEvent,
    ConsentKind,
    ConsentScope,
    GivenBy,
    append_event,
    current_state,
    list_events,
)
from ..engine.pack_install import find_pack
from ..engine.selection import best_pack
from ..errors import (
    AlreadyRegistered,
    AssessmentNotFound,
    ConsentNotFound,
    InvalidArgument,
    PurposeNotActive,
)
from ..filing.counter import record_material_change
from ..jurisdictions import DEFAULT_PROFILE, ConsentMethod, get_profile
from ..organisation.models import Processor, Site, SiteType, check_site_key
from ..organisation.repository import get_processor, insert_processor, insert_site, list_sites
from ..policy import gate
from ..policy.decision import Decision
from ..purposes import repository as purposes_repo
from ..purposes.models import (
    DEFAULT_PURPOSE_POPULATION,
    TRANSITIONS,
    Assessment,
    Mode,
    Notice,
    Purpose,
    PurposeStatus,
    StorageMode,
    alternatives_of,
    assessment_content,
    check_population,
    check_purpose_key,
    method_fingerprint,
    notice_content,
)
from ..purposes.statements import assessment_statements, notice_statements
from ..subjects.models import AgeBand, Subject, is_minor
from ..subjects.repository import get_subject_by_ref, insert_subjects
from ..templates.images import delete_images
from ..templates.store import delete_templates
from ..texts import Text, TextLike
from .base import DeploymentBase

__all__ = ["Books", "Withdrawal"]

# Purpose fields whose change is a change of method (R14 reassessment, R18 change record).
_METHOD_FIELDS = frozenset({"modes", "storage_mode", "liveness_required", "site_key"})


def _mode(value: Mode | str) -> Mode:
    try:
        return Mode(value)
    except ValueError:
        raise InvalidArgument(f"unknown mode {value!r}; modes are verify and identify",
                              details={"modes": [m.value for m in Mode]}) from None


def _storage(value: StorageMode | str) -> StorageMode:
    try:
        return StorageMode(value)
    except ValueError:
        raise InvalidArgument(f"unknown storage mode {value!r}; it is device or central",
                              details={"storage_modes": [m.value for m in StorageMode]}) from None


#: The purpose fields that are text per language.
_TEXT_FIELDS = frozenset({"name", "description", "necessity", "legal_basis"})


@dataclasses.dataclass(frozen=True, slots=True)
class Withdrawal:
    """The receipt of a withdrawal: the ledger event and how many templates (and retained
    images) were deleted."""

    event: ConsentEvent
    templates_deleted: int
    images_deleted: int = 0


class Books(DeploymentBase):
    """Registration and consent; see :class:`~facegate.deployment.Deployment`."""

    # -- processor and sites -------------------------------------------------

    def register_processor(self, *, name: TextLike, contact: TextLike, credit_code: str,
                           jurisdiction: str = DEFAULT_PROFILE, province: TextLike = "",
                           security_measures: TextLike = "") -> Processor:
        """Register the processor; once per deployment.

        ``name``, ``contact``, ``province`` and ``security_measures`` are what people and
        regulators read: per language, ``{"zh": "示例办公有限公司", "en": "Example Office
        Ltd"}`` (a single string is filed under the language its script shows, see
        :mod:`facegate.texts`)."""
        get_profile(jurisdiction)
        if not credit_code.strip():
            raise InvalidArgument("the processor needs its credit code",
                                  details={"field": "credit_code"})
        processor = Processor(name=Text.of(name, field="processor name"),
                              contact=Text.of(contact, field="processor contact"),
                              credit_code=credit_code.strip(), jurisdiction=jurisdiction,
                              province=Text.of(province, field="processor province"),
                              security_measures=Text.of(security_measures,
                                                        field="processor security_measures"),
                              registered_at=self._clock.now())
        if not processor.name or not processor.contact:
            raise InvalidArgument("the processor needs a name and a contact",
                                  details={"field": "name" if not processor.name else "contact"})
        with self._unit() as conn:
            if get_processor(conn) is not None:
                raise AlreadyRegistered("the processor is already registered")
            insert_processor(conn, processor=processor)
            self._audit(conn, "processor-registered", operator="system",
                        detail={"jurisdiction": jurisdiction})
        return processor

    def processor(self) -> Processor | None:
        """The registered processor, if any."""
        return get_processor(self._conn)

    def register_site(self, *, key: str, name: TextLike, site_type: SiteType | str,
                      public_place: bool = False, capture_zone: str | None = None,
                      signage_attested: bool = False, operator: str = "system") -> Site:
        """Register a capture site (R12: no private spaces; R13: public-place conditions);
        ``name`` per language, like a processor's."""
        try:
            kind = SiteType(site_type)
        except ValueError:
            raise InvalidArgument(f"unknown site type {site_type!r}",
                                  details={"site_types": [t.value for t in SiteType]}) from None
        words = Text.of(name, field="site name")
        if not words:
            raise InvalidArgument("a site needs a name", details={"field": "name"})
        site = Site(key=check_site_key(key), name=words, site_type=kind,
                    public_place=public_place,
                    capture_zone=capture_zone, signage_attested=signage_attested,
                    registered_at=self._clock.now())
        with self._unit() as conn:
            profile = self._profile(conn)
            self._enforce(conn, gate.check_site(site, profile), "register-site",
                          operator=operator)
            known_types = {s.site_type for s in list_sites(conn)}
            if any(s.key == key for s in list_sites(conn)):
                raise AlreadyRegistered(f"site {key!r} is already registered")
            insert_site(conn, site=site)
            self._audit(conn, "site-registered", operator=operator, detail={"site": key})
            if site.site_type not in known_types:
                record_material_change(conn, profile=profile, now=self._clock.now(),
                                       reason=f"new site type {site.site_type}")
        return site

    def sites(self) -> list[Site]:
        """Every registered capture site."""
        return list_sites(self._conn)

    # -- purposes ---------------------------------------------------------------

    def register_purpose(self, *, key: str, site: str, description: TextLike,
                         necessity: TextLike, legal_basis: TextLike,
                         modes: Iterable[Mode | str],
                         alternatives: Iterable[object] = (), mandate: TextLike | None = None,
                         retention_days: int, storage_mode: StorageMode | str = "device",
                         liveness_required: bool = False, public_security: bool = False,
                         threshold: float | None = None, pack: str | None = None,
                         population: str | None = None, name: TextLike | None = None,
                         operator: str = "system") -> Purpose:
        """Register a purpose as a draft (R1, R7, R9, R13 are checked now).

        ``name``, ``description``, ``necessity``, ``legal_basis`` and ``mandate`` are per
        language (``{"zh": ..., "en": ...}``; a single string is filed under its script's
        language); each alternative is ``{"key": "badge", "name": {"zh": ..., "en": ...}}``
        (a single string is both its key and its words). A language the jurisdiction
        profile requires may be missing in a draft; activation reports it
        (``notice.incomplete``). ``name`` is the purpose's short name (its description
        when ``None``).

        ``population`` is who the purpose serves; the jurisdiction profile's
        default population when ``None`` (East-Asian adults under the Chinese
        profiles). ``pack`` is the model pack its gallery holds; when ``None``,
        the best-measured installed pack for that population (the ArcFace pack
        when it is installed). Until a calibration of its own is recorded, its
        threshold is the pack's shipped calibration for its population (R21);
        ``threshold`` sets one by hand instead, which the gate warns about.
        """
        now = self._clock.now()
        described = Text.of(description, field="purpose description")
        mandated = Text.of(mandate, field="purpose mandate")
        purpose = Purpose(
            key=check_purpose_key(key), site_key=site, description=described,
            necessity=Text.of(necessity, field="purpose necessity"),
            legal_basis=Text.of(legal_basis, field="purpose legal_basis"),
            modes=frozenset(_mode(m) for m in modes),
            alternatives=alternatives_of(alternatives), mandate=mandated or None,
            retention_days=retention_days, storage_mode=_storage(storage_mode),
            liveness_required=liveness_required, public_security=public_security,
            threshold=threshold, status=PurposeStatus.DRAFT, registered_at=now, updated_at=now,
            population=check_population(population or DEFAULT_PURPOSE_POPULATION),
            name=described if name is None else Text.of(name, field="purpose name"))
        with self._unit() as conn:
            profile = self._profile(conn)
            serves = check_population(population or profile.default_population)
            chosen = pack or best_pack(serves)
            find_pack(chosen)
            purpose = dataclasses.replace(purpose, pack=chosen, population=serves)
            if purposes_repo.get_purpose(conn, key=key) is not None:
                raise AlreadyRegistered(f"purpose {key!r} is already registered")
            site_row = self._site(conn, site)
            self._enforce(conn, gate.check_purpose(purpose, site_row, profile),
                          "register-purpose", operator=operator, purpose_key=key)
            purposes_repo.insert_purpose(conn, purpose=purpose)
            self._audit(conn, "purpose-registered", operator=operator, purpose_key=key,
                        detail={"pack": chosen, "population": serves})
            record_material_change(conn, profile=profile, now=now, reason=f"new purpose {key}")
        return purpose

    def purpose(self, key: str) -> Purpose:
        """The purpose named ``key``."""
        return self._purpose(self._conn, key)

    def purposes(self) -> list[Purpose]:
        """Every registered purpose."""
        return purposes_repo.list_purposes(self._conn)

    def publish_notice(self, *, purpose: str, content: Mapping[str, object],
                       operator: str = "system") -> Notice:
        """Publish the next version of a purpose's notice (R6).

        What the purpose does (its method, review, retention, storage, alternative,
        how to withdraw) is generated from its records in every language; ``content``
        holds the deployer's own words added to each Art. 5 item, ``{item: {"zh": ...,
        "en": ...}}``. The items the records cannot state (``accessibility``) are
        required in every language the profile names; words added to any other item
        must be in each of them too. Words that contradict the records are refused
        (``document.inconsistent``)."""
        words = notice_content(content)
        with self._unit() as conn:
            profile = self._profile(conn)
            row = self._purpose(conn, purpose)
            setting = self._setting(conn, row)
            statements = [s for lang in profile.languages
                          for s in notice_statements(setting, words, lang) if s.typed]
            self._enforce(conn, gate.check_notice(row, words, profile,
                                                  reviewers=setting.reviewers,
                                                  statements=statements),
                          "publish-notice", operator=operator, purpose_key=purpose)
            notice = purposes_repo.insert_notice(conn, purpose_key=purpose, content=words,
                                                 published_at=self._clock.now())
            self._audit(conn, "notice-published", operator=operator, purpose_key=purpose,
                        detail={"version": notice.version})
        return notice

    def notice(self, purpose: str) -> Notice | None:
        """The current notice of a purpose."""
        return purposes_repo.latest_notice(self._conn, purpose_key=purpose)

    def renotice_due(self, purpose: str) -> list[str]:
        """Subjects whose live consent was given on an older notice version (R6)."""
        notice = self.notice(purpose)
        if notice is None:
            return []
        rows = self._conn.execute("SELECT DISTINCT subject_id FROM consent_events "
                                  "WHERE purpose_key = ? ORDER BY subject_id", (purpose,))
        due = []
        for (subject_id,) in rows.fetchall():
            state = current_state(list_events(self._conn, guard=self._guard(self._conn),
                                              subject_id=subject_id,
                                              purpose_key=purpose, scope=ConsentScope.BIOMETRIC))
            if state.granted and (state.notice_version or 0) < notice.version:
                due.append(subject_id)
        return due

    def sign_assessment(self, *, purpose: str, content: Mapping[str, object], signed_by: str,
                        operator: str = "system") -> Assessment:
        """Record a signed impact assessment of the purpose as it is now (R14).

        ``content`` holds the signed statement of each PIPL 56 item plus alternatives,
        per language (``{item: {"zh": ..., "en": ...}}``), in every language the
        profile names; the impact assessment document states the purpose's method,
        retention, storage and alternative from the records beside them. A statement
        that contradicts the records is refused (``document.inconsistent``)."""
        words = assessment_content(content)
        with self._unit() as conn:
            profile = self._profile(conn)
            row = self._purpose(conn, purpose)
            setting = self._setting(conn, row)
            statements = [s for lang in profile.languages
                          for s in assessment_statements(setting, words, lang) if s.typed]
            self._enforce(conn, gate.check_assessment(words, signed_by, profile, purpose=row,
                                                      reviewers=setting.reviewers,
                                                      statements=statements),
                          "sign-assessment", operator=operator, purpose_key=purpose)
            assessment = purposes_repo.insert_assessment(
                conn, purpose_key=purpose, content=words, fingerprint=method_fingerprint(row),
                signed_by=signed_by.strip(), signed_at=self._clock.now())
            self._audit(conn, "assessment-signed", operator=operator, purpose_key=purpose,
                        detail={"assessment": assessment.id})
        return assessment

    def assessments(self, purpose: str) -> list[Assessment]:
        """Every assessment of a purpose, current or stale."""
        return purposes_repo.list_assessments(self._conn, purpose_key=purpose)

    def delete_assessment(self, assessment_id: int, *, operator: str = "system") -> None:
        """Delete an assessment; refused within the keep period (R14)."""
        with self._unit() as conn:
            profile = self._profile(conn)
            found = purposes_repo.get_assessment(conn, id=assessment_id)
            if found is None:
                raise AssessmentNotFound(f"no impact assessment {assessment_id}")
            self._enforce(conn, gate.check_assessment_deletion(found, self._clock.now(), profile),
                          "delete-assessment", operator=operator, purpose_key=found.purpose_key)
            purposes_repo.delete_assessment(conn, id=assessment_id)
            self._audit(conn, "assessment-deleted", operator=operator,
                        purpose_key=found.purpose_key, detail={"assessment": assessment_id})

    def activate_purpose(self, key: str, *, operator: str = "system") -> Purpose:
        """Put a purpose live: every text people read in each language the profile requires
        and the notice and assessment agreeing with the records (R6), alternative (R7),
        site (R13), PIA (R14) and calibration (R21) checked."""
        with self._unit() as conn:
            profile = self._profile(conn)
            purpose = self._purpose(conn, key)
            if purpose.status is PurposeStatus.ACTIVE:
                return purpose
            decision = self._activation_decision(conn, purpose, profile)
            self._enforce(conn, decision, "activate-purpose", operator=operator, purpose_key=key)
            for warning in decision.warnings:
                self._audit(conn, "warning", operator=operator, purpose_key=key,
                            outcome=warning.code, rule=warning.rule,
                            detail={"action": "activate-purpose", "message": warning.message})
            return self._set_status(conn, purpose, PurposeStatus.ACTIVE, operator)

    def activation_warnings(self, key: str) -> list[str]:
        """What the gate warns about a purpose's activation (a verification purpose
        running on its pack's shipped calibration for its population, or on a threshold
        set by hand, rather than on its own calibration, R21)."""
        conn = self._conn
        purpose = self._purpose(conn, key)
        decision = self._activation_decision(conn, purpose, self._profile(conn))
        return [w.message for w in decision.warnings]

    def _activation_decision(self, conn: Any, purpose: Purpose,
                             profile: Any) -> Decision:
        setting = self._setting(conn, purpose)
        notice = purposes_repo.latest_notice(conn, purpose_key=purpose.key)
        current = self._current_assessment(conn, purpose)
        return gate.check_activation(
            purpose, setting.site, notice.content if notice else None, current is not None,
            profile, self._calibration(conn, purpose.calibration_id),
            self._shipped(purpose, purpose.pack), processor=setting.processor,
            reviewers=setting.reviewers,
            notice_statements=[s for lang in profile.languages
                               for s in notice_statements(setting, notice.content, lang)]
            if notice else (),
            assessment_statements=[s for lang in profile.languages
                                   for s in assessment_statements(setting, current.content,
                                                                  lang)]
            if current else ())

    def notice_text(self, purpose: str) -> dict[str, dict[str, list[str]]]:
        """The purpose's notice as people read it, per language the profile names: for each
        Art. 5 item (and ``alternatives``) its paragraphs, generated from the records, then
        the published notice's own words (none when no notice is published)."""
        conn = self._conn
        row = self._purpose(conn, purpose)
        setting = self._setting(conn, row)
        notice = purposes_repo.latest_notice(conn, purpose_key=purpose)
        out: dict[str, dict[str, list[str]]] = {}
        for lang in self._profile(conn).languages:
            items: dict[str, list[str]] = {}
            for s in notice_statements(setting, notice.content if notice else {}, lang):
                items.setdefault(s.item, []).append(s.text)
            out[lang] = items
        return out

    def suspend_purpose(self, key: str, *, operator: str = "system") -> Purpose:
        """Stop a purpose from processing."""
        with self._unit() as conn:
            return self._set_status(conn, self._purpose(conn, key), PurposeStatus.SUSPENDED,
                                    operator)

    def _set_status(self, conn: Any, purpose: Purpose, status: PurposeStatus,
                    operator: str) -> Purpose:
        if purpose.status is status:
            return purpose
        if (purpose.status, status) not in TRANSITIONS:
            raise PurposeNotActive(f"purpose {purpose.key} cannot go from {purpose.status} "
                                   f"to {status}", details={"rule": "R1"})
        changed = dataclasses.replace(purpose, status=status, updated_at=self._clock.now())
        purposes_repo.update_purpose(conn, purpose=changed)
        self._audit(conn, f"purpose-{status}", operator=operator, purpose_key=purpose.key)
        return changed

    def update_purpose(self, key: str, *, operator: str = "system", **changes: Any) -> Purpose:
        """Change a purpose. A change of purpose or method makes its PIA stale and
        suspends it (R14); a change of method after filing writes a change record (R18)."""
        allowed = {"name", "description", "necessity", "legal_basis", "modes", "alternatives",
                   "mandate", "retention_days", "storage_mode", "liveness_required", "site_key",
                   "public_security", "threshold"}
        unknown = set(changes) - allowed
        if unknown:
            raise InvalidArgument(f"cannot change {', '.join(sorted(unknown))}",
                                  details={"fields": sorted(unknown)})
        for field in _TEXT_FIELDS & set(changes):
            changes[field] = Text.of(changes[field], field=f"purpose {field}")
        if "mandate" in changes:
            changes["mandate"] = Text.of(changes["mandate"], field="purpose mandate") or None
        if "modes" in changes:
            changes["modes"] = frozenset(_mode(m) for m in changes["modes"])
        if "storage_mode" in changes:
            changes["storage_mode"] = _storage(changes["storage_mode"])
        if "alternatives" in changes:
            changes["alternatives"] = alternatives_of(changes["alternatives"])
        with self._unit() as conn:
            profile = self._profile(conn)
            before = self._purpose(conn, key)
            after = dataclasses.replace(before, updated_at=self._clock.now(), **changes)
            site = self._site(conn, after.site_key)
            self._enforce(conn, gate.check_purpose(after, site, profile), "update-purpose",
                          operator=operator, purpose_key=key)
            changed = sorted(f for f in changes if getattr(before, f) != getattr(after, f))
            if method_fingerprint(after) != method_fingerprint(before):
                purposes_repo.mark_assessments_stale(
                    conn, purpose_key=key, at=self._clock.now(),
                    reason=f"purpose changed: {', '.join(changed)}")
                if after.status is PurposeStatus.ACTIVE:
                    after = dataclasses.replace(after, status=PurposeStatus.SUSPENDED)
            purposes_repo.update_purpose(conn, purpose=after)
            self._audit(conn, "purpose-changed", operator=operator, purpose_key=key,
                        detail={"fields": changed, "status": after.status.value})
            if _METHOD_FIELDS & set(changed):
                record_material_change(conn, profile=profile, now=self._clock.now(),
                                       reason=f"purpose {key} changed method: "
                                              f"{', '.join(changed)}")
        return after

    def report_incident(self, *, description: str, operator: str = "system") -> list[str]:
        """A major security incident: every assessment goes stale, every active purpose is
        suspended until reassessed (R14). Returns the suspended purposes."""
        suspended = []
        with self._unit() as conn:
            purposes_repo.mark_assessments_stale(conn, purpose_key=None, at=self._clock.now(),
                                                 reason=f"security incident: {description}")
            for purpose in purposes_repo.list_purposes(conn):
                if purpose.status is PurposeStatus.ACTIVE:
                    self._set_status(conn, purpose, PurposeStatus.SUSPENDED, operator)
                    suspended.append(purpose.key)
            self._audit(conn, "security-incident", operator=operator,
                        detail={"description": description, "suspended": suspended})
        return suspended

    # -- subjects and consent ---------------------------------------------------

    def register_subject(self, *, external_ref: str | None = None,
                         birth_date: date | None = None, age_band: AgeBand | str | None = None,
                         operator: str = "system") -> Subject:
        """Register a subject under a fresh pseudonymous id."""
        subject = Subject(id=self._ids(), external_ref=external_ref, birth_date=birth_date,
                          age_band=None if age_band is None else AgeBand(age_band),
                          registered_at=self._clock.now())
        with self._unit() as conn:
            if external_ref is not None and get_subject_by_ref(conn, external_ref=external_ref):
                raise AlreadyRegistered(f"a subject with reference {external_ref!r} exists")
            insert_subjects(conn, subjects=[subject])
            self._audit(conn, "subject-registered", operator=operator, subject_id=subject.id)
        return subject

    def record_consent(self, *, subject: str, purpose: str, notice_version: int | None,
                       method: ConsentMethod | str, separate: bool = True,
                       guardian: str | None = None, guardian_relation: str | None = None,
                       scope: ConsentScope | str = ConsentScope.BIOMETRIC,
                       operator: str = "system") -> ConsentEvent:
        """Append a consent to the ledger: separate, tied to the current notice (R3), and for a
        child given by a named guardian (R5)."""
        with self._unit() as conn:
            profile = self._profile(conn)
            row = self._purpose(conn, purpose)
            person = self._subject(conn, subject)
            notice = purposes_repo.latest_notice(conn, purpose_key=purpose)
            minor = is_minor(person, minor_age=profile.minor_age,
                             today=self._clock.now().date())
            decision = gate.check_consent(
                purpose=row, separate=separate, notice_version=notice_version,
                current_notice=notice.version if notice else None, method=ConsentMethod(method),
                minor=minor, guardian_name=guardian, profile=profile)
            self._enforce(conn, decision, "record-consent", operator=operator,
                          purpose_key=purpose, subject_id=subject)
            event = append_event(conn, guard=self._guard(conn), event=ConsentEvent(
                subject_id=subject, purpose_key=purpose, scope=ConsentScope(scope),
                kind=ConsentKind.GRANTED, notice_version=notice_version,
                method=ConsentMethod(method), separate=separate,
                given_by=GivenBy.GUARDIAN if guardian else GivenBy.SUBJECT,
                guardian_name=guardian, guardian_relation=guardian_relation, operator=operator,
                recorded_at=self._clock.now()))
            self._audit(conn, "consent-granted", operator=operator, purpose_key=purpose,
                        subject_id=subject, detail={"scope": str(scope),
                                                    "notice_version": notice_version})
        return event

    def withdraw_consent(self, *, subject: str, purpose: str,
                         method: ConsentMethod | str = ConsentMethod.ON_SCREEN,
                         scope: ConsentScope | str = ConsentScope.BIOMETRIC,
                         operator: str = "system", reason: str | None = None) -> Withdrawal:
        """Withdraw consent in one call; the purpose's templates of the subject are deleted in
        the same transaction (R4). ``reason`` goes into the audit entry (the kiosk's
        ``abandoned``: a visit that ended before the face was enrolled).

        Raises:
            ConsentNotFound: the subject never gave consent of that scope for the purpose
                (nothing to withdraw; nothing is recorded).
        """
        with self._unit() as conn:
            self._purpose(conn, purpose)
            self._subject(conn, subject)
            if not list_events(conn, guard=self._guard(conn), subject_id=subject,
                               purpose_key=purpose, scope=ConsentScope(scope)):
                raise ConsentNotFound(
                    f"subject {subject} never gave {ConsentScope(scope)} consent for "
                    f"{purpose}: there is nothing to withdraw",
                    details={"subject": subject, "purpose": purpose, "scope": str(scope)})
            event = append_event(conn, guard=self._guard(conn), event=ConsentEvent(
                subject_id=subject, purpose_key=purpose, scope=ConsentScope(scope),
                kind=ConsentKind.WITHDRAWN, notice_version=None, method=ConsentMethod(method),
                separate=True, given_by=GivenBy.SUBJECT, guardian_name=None,
                guardian_relation=None, operator=operator, recorded_at=self._clock.now()))
            deleted = images = 0
            if ConsentScope(scope) is ConsentScope.BIOMETRIC:
                deleted = delete_templates(conn, guard=self._guard(conn), subject_id=subject,
                                           purpose_key=purpose)
            if ConsentScope(scope) in (ConsentScope.BIOMETRIC, ConsentScope.RETAIN_IMAGE):
                images = delete_images(conn, subject_id=subject, purpose_key=purpose)
            self._audit(conn, "consent-withdrawn", operator=operator, purpose_key=purpose,
                        subject_id=subject, detail={"scope": str(scope),
                                                    "templates_deleted": deleted,
                                                    "images_deleted": images,
                                                    **({"reason": reason} if reason else {})})
        if deleted:
            self.refresh_galleries()
        return Withdrawal(event=event, templates_deleted=deleted, images_deleted=images)

    def consents(self, subject: str) -> list[ConsentEvent]:
        """The subject's ledger, oldest first."""
        return list_events(self._conn, guard=self._guard(self._conn), subject_id=subject)

    def record_alternative_outcome(self, *, purpose: str, method: str,
                                   result: AlternativeResult | str, subject: str | None = None,
                                   operator: str = "system") -> AlternativeOutcome:
        """Record how a non-biometric check went, like a match is recorded (R7); ``method``
        is the alternative's key."""
        with self._unit() as conn:
            row = self._purpose(conn, purpose)
            if row.alternative(method) is None:
                keys = [a.key for a in row.alternatives]
                raise InvalidArgument(
                    f"{method!r} is not an alternative of {purpose}; offered: "
                    f"{', '.join(keys) or 'none'}", details={"alternatives": keys})
            outcome = insert_outcome(conn, purpose_key=purpose, subject_id=subject, method=method,
                                     result=AlternativeResult(result), operator=operator,
                                     recorded_at=self._clock.now())
            self._audit(conn, "alternative-outcome", operator=operator, purpose_key=purpose,
                        subject_id=subject, outcome=outcome.result.value,
                        detail={"method": method})
        return outcome
