"""How stored values (modes, statuses, event names...), dates and numbers read in each language."""

from __future__ import annotations

from datetime import date, datetime
from typing import Final

from ..clock import CHINA_TZ
from .labels import text
from .models import Lang

__all__ = ["fmt_date", "fmt_int", "fmt_rate", "fmt_share", "fmt_time", "value_label"]

_VALUES: Final[dict[str, tuple[str, str]]] = {
    "verify": ("1:1 验证（核验身份）", "1:1 verification (verifying identity)"),
    "identify": ("1:N 辨识（辨识特定个人）", "1:N identification (identifying a person)"),
    "device": ("设备本地", "on the device"),
    "central": ("集中存储", "central"),
    "draft": ("草稿", "draft"),
    "active": ("生效", "active"),
    "suspended": ("暂停", "suspended"),
    "biometric": ("人脸识别", "biometric"),
    "transfer": ("传出设备", "transfer"),
    "retain_image": ("保存图像", "retain image"),
    "granted": ("同意", "granted"),
    "withdrawn": ("撤回", "withdrawn"),
    "written": ("书面", "written"),
    "electronic_signature": ("电子签名", "electronic signature"),
    "on_screen": ("屏幕确认", "on screen"),
    "recorded_verbal": ("录音口头", "recorded verbal"),
    "subject": ("本人", "subject"),
    "guardian": ("监护人", "guardian"),
    "pending": ("待复核", "pending"),
    "confirmed": ("已确认", "confirmed"),
    "rejected": ("已驳回", "rejected"),
    "expired": ("已过期", "expired"),
    "adult": ("成年", "adult"),
    "minor": ("未成年", "minor"),
    "office": ("办公场所", "office"),
    "building_entrance": ("楼宇出入口", "building entrance"),
    "residential_entrance": ("住宅小区出入口", "residential entrance"),
    "bank_branch": ("银行网点", "bank branch"),
    "hotel_lobby": ("酒店大堂", "hotel lobby"),
    "station": ("车站", "station"),
    "airport": ("机场", "airport"),
    "school": ("学校", "school"),
    "retail": ("商业零售场所", "retail"),
    "public_square": ("公共广场", "public square"),
    "match": ("匹配", "match"),
    "no_match": ("不匹配", "no match"),
    "candidates": ("有候选", "candidates"),
    "ok": ("成功", "ok"),
    "erased": ("已删除", "erased"),
    # audit event names: Chinese words, the stable names in English
    "enroll": ("人脸录入", "enroll"),
    "consent-granted": ("同意", "consent-granted"),
    "consent-withdrawn": ("撤回同意", "consent-withdrawn"),
    "subject-registered": ("登记", "subject-registered"),
    "subject-access": ("查阅请求", "subject-access"),
    "subject-erased": ("删除", "subject-erased"),
    "report-generated": ("生成文件", "report-generated"),
    "refusal": ("拒绝", "refusal"),
    "route-to-alternative": ("转替代方式", "route-to-alternative"),
    "export": ("导出", "export"),
    "act-on-hit": ("依据命中采取行动", "act-on-hit"),
}


def value_label(lang: Lang, value: str) -> str:
    """A stored vocabulary value (mode, status, scope...) in words; unknown values as they are."""
    pair = _VALUES.get(value)
    if pair is None:
        return value
    return pair[0] if lang is Lang.ZH else pair[1]


_MONTHS: Final = ("January", "February", "March", "April", "May", "June", "July", "August",
                  "September", "October", "November", "December")


def fmt_date(lang: Lang, day: date | None) -> str:
    """A date in words: ``2025年11月13日`` or ``13 November 2025``."""
    if day is None:
        return text(lang, "none")
    if lang is Lang.ZH:
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def fmt_time(lang: Lang, moment: datetime | str | None) -> str:
    """A moment in China Standard Time (UTC+8), to the minute."""
    if moment is None:
        return text(lang, "none")
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    local = moment.astimezone(CHINA_TZ)
    clock = f"{local.hour:02d}:{local.minute:02d}"
    if lang is Lang.ZH:
        return f"{fmt_date(lang, local.date())} {clock}（北京时间）"
    return f"{fmt_date(lang, local.date())}, {clock} CST (UTC+8)"


def fmt_int(value: int) -> str:
    """An integer with thousands separators."""
    return f"{value:,}"


def fmt_share(part: int, whole: int) -> str:
    """``part`` of ``whole`` as a percentage with one decimal, or a dash."""
    return "–" if whole == 0 else f"{100.0 * part / whole:.1f}%"


def fmt_rate(rate: object) -> str:
    """A rate record (``value``, ``errors``, ``trials``, ``ci95``) as ``0.12% (3/2,500; 95%
    0.04-0.35%)``; a dash when absent."""
    if not isinstance(rate, dict) or not rate.get("trials"):
        return "–"
    lo, hi = rate.get("ci95", [0.0, 0.0])
    return (f"{100 * float(rate['value']):.3g}% ({int(rate['errors']):,}/"
            f"{int(rate['trials']):,}; 95% {100 * float(lo):.3g}–{100 * float(hi):.3g}%)")
