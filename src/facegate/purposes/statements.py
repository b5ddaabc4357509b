"""What a purpose's records say, in words, per language: the paragraphs of its notice and
of its impact assessment.

What the purpose does is never typed by hand. Its processing method (1:1
verification, 1:N identification), the review of identification hits, liveness,
retention, where templates are stored, the alternative and how a visitor
withdraws are generated here from the purpose's own settings, in each language.
The deployer's words (a notice's items, an assessment's signed statements) are
added after them and cannot replace them; the policy layer checks that no
paragraph of either kind contradicts the records
(:func:`facegate.policy.rules.statement_rules`), when a notice is published or an
assessment signed, at activation and at each document's generation.

Every instruction to a visitor names something they can do at the kiosk or at
an address of the service, never a command.

Pure: records in, :class:`Statement` out. A further generated section (the
cameras of a purpose, say) is one more function returning statements under its
own ``fact`` name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from ..organisation.models import Processor, Site
from ..texts import Text, days
from .models import ASSESSMENT_ITEMS, NOTICE_ITEMS, Mode, Purpose, StorageMode

__all__ = [
    "ASSESSMENT_FACTS",
    "NOTICE_FACTS",
    "Setting",
    "Statement",
    "assessment_statements",
    "fact_statements",
    "notice_statements",
    "words",
]


@dataclass(frozen=True, slots=True)
class Setting:
    """The records a purpose's statements are generated from.

    Args:
        purpose: the purpose.
        site: its capture site.
        processor: the processor (name and contact).
        reviewers: how many distinct authorised reviewers confirm each
            identification hit before anything acts on it (the jurisdiction's
            number, R19); ``None`` when review is not configured for the purpose.
    """

    purpose: Purpose
    site: Site
    processor: Processor
    reviewers: int | None


@dataclass(frozen=True, slots=True)
class Statement:
    """One paragraph of a document about a purpose.

    Args:
        item: the item it stands under: one of ``NOTICE_ITEMS``, ``ASSESSMENT_ITEMS``,
            or ``alternatives`` (the notice's section on declining).
        lang: its language.
        text: the words.
        fact: for a generated paragraph, which of the records it states
            (``method``, ``retention``, ``storage``, ``alternatives``, ``rights``,
            ``processor``, ``necessity``, ``legal_basis``, ``impact``); ``None`` for the
            deployer's own words.
    """

    item: str
    lang: str
    text: str
    fact: str | None = None

    @property
    def typed(self) -> bool:
        """Whether these are the deployer's words rather than generated from the records."""
        return self.fact is None


#: The facts every notice states, generated (R6, CN Art. 5).
NOTICE_FACTS: Final = ("processor", "method", "retention", "necessity", "rights", "storage",
                       "alternatives")
#: The facts every impact assessment states, generated (R14).
ASSESSMENT_FACTS: Final = ("method", "retention", "storage", "alternatives")

# The generated sentences: (zh, en).
_W: Final[dict[str, tuple[str, str]]] = {
    "processor": ("{name}，联系方式：{contact}。", "{name}; contact: {contact}."),
    "purpose": ("处理目的：{name}。{description}", "Purpose: {name}. {description}"),
    "verify": ("1:1 验证：将现场采集的人脸与您本人登记的人脸模板进行比对，以核验您的身份。",
               "1:1 verification: the face captured at the time is compared with your own "
               "enrolled template, to verify who you are."),
    "identify": ("1:N 辨识：将采集到的人脸与本目的全部登记人员的人脸模板进行比对，以辨识特定个人。",
                 "1:N identification: a captured face is compared with the templates of "
                 "everyone enrolled for this purpose, to identify a specific person."),
    "review.one": ("每一次辨识命中须经 1 名授权复核人员人工复核确认后，方可据以采取行动。",
                   "Every identification hit is confirmed by 1 authorised reviewer, a person, "
                   "before anything is done on it."),
    "review.many": ("每一次辨识命中须经 {n} 名不同的授权复核人员分别人工复核确认后，"
                    "方可据以采取行动。",
                    "Every identification hit is confirmed by {n} different authorised "
                    "reviewers, each a person, before anything is done on it."),
    "review.none": ("辨识命中不经人工复核。", "Identification hits are not checked by a person."),
    "liveness": ("采集时须通过活体检测，以防止使用照片或视频冒充。",
                 "Capture must pass a liveness check, against photos and videos held up "
                 "to the camera."),
    "images": ("照片只在内存中处理，提取人脸模板后即丢弃；只有您另行单独同意时，照片才会加密保存。",
               "Your photo is processed in memory and discarded once the face template is "
               "made; it is kept, encrypted, only if you separately agree."),
    "retention": ("人脸模板自录入之日起保存 {days}。期满后不再使用，并由定期的保存期限清理删除；"
                  "您撤回同意或要求删除时，立即删除。",
                  "Your face template is kept for {days} from enrollment. After that it is no "
                  "longer used, and the scheduled retention sweep erases it; it is deleted at "
                  "once when you withdraw consent or ask for erasure."),
    "necessity": ("必要性：{necessity}", "Why face recognition is necessary: {necessity}"),
    "impact": ("人脸信息属于敏感个人信息，一旦泄露或者被非法使用，可能危害您的人身和财产安全。"
               "您可以拒绝人脸识别，改用替代方式，不会因此受到不利对待。",
               "Face information is sensitive personal information: leaked or misused, it can "
               "harm your safety and property. You may refuse face recognition and use the "
               "alternative instead, without any disadvantage."),
    "impact.mandate": ("人脸信息属于敏感个人信息，一旦泄露或者被非法使用，"
                       "可能危害您的人身和财产安全。",
                       "Face information is sensitive personal information: leaked or "
                       "misused, it can harm your safety and property."),
    "rights": ("您可以随时撤回同意：在本场所的人脸登记终端选择“撤回同意”，输入回执上的个人凭证，"
               "本目的下您的人脸模板随即删除。查阅、复制或删除您的个人信息，请联系{contact}；"
               "持回执上的个人凭证，也可以通过本服务的个人信息地址 /v1/me 查阅或删除。",
               "You may withdraw your consent at any time: at this site's enrollment kiosk, "
               "choose \u201cWithdraw consent\u201d and enter the personal token on your "
               "receipt; your face template for this purpose is deleted at once. To see, copy "
               "or erase your personal information, contact {contact}; with the personal "
               "token on your receipt you can also see or erase it at this service's "
               "address /v1/me."),
    "legal_basis": ("处理依据：{basis}", "Legal basis: {basis}"),
    "storage.device": ("人脸模板存储于采集场所的人脸识别设备本地，不通过互联网向外传输；"
                       "模板传出设备须另行取得您的单独同意。",
                       "Your face template is stored on the device, the face recognition "
                       "device at the capture site, and is not sent out over the internet; "
                       "moving it off the device needs your separate consent."),
    "storage.central": ("人脸模板集中存储于{processor}的中心数据库；"
                        "模板离开采集场所须另行取得您的单独同意。",
                        "Your face template is stored centrally, in {processor}'s central "
                        "database rather than at the capture site; storing it there needs your "
                        "separate consent."),
    "alternatives": ("如您不同意使用人脸识别，可以选择以下方式：{names}。"
                     "选择替代方式不会对您产生任何不利影响。",
                     "If you do not agree to face recognition, you may use instead: {names}. "
                     "Choosing the alternative puts you at no disadvantage."),
    "mandate": ("依据{mandate}，本项服务只能使用人脸识别。",
                "Under {mandate}, face recognition is the only method for this service."),
}


def words(key: str, lang: str, **values: object) -> str:
    """A generated sentence in ``lang`` (Chinese for ``zh``, English otherwise)."""
    zh, en = _W[key]
    chosen = zh if lang == "zh" else en
    return chosen.format(**values) if values else chosen


def _in(text: Text | None, lang: str) -> str:
    """A record's words in ``lang``; empty when that language is missing (reported as
    ``notice.incomplete`` before activation and before a document is generated)."""
    return "" if text is None else text.get(lang, "")


def _join(lang: str, names: list[str]) -> str:
    return ("；" if lang == "zh" else "; ").join(names)


def fact_statements(setting: Setting, lang: str) -> dict[str, str]:
    """Each fact of the records in words: ``method`` (name, description, 1:1 or 1:N, the
    review of hits, liveness, images), ``retention``, ``storage``, ``alternatives``,
    ``rights``, ``processor``, ``necessity``, ``impact``, ``legal_basis``."""
    p, proc = setting.purpose, setting.processor
    method = [words("purpose", lang, name=_in(p.name, lang),
                    description=_in(p.description, lang))]
    if Mode.VERIFY in p.modes:
        method.append(words("verify", lang))
    if Mode.IDENTIFY in p.modes:
        method.append(words("identify", lang))
        if setting.reviewers is None:
            method.append(words("review.none", lang))
        elif setting.reviewers == 1:
            method.append(words("review.one", lang))
        else:
            method.append(words("review.many", lang, n=setting.reviewers))
    if p.liveness_required:
        method.append(words("liveness", lang))
    method.append(words("images", lang))
    space = "" if lang == "zh" else " "
    storage_key = "storage.central" if p.storage_mode is StorageMode.CENTRAL else "storage.device"
    if p.alternatives:
        alternatives = words("alternatives", lang,
                             names=_join(lang, [_in(a.name, lang) for a in p.alternatives]))
    else:
        alternatives = words("mandate", lang, mandate=_in(p.mandate, lang))
    return {
        "processor": words("processor", lang, name=_in(proc.name, lang),
                           contact=_in(proc.contact, lang)),
        "method": space.join(method),
        "retention": words("retention", lang, days=days(p.retention_days, lang)),
        "necessity": words("necessity", lang, necessity=_in(p.necessity, lang)),
        "impact": words("impact" if p.alternatives else "impact.mandate", lang),
        "rights": words("rights", lang, contact=_in(proc.contact, lang)),
        "legal_basis": words("legal_basis", lang, basis=_in(p.legal_basis, lang)),
        "storage": words(storage_key, lang, processor=_in(proc.name, lang)),
        "alternatives": alternatives,
    }


#: Which generated facts open each notice item, in order.
_NOTICE_LAYOUT: Final[dict[str, tuple[str, ...]]] = {
    "processor": ("processor",),
    "purpose_and_method": ("method",),
    "retention_period": ("retention",),
    "necessity_and_impact": ("necessity", "impact"),
    "how_to_exercise_rights": ("rights",),
    "other_legal_items": ("legal_basis", "storage"),
    "accessibility": (),
}

#: Which generated facts open each assessment item, in order.
_ASSESSMENT_LAYOUT: Final[dict[str, tuple[str, ...]]] = {
    "lawful_legitimate_necessary": ("legal_basis", "necessity", "method"),
    "rights_impact": ("impact",),
    "security_risks": (),
    "protection_measures": ("storage", "retention"),
    "alternatives_considered": ("alternatives",),
}


def _statements(layout: Mapping[str, tuple[str, ...]], setting: Setting,
                content: Mapping[str, Text], lang: str) -> tuple[Statement, ...]:
    facts = fact_statements(setting, lang)
    out: list[Statement] = []
    for item, generated in layout.items():
        out += [Statement(item=item, lang=lang, text=facts[f], fact=f) for f in generated]
        own = _in(content.get(item), lang)
        if own:
            out.append(Statement(item=item, lang=lang, text=own))
    return tuple(out)


def notice_statements(setting: Setting, content: Mapping[str, Text],
                      lang: str) -> tuple[Statement, ...]:
    """The notice in ``lang``: for each Art. 5 item its generated paragraphs, then the
    deployer's words for it (``content``, a published notice's), then the section on
    declining (``alternatives``)."""
    assert tuple(_NOTICE_LAYOUT) == NOTICE_ITEMS
    facts = fact_statements(setting, lang)
    return (*_statements(_NOTICE_LAYOUT, setting, content, lang),
            Statement(item="alternatives", lang=lang, text=facts["alternatives"],
                      fact="alternatives"))


def assessment_statements(setting: Setting, content: Mapping[str, Text],
                          lang: str) -> tuple[Statement, ...]:
    """The impact assessment's items in ``lang``: the records' paragraphs, then the signed
    statement of each item (``content``, the assessment's)."""
    assert tuple(_ASSESSMENT_LAYOUT) == ASSESSMENT_ITEMS
    return _statements(_ASSESSMENT_LAYOUT, setting, content, lang)
