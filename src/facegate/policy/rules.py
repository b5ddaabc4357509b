"""The rules, as pure functions from facts to reasons.

Each function returns the list of :class:`Reason` that refuse (empty when
the rule is met). A rule that the profile does not apply returns nothing.
The R-ids are those of ``docs/regulation.md``; ``docs/governed.md`` maps each to its rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from ..calibration.models import Calibration, is_lfw_population
from ..calibration.shipped import ShippedCalibration
from ..cameras.models import Camera
from ..consent.ledger import ConsentState
from ..jurisdictions import ConsentMethod, JurisdictionProfile
from ..organisation.models import PRIVATE_SPACE_TYPES, Processor, Site
from ..purposes.claims import claims_of, retention_matches
from ..purposes.models import (
    Assessment,
    Mode,
    Purpose,
    PurposeStatus,
    StorageMode,
    missing_assessment_items,
    missing_notice_items,
)
from ..purposes.statements import Statement
from ..texts import Text, days
from .decision import Operation, Reason, reason
from .facts import ProcessingRequest

__all__ = [
    "alternative_rules",
    "assessment_deletion_rules",
    "assessment_rules",
    "calibration_rules",
    "camera_rules",
    "consent_record_rules",
    "liveness_rules",
    "notice_rules",
    "processing_rules",
    "purpose_rules",
    "record_language_rules",
    "site_rules",
    "statement_rules",
    "stream_rules",
    "verification_calibration_rules",
]


def site_rules(site: Site, profile: JurisdictionProfile) -> list[Reason]:
    """R12: no private spaces. R13: public places need a capture zone and signage."""
    out: list[Reason] = []
    if profile.applies("R12") and site.site_type in PRIVATE_SPACE_TYPES:
        out.append(reason(profile, "R12", "site.private_space",
                          f"a {site.site_type} is a private space; face capture devices may "
                          "not be installed there"))
    if profile.applies("R13") and site.public_place:
        if not (site.capture_zone or "").strip():
            out.append(reason(profile, "R13", "site.public_place_unmet",
                              f"public place {site.key} needs a declared capture zone limited "
                              "to what public security requires"))
        if not site.signage_attested:
            out.append(reason(profile, "R13", "site.public_place_unmet",
                              f"public place {site.key} needs an attestation that prominent "
                              "signs are posted"))
    return out


def camera_rules(camera: Camera, site: Site, purposes: list[Purpose],
                 profile: JurisdictionProfile) -> list[Reason]:
    """What a camera must meet to be registered and to stream: R12 (never installed in or
    looking into a private space, whatever its site), R13 (at a public place, only for
    public-security purposes, and with a record of the sign posted where it captures),
    R1 (only purposes of its own site, each allowing its mode)."""
    out: list[Reason] = []
    if profile.applies("R12"):
        for kind in dict.fromkeys((camera.placement, site.site_type)):
            if kind in PRIVATE_SPACE_TYPES:
                out.append(reason(profile, "R12", "site.private_space",
                                  f"a {kind} is a private space; camera {camera.id} may not be "
                                  "installed there"))
    if profile.applies("R13") and site.public_place:
        for p in purposes:
            if not p.public_security:
                out.append(reason(profile, "R13", "site.public_place_unmet",
                                  f"camera {camera.id} is at public place {site.key}: only a "
                                  f"public-security purpose may use it, not {p.key}"))
        if not (camera.signage or "").strip():
            out.append(reason(profile, "R13", "site.public_place_unmet",
                              f"camera {camera.id} is at public place {site.key}: record the "
                              "prominent sign posted where it captures (signage)"))
        out += [r for r in site_rules(site, profile) if r.rule == "R13"]
    for p in purposes:
        if p.site_key != camera.site_key:
            out.append(reason(profile, "R1", "camera.purpose_elsewhere",
                              f"purpose {p.key} is registered at site {p.site_key}, not at "
                              f"camera {camera.id}'s site {camera.site_key}"))
        if camera.mode not in p.modes:
            out.append(reason(profile, "R1", "purpose.mode_not_allowed",
                              f"purpose {p.key} does not allow {camera.mode}, camera "
                              f"{camera.id}'s mode"))
    return out


def stream_rules(camera: Camera, site: Site, requests: list[ProcessingRequest],
                 passive_available: bool) -> list[Reason]:
    """Whether a camera's stream may start: the camera's rules, every rule of each of its
    purposes for the camera's mode (identification, or verification of whoever is
    claimed), and (H1) a passive liveness network where a purpose requires liveness: a
    camera's liveness is the passive score of each track's shot, judged when the track
    is decided, never a receipt."""
    if not requests:
        return []
    profile = requests[0].profile
    purposes = [r.purpose for r in requests if r.purpose is not None]
    out = camera_rules(camera, site, purposes, profile)
    for req in requests:
        out += [r for r in processing_rules(req) if r.rule != "H1"]
        if req.purpose is not None and req.purpose.liveness_required and not passive_available:
            out.append(reason(profile, "H1", "liveness.required",
                              f"purpose {req.purpose.key} requires liveness: a camera checks it "
                              "with the faceplugin pack's passive network, which is not "
                              "installed"))
    return out


def alternative_rules(purpose: Purpose, profile: JurisdictionProfile) -> list[Reason]:
    """R7: a non-face alternative, or the law that mandates face recognition."""
    if not profile.applies("R7") or purpose.alternatives or purpose.mandate:
        return []
    return [reason(profile, "R7", "alternative.missing",
                   f"purpose {purpose.key} offers no non-biometric alternative; add one, or "
                   "record the law that makes face recognition the only method")]


def purpose_rules(purpose: Purpose, site: Site, profile: JurisdictionProfile) -> list[Reason]:
    """What a purpose must declare to be registered: R1, R7, R9, R13."""
    out: list[Reason] = []
    if not purpose.necessity:
        out.append(reason(profile, "R1", "purpose.incomplete",
                          f"purpose {purpose.key} must state why face recognition is necessary"))
    if not purpose.modes:
        out.append(reason(profile, "R1", "purpose.incomplete",
                          f"purpose {purpose.key} must allow verify, identify or both"))
    out += alternative_rules(purpose, profile)
    cap = profile.retention_cap_days
    if profile.applies("R9") and (purpose.retention_days < 1 or
                                  (cap is not None and purpose.retention_days > cap)):
        out.append(reason(profile, "R9", "retention.over_cap",
                          f"retention of {purpose.retention_days} days is outside 1.."
                          f"{cap if cap is not None else 'the shortest necessary'} days"))
    if profile.applies("R13") and site.public_place and not purpose.public_security:
        out.append(reason(profile, "R13", "site.public_place_unmet",
                          f"site {site.key} is a public place: only a public-security purpose "
                          "may capture faces there"))
    return out


def record_language_rules(purpose: Purpose, site: Site, processor: Processor | None,
                          profile: JurisdictionProfile,
                          languages: tuple[str, ...] | None = None) -> list[Reason]:
    """R6: every text of the records a notice is generated from (the purpose's name,
    description, necessity, legal basis, alternatives or mandate; the site's name; the
    processor's name, contact and, where declared, province and security measures) in
    every language the profile requires (or ``languages``: a document's own). The
    message names each field and language."""
    if not profile.applies("R6"):
        return []
    langs = languages or profile.languages
    fields: list[tuple[str, Text | None]] = [
        ("purpose name", purpose.name), ("purpose description", purpose.description),
        ("purpose necessity", purpose.necessity), ("purpose legal_basis", purpose.legal_basis),
        *((f"alternative {a.key}", a.name) for a in purpose.alternatives),
        (f"site {site.key} name", site.name)]
    if not purpose.alternatives and purpose.mandate:
        fields.append(("purpose mandate", purpose.mandate))
    if processor is not None:
        fields += [("processor name", processor.name), ("processor contact", processor.contact)]
        fields += [(f"processor {name}", words) for name, words in (
            ("province", processor.province), ("security_measures", processor.security_measures))
            if words]
    missing = [f"{label}/{lang}" for label, words in fields
               for lang in (words or Text()).missing(langs)]
    if not missing:
        return []
    return [reason(profile, "R6", "notice.incomplete",
                   f"purpose {purpose.key} cannot be shown to people in every language it "
                   f"needs ({', '.join(langs)}); missing: {', '.join(missing)}",
                   fields=tuple(missing))]


def notice_rules(purpose: Purpose, notice: Mapping[str, Text] | None,
                 profile: JurisdictionProfile,
                 languages: tuple[str, ...] | None = None) -> list[Reason]:
    """R6: a published notice, whose own words are in every language the profile requires
    (the items the records cannot state, like accessibility, always; any other item the
    deployer adds to, in each language)."""
    if not profile.applies("R6"):
        return []
    if notice is None:
        return [reason(profile, "R6", "notice.incomplete",
                       f"purpose {purpose.key} has no notice; publish one first")]
    missing = missing_notice_items(notice, languages or profile.languages)
    if missing:
        return [reason(profile, "R6", "notice.incomplete",
                       f"the notice of {purpose.key} lacks: {', '.join(missing)}",
                       fields=tuple(missing))]
    return []


def assessment_rules(purpose: Purpose, current: bool,
                     profile: JurisdictionProfile) -> list[Reason]:
    """R14: a current, signed impact assessment."""
    if not profile.applies("R14") or current:
        return []
    return [reason(profile, "R14", "assessment.missing",
                   f"purpose {purpose.key} has no current impact assessment; a new one is "
                   "needed before processing (and after any change of purpose or method)")]


def assessment_content_rules(content: Mapping[str, Text], signed_by: str,
                             profile: JurisdictionProfile,
                             languages: tuple[str, ...] | None = None) -> list[Reason]:
    """R14: every PIPL 56 item plus alternatives, in every language the profile requires
    (or ``languages``: a document's own), and a signature."""
    missing = missing_assessment_items(content, languages or profile.languages)
    if not signed_by.strip():
        missing.append("signed_by")
    if not profile.applies("R14") or not missing:
        return []
    return [reason(profile, "R14", "assessment.missing",
                   f"the impact assessment lacks: {', '.join(missing)}", fields=tuple(missing))]


#: The items whose paragraphs describe the processing method as a whole.
_METHOD_ITEMS = frozenset({"purpose_and_method", "lawful_legitimate_necessary"})


def _mode_words(modes: frozenset[Mode]) -> str:
    return " and ".join({"verify": "1:1 verification", "identify": "1:N identification"}[m]
                        for m in sorted(modes)) or "no comparison"


def _paragraph_problems(s: Statement, purpose: Purpose, reviewers: int | None,
                        visitors: bool) -> list[str]:
    """What one paragraph states that the records contradict."""
    c = claims_of(s.text)
    out: list[str] = []
    if c.modes - purpose.modes:
        out.append(f"it names {_mode_words(c.modes - purpose.modes)}, which the purpose does "
                   f"not do (it does {_mode_words(purpose.modes)})")
    elif s.item in _METHOD_ITEMS and c.modes and c.modes != purpose.modes:
        out.append(f"it describes the method as {_mode_words(c.modes)}; the purpose does "
                   f"{_mode_words(purpose.modes)}")
    elif c.exclusive_modes is not None and c.exclusive_modes != purpose.modes:
        out.append(f"it says the method is only {_mode_words(c.exclusive_modes)}; the purpose "
                   f"does {_mode_words(purpose.modes)}")
    for low, high in c.durations:
        if not retention_matches(purpose.retention_days, (low, high)):
            stated = days(low, "en") if low == high else f"{low}-{high} days"
            out.append(f"it states a retention of {stated}; templates are kept "
                       f"{days(purpose.retention_days, 'en')}")
    for place in sorted(c.storage - {purpose.storage_mode}):
        out.append(f"it says templates are stored {'centrally' if place == 'central' else 'on the device'}; "  # noqa: E501
                   f"the purpose's storage is {purpose.storage_mode.value}")
    reviewed = reviewers is not None and Mode.IDENTIFY in purpose.modes
    if c.review is True and not reviewed:
        out.append("it says hits are reviewed by a person; no review is configured for the "
                   "purpose")
    if c.review is False and reviewed:
        out.append(f"it says hits are not reviewed; each waits for {reviewers} reviewer(s)")
    for n in c.reviewers:
        if n != reviewers:
            out.append(f"it names {n} reviewer(s); the purpose's hits wait for "
                       f"{reviewers if reviewed else 'none'}")
    if visitors and c.command:
        out.append("it tells the reader to run a command; what a visitor is told to do must "
                   "be possible at the kiosk or at an address")
    return out


def _coverage_problems(facts: Mapping[str, Statement], required: Sequence[str],
                       purpose: Purpose, reviewers: int | None) -> list[str]:
    """What the generated paragraphs must state and do not."""
    out = [f"it does not state the purpose's {fact}" for fact in required if fact not in facts]
    method = facts.get("method")
    if method is not None:
        c = claims_of(method.text)
        if c.modes != purpose.modes:
            out.append(f"its method states {_mode_words(c.modes)}; the purpose does "
                       f"{_mode_words(purpose.modes)}")
        reviewed = reviewers is not None
        if Mode.IDENTIFY in purpose.modes and c.review is not reviewed:
            out.append("its method does not say whether hits are reviewed by a person")
    retention = facts.get("retention")
    if retention is not None and not any(retention_matches(purpose.retention_days, d)
                                         for d in claims_of(retention.text).durations):
        out.append(f"its retention does not state {days(purpose.retention_days, 'en')}")
    storage = facts.get("storage")
    if storage is not None and claims_of(storage.text).storage != {purpose.storage_mode}:
        out.append(f"its storage does not state {purpose.storage_mode.value} storage alone")
    offered = facts.get("alternatives")
    if offered is not None:
        names = [a.name.get(offered.lang, "") for a in purpose.alternatives]
        if not purpose.alternatives and purpose.mandate:
            names = [purpose.mandate.get(offered.lang, "")]
        absent = [n or "(no words)" for n in names if not n or n not in offered.text]
        if absent:
            out.append(f"its alternatives do not name {', '.join(absent)}")
    return out


def statement_rules(purpose: Purpose, reviewers: int | None,
                    statements: Sequence[Statement], profile: JurisdictionProfile, *,
                    document: str, required: Sequence[str] = ()) -> list[Reason]:
    """R6 (a notice), R14 (an impact assessment): no paragraph of ``document`` contradicts
    the purpose's records (its modes, the review of its hits, its retention, its storage
    place; a notice tells a visitor to do nothing they cannot do at the kiosk or at an
    address), and its generated paragraphs state each fact of ``required`` as the
    records have it. ``reviewers``: how many reviewers confirm each identification hit,
    ``None`` when review is not configured. The message names the item, the language and
    what disagrees."""
    rule = "R6" if document == "notice" else "R14"
    if not profile.applies(rule):
        return []
    visitors = document == "notice"
    problems: list[str] = []
    for s in statements:
        source = "generated from the records" if s.fact else "written"
        problems += [f"the {document}'s {s.item} ({s.lang}, {source}): {p}"
                     for p in _paragraph_problems(s, purpose, reviewers, visitors)]
    for lang in sorted({s.lang for s in statements}):
        facts = {s.fact: s for s in statements if s.lang == lang and s.fact}
        problems += [f"the {document} ({lang}): {p}"
                     for p in _coverage_problems(facts, required, purpose, reviewers)]
    if not problems:
        return []
    return [reason(profile, rule, "document.inconsistent",
                   f"the {document} of {purpose.key} does not agree with its records: "
                   f"{problems[0]}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1
                                       else ""), fields=tuple(problems))]


def assessment_deletion_rules(assessment: Assessment, now: datetime,
                              profile: JurisdictionProfile) -> list[Reason]:
    """R14: an assessment is kept for the profile's keep period (3 years)."""
    keep_until = assessment.signed_at + timedelta(days=profile.assessment_keep_days)
    if not profile.applies("R14") or now >= keep_until:
        return []
    return [reason(profile, "R14", "assessment.retained",
                   f"impact assessment {assessment.id} must be kept until "
                   f"{keep_until.date().isoformat()}")]


def consent_record_rules(*, purpose: Purpose, separate: bool, notice_version: int | None,
                         current_notice: int | None, method: ConsentMethod, minor: bool,
                         guardian_name: str | None,
                         profile: JurisdictionProfile) -> list[Reason]:
    """R3: separate and tied to the notice shown; R5: a named guardian for a child."""
    out: list[Reason] = []
    if profile.applies("R3"):
        if not separate:
            out.append(reason(profile, "R3", "consent.invalid",
                              "consent to face processing must be separate, not bundled with "
                              "other terms"))
        if current_notice is None or notice_version != current_notice:
            shown = "no notice" if notice_version is None else f"notice v{notice_version}"
            out.append(reason(profile, "R3", "consent.invalid",
                              f"consent must be tied to the current notice of {purpose.key} "
                              f"(v{current_notice}), not {shown}"))
        if method not in profile.consent_methods:
            out.append(reason(profile, "R3", "consent.invalid",
                              f"{profile.key} requires a {profile.consent_form} consent; "
                              f"{method} does not qualify"))
    if profile.applies("R5") and minor and not (guardian_name or "").strip():
        out.append(reason(profile, "R5", "consent.guardian_missing",
                          f"the subject is under {profile.minor_age}: a parent or guardian must "
                          "consent, and be named"))
    return out


def processing_rules(req: ProcessingRequest) -> list[Reason]:
    """Every rule that applies to an enroll, verify, identify or export request."""
    p, purpose, site = req.profile, req.purpose, req.site
    if purpose is None or site is None:
        return [reason(p, "R1", "purpose.not_registered",
                       f"purpose {req.purpose_key!r} is not registered" if req.purpose_key
                       else "every biometric operation must name a registered purpose")]
    out: list[Reason] = []
    if purpose.status is not PurposeStatus.ACTIVE:
        rule = "R14" if purpose.status is PurposeStatus.SUSPENDED else "R1"
        out.append(reason(p, rule, "purpose.not_active",
                          f"purpose {purpose.key} is {purpose.status}; only active purposes "
                          "process faces"))
    out += assessment_rules(purpose, req.assessment_current, p)
    needed = {Operation.VERIFY: Mode.VERIFY, Operation.IDENTIFY: Mode.IDENTIFY}.get(req.operation)
    if needed is not None and needed not in purpose.modes:
        out.append(reason(p, "R1", "purpose.mode_not_allowed",
                          f"purpose {purpose.key} does not allow {needed}"))
    out += [r for r in site_rules(site, p) if r.rule == "R13"]
    if p.applies("R13") and site.public_place and not purpose.public_security:
        out.append(reason(p, "R13", "site.public_place_unmet",
                          f"site {site.key} is a public place: only public security may use it"))
    if req.gallery is not None and req.gallery.key != purpose.key:
        public = req.gallery_site is not None and req.gallery_site.public_place
        out.append(reason(p, "R13" if public else "R2", "gallery.cross_purpose",
                          f"templates collected for {req.gallery.key} may not be searched for "
                          f"{purpose.key}; consent and notice cover one purpose"))
    if req.subject is not None:
        out += _subject_rules(req, purpose)
    out += liveness_rules(req, purpose)
    if req.operation is Operation.VERIFY:
        for pack in purpose.packs_in_use(req.now):
            own = req.calibration if pack == purpose.pack else req.next_calibration
            out += verification_calibration_rules(purpose, own, req.shipped.get(pack), p,
                                                  pack=pack)[0]
    if req.operation is Operation.IDENTIFY:
        out += calibration_rules(purpose, req.calibration, p)
        if purpose.next_pack is not None and purpose.next_pack in purpose.packs_in_use(req.now):
            out += calibration_rules(purpose, req.next_calibration, p, pack=purpose.next_pack)
    return out


_LIVENESS_WHY = {
    None: "no liveness receipt was given", "missing": "no liveness receipt was given",
    "unknown": "the liveness receipt is unknown", "used": "the liveness receipt was already used",
    "expired": "the liveness receipt has expired",
    "passive_refused": "the camera's passive liveness score of this face is below the minimum",
    "other_purpose": "the liveness receipt was issued for another purpose",
}


def liveness_rules(req: ProcessingRequest, purpose: Purpose) -> list[Reason]:
    """H1 (house rule): a purpose that requires liveness enrolls and verifies only with
    a passed liveness check's receipt, valid, unused and for this purpose."""
    if not purpose.liveness_required or req.operation not in (Operation.ENROLL,
                                                              Operation.VERIFY):
        return []
    if req.liveness == "passed":
        return []
    why = _LIVENESS_WHY.get(req.liveness, f"the liveness receipt is {req.liveness}")
    return [reason(req.profile, "H1", "liveness.required",
                   f"purpose {purpose.key} requires a passed liveness check to "
                   f"{req.operation.value}: {why}")]


def calibration_rules(purpose: Purpose, calibration: Calibration | None,
                      profile: JurisdictionProfile, *, pack: str | None = None,
                      identification: bool = True) -> list[Reason]:
    """R21: an identification threshold comes from a calibration on the purpose's own
    population, made with the purpose's pack, and equals the threshold evaluated.

    A threshold from LFW (the shipped defaults) is never applied silently to
    another population. With ``identification=False`` the same findings are
    returned for a verification purpose, which only warns.
    """
    if not profile.applies("R21") or (identification and Mode.IDENTIFY not in purpose.modes):
        return []
    pack = pack or purpose.pack
    threshold = purpose.threshold_for(pack)
    problem = None
    if calibration is None:
        problem = (f"its {pack} threshold is {'the shipped LFW-derived default' if threshold is None else 'not from a recorded calibration'}; "  # noqa: E501
                   "calibrate it on photos of the people it serves")
    elif calibration.lfw_derived:
        problem = (f"its {pack} threshold comes from a calibration on LFW, not on the population "
                   "it serves")
    elif calibration.pack != pack or calibration.purpose_key != purpose.key:
        problem = (f"its calibration {calibration.id} measured {calibration.pack} for "
                   f"{calibration.purpose_key}, not {pack} for {purpose.key}")
    elif threshold is None or abs(threshold - calibration.threshold) > 1e-9:
        problem = (f"its threshold {threshold} is not the evaluated one "
                   f"({calibration.threshold:.4f}, calibration {calibration.id})")
    if problem is None:
        return []
    return [reason(profile, "R21", "calibration.missing", f"purpose {purpose.key}: {problem}")]


def verification_calibration_rules(
        purpose: Purpose, calibration: Calibration | None, shipped: ShippedCalibration | None,
        profile: JurisdictionProfile, *, pack: str | None = None,
) -> tuple[list[Reason], list[Reason]]:
    """R21 for 1:1 verification: ``(refusals, warnings)``.

    A verification threshold comes from the purpose's own calibration if it has
    one, else from its pack's shipped calibration for the population the
    purpose serves (``shipped``), never from another population's:

    * an own calibration on LFW, for a purpose that does not serve the LFW
      population, is refused; so is one of another pack or purpose, or a
      threshold that is no longer the evaluated one;
    * without an own calibration, a purpose whose pack has no shipped
      calibration for its population is refused;
    * a threshold set by hand, or the shipped calibration for its population,
      is allowed with a warning: the shipped figures were measured on public
      figures' photos, not on the people the purpose serves.
    """
    if not profile.applies("R21"):
        return [], []
    pack = pack or purpose.pack
    threshold = purpose.threshold_for(pack)
    who = f"purpose {purpose.key}"
    if calibration is not None:
        problem = None
        if calibration.lfw_derived and not is_lfw_population(purpose.population):
            problem = (f"its {pack} threshold comes from a calibration on LFW, not on the "
                       f"population it serves ({purpose.population}); calibrate it on photos "
                       "of those people, or drop it to run at the shipped "
                       f"{purpose.population} calibration")
        elif calibration.pack != pack or calibration.purpose_key != purpose.key:
            problem = (f"its calibration {calibration.id} measured {calibration.pack} for "
                       f"{calibration.purpose_key}, not {pack} for {purpose.key}")
        elif threshold is None or abs(threshold - calibration.threshold) > 1e-9:
            problem = (f"its threshold {threshold} is not the evaluated one "
                       f"({calibration.threshold:.4f}, calibration {calibration.id})")
        if problem is None:
            return [], []
        return [reason(profile, "R21", "calibration.missing", f"{who}: {problem}")], []
    if threshold is not None:
        return [], [reason(profile, "R21", "calibration.missing",
                           f"{who}: its {pack} threshold {threshold} was set by hand, not "
                           "measured on the people it serves; calibrate it")]
    if shipped is None:
        return [reason(profile, "R21", "calibration.missing",
                       f"{who}: {pack} has no shipped calibration for the population it serves "
                       f"({purpose.population}) and the purpose has none of its own; "
                       "calibrate it on photos of those people")], []
    lo, hi = shipped.fmr_interval
    return [], [reason(profile, "R21", "calibration.missing",
                       f"{who}: its {pack} threshold {shipped.threshold:.4f} is the shipped "
                       f"{shipped.population} calibration (FMR {100 * lo:.3f}-{100 * hi:.3f}% "
                       f"on {shipped.dataset}), measured on public figures' photos, not on the "
                       "people it serves; calibrate it on them")]


def consent_rules(profile: JurisdictionProfile, *, subject_id: str, purpose_key: str,
                  consent: ConsentState) -> list[Reason]:
    """Live biometric consent for the purpose (R2), not withdrawn (R4)."""
    if not profile.applies("R2") or consent.granted:
        return []
    if consent.withdrawn:
        return [reason(profile, "R4", "consent.withdrawn",
                       f"subject {subject_id} withdrew consent for {purpose_key}")]
    return [reason(profile, "R2", "consent.missing",
                   f"subject {subject_id} has not given separate consent for {purpose_key}")]


def _subject_rules(req: ProcessingRequest, purpose: Purpose) -> list[Reason]:
    p, s = req.profile, req.subject
    assert s is not None
    out = consent_rules(p, subject_id=s.id, purpose_key=purpose.key, consent=s.consent)
    if p.applies("R5") and s.minor and s.consent.granted and s.consent.guardian_name is None:
        out.append(reason(p, "R5", "consent.guardian_missing",
                          f"subject {s.id} is under {p.minor_age}: the consent on record is not "
                          "a guardian's"))
    leaves_device = (req.operation is Operation.EXPORT or
                     (req.operation is Operation.ENROLL and
                      (purpose.storage_mode is StorageMode.CENTRAL or req.central_store)))
    if (p.applies("R8") and req.operation is Operation.ENROLL and req.central_store
            and purpose.storage_mode is not StorageMode.CENTRAL):
        out.append(reason(p, "R8", "transfer.not_permitted",
                          f"{purpose.key} keeps templates on the device (its storage mode is "
                          "device): this deployment's store is central; register the purpose "
                          "with storage mode central, and tell people, to use it here"))
    elif p.applies("R8") and leaves_device and not s.transfer_consent:
        out.append(reason(p, "R8", "transfer.not_permitted",
                          f"templates of {s.id} stay on the device: moving them needs the "
                          "subject's separate transfer consent"))
    if p.applies("R10") and req.retain_image and not s.retain_image_consent:
        out.append(reason(p, "R10", "image.retention_refused",
                          f"raw images of {s.id} are discarded after extraction unless the "
                          "subject separately consents to keeping them"))
    return out
