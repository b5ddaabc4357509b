"""Test records in both languages, as a deployer under a Chinese profile writes them."""

from __future__ import annotations

#: The Chinese words of the English test records.
_ZH = {
    "Example Ltd": "示例有限公司", "Example Office Ltd": "示例办公有限公司", "Ex": "示例",
    "Ex GmbH": "示例有限责任公司", "Example Inc.": "示例股份公司", "Lobby": "大堂",
    "Branch": "分部", "Head office lobby": "总部大堂", "Shanghai": "上海市",
    "Illinois": "伊利诺伊州", "device storage": "设备本地存储",
    "device storage, access control": "设备本地存储、访问控制",
    "device storage, access control, audit trail": "设备本地存储、访问控制、审计日志",
    "central store, access control": "集中存储、访问控制",
    "separate consent": "单独同意", "consent": "同意",
    "separate consent (PIPL 29)": "单独同意（《个人信息保护法》第二十九条）",
    "staff badge with guard check": "员工卡加保安核验", "badge": "员工卡", "card": "卡",
    "guard": "保安核验", "guard check": "保安核验",
}


def both(en: str) -> dict[str, str]:
    """``en`` with its Chinese words (for an address or a name without its own Chinese
    words, the same characters marked as the Chinese record)."""
    return {"zh": _ZH.get(en, f"{en}（中文）"), "en": en}


def alt(en: str) -> dict[str, object]:
    """An alternative recorded under ``en``, named in both languages."""
    return {"key": en, "name": both(en)}
