"""What a paragraph says about a purpose's processing, read from its words.

A notice or an assessment that states a method, a retention period, a storage
place or a review the purpose's records do not have contradicts them. :func:`claims_of`
finds these statements in Chinese and English text, by their usual wording:

* the comparison: ``1:1`` (``1：1``, ``一比一``, ``one-to-one``) and ``1:N`` (``一比多``,
  ``one-to-many``), with ``only`` / ``仅`` / ``只`` making the statement exclusive;
* a duration near a word of keeping or deleting (``保存``, ``kept``, ``retention``...):
  days, months or years;
* the storage place: on the device (``设备本地``, ``on the device``, ``locally``...) or
  central (``集中存储``, ``server``, ``cloud``...);
* review of hits by a person, or its absence;
* an instruction to run a command (a ``facegate`` command, a ``--flag``, text in
  backquotes, ``命令行``, ``command line``): what a visitor is told to do must be
  possible at the kiosk or at an address, never at a command line.

It reads words, so it finds what is written the usual way; the policy layer
(:func:`facegate.policy.rules.statement_rules`) compares what it finds with the
records. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from .models import Mode, StorageMode

__all__ = ["Claims", "claims_of", "retention_matches"]

_VERIFY: Final = re.compile(r"(?<![\d:：])1\s*[:：比对]\s*1(?![\d])|一比一|一对一|one[- ]to[- ]one",
                            re.IGNORECASE)
_IDENTIFY: Final = re.compile(r"(?<![\d:：])1\s*[:：比对]\s*[nN多](?![a-zA-Z])|一比多|一对多|"
                              r"one[- ]to[- ]many", re.IGNORECASE)
_ONLY: Final = re.compile(r"\bonly\b|\bsolely\b|\bexclusively\b|仅|只", re.IGNORECASE)
_KEEP: Final = re.compile(r"保存|保留|存储|删除|期限|\bkept\b|\bkeep|\bretain|\bretention\b|"
                          r"\bstored?\b|\bdelet|\berase", re.IGNORECASE)
_NUMBERS: Final = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twelve": 12, "一": 1,
                    "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
                    "九": 9, "十": 10}
_DURATION: Final = re.compile(
    r"(\d[\d,]*|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve)\b|[一二两三四五六七八九十]+)"
    r"\s*(?:(天|日|days?\b)|(个月|月|months?\b)|(年|years?\b))", re.IGNORECASE)
_DEVICE: Final = re.compile(r"设备本地|本地存储|本地保存|不传出设备|"
                            r"存储于[^。；;]*设备|保存在[^。；;]*设备|"
                            r"on the device|in the device|off the device|on[- ]device|"
                            r"\blocal(?:ly)?\b|\blocal storage\b", re.IGNORECASE)
_CENTRAL: Final = re.compile(r"集中存储|服务器|云端|云存储|中心数据库|centrally|\bcentral\b|"
                             r"\bservers?\b|\bcloud\b", re.IGNORECASE)
_NO_REVIEW: Final = re.compile(r"不经人工复核|无人工复核|无需人工复核|不进行人工复核|"
                               r"not checked by a person|"
                               r"not reviewed|no human review|without (?:human )?review",
                               re.IGNORECASE)
_REVIEW: Final = re.compile(r"人工复核|复核人员|human review|reviewed by|\breviewers?\b",
                            re.IGNORECASE)
_REVIEWERS: Final = re.compile(r"(\d+)\s*名[^。；;]*复核|(\d+)\s+(?:different\s+)?authori[sz]ed "
                               r"reviewers?", re.IGNORECASE)
_COMMAND: Final = re.compile(r"`|\bfacegate\s+[a-z]|(?:^|\s)--[a-z]|命令行|\bcommand[- ]line\b|"
                             r"\bcli\b|运行命令|执行命令", re.IGNORECASE)
_SENTENCE_END: Final = re.compile(r"(?<=[。；;！!？?\n])|(?<=\.)\s+")


@dataclass(frozen=True, slots=True)
class Claims:
    """What one paragraph states.

    Args:
        modes: the comparison methods it names.
        exclusive_modes: the methods named with ``only`` in one sentence (the
            method is said to be these alone), or ``None``.
        durations: the retention periods it states, in days as a range (a month is
            28-31 days, a year 365-366).
        storage: the storage places it states.
        review: ``True`` when it says hits are reviewed by a person, ``False`` when it
            says they are not, ``None`` when it says neither.
        reviewers: the numbers of reviewers it states.
        command: it tells the reader to run a command.
    """

    modes: frozenset[Mode]
    exclusive_modes: frozenset[Mode] | None
    durations: tuple[tuple[int, int], ...]
    storage: frozenset[StorageMode]
    review: bool | None
    reviewers: tuple[int, ...]
    command: bool


def _modes(text: str) -> frozenset[Mode]:
    found = set()
    if _VERIFY.search(text):
        found.add(Mode.VERIFY)
    if _IDENTIFY.search(text):
        found.add(Mode.IDENTIFY)
    return frozenset(found)


def _number(word: str) -> int:
    """``365``, ``1,096``, ``twelve``, ``十二``, ``二十四`` as a number."""
    if word[0].isdigit():
        return int(word.replace(",", ""))
    if word.lower() in _NUMBERS:
        return _NUMBERS[word.lower()]
    tens, _, ones = word.partition("十")
    if "十" not in word:
        return _NUMBERS.get(word, 0)
    return (_NUMBERS.get(tens, 1) if tens else 1) * 10 + (_NUMBERS.get(ones, 0) if ones else 0)


def _days(number: str, day: str | None, month: str | None) -> tuple[int, int]:
    n = _number(number)
    if day:
        return (n, n)
    if month:
        return (28 * n, 31 * n)
    return (365 * n, 366 * n)


def claims_of(text: str) -> Claims:
    """What ``text`` (one paragraph, Chinese or English) states about the processing."""
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
    exclusive: set[Mode] | None = None
    durations: list[tuple[int, int]] = []
    for sentence in sentences:
        named = _modes(sentence)
        if named and _ONLY.search(sentence):
            exclusive = (exclusive or set()) | named
        if _KEEP.search(sentence):
            durations += [_days(m.group(1), m.group(2), m.group(3))
                          for m in _DURATION.finditer(sentence)]
    storage = set()
    if _DEVICE.search(text):
        storage.add(StorageMode.DEVICE)
    if _CENTRAL.search(text):
        storage.add(StorageMode.CENTRAL)
    review: bool | None = None
    if _NO_REVIEW.search(text):
        review = False
    elif _REVIEW.search(text):
        review = True
    reviewers = tuple(int(m.group(1) or m.group(2)) for m in _REVIEWERS.finditer(text))
    return Claims(modes=_modes(text),
                  exclusive_modes=None if exclusive is None else frozenset(exclusive),
                  durations=tuple(durations), storage=frozenset(storage), review=review,
                  reviewers=reviewers, command=bool(_COMMAND.search(text)))


def retention_matches(days: int, stated: tuple[int, int]) -> bool:
    """Whether a stated period (a range of days) is the retention of ``days`` days."""
    low, high = stated
    return low <= days <= high
