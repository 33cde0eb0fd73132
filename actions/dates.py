"""Read the day and time an elderly Huế citizen gives for a clinic visit, typed or spoken.

Standard library only. The answer is folded to plain words and read with a few regular
expressions; each phrase read is blanked out so that its numbers are not read twice.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, time, timedelta

from common.numbers import digits_in_words
from common.text import fold


@dataclass(frozen=True)
class When:
    day: date | None  # the calendar day meant, or None when no day was said
    part_of_day: str | None  # "morning", "noon", "afternoon", "evening" or None
    at: time | None  # a clock time when one was said, else None


# With diacritics these words are unambiguous; folded they would clash (mốt/một, bây giờ/bảy giờ).
_ACCENTED_REWRITES = (
    (r"\bbây (?:giờ|chừ)\b|\bchừ\b", "hôm nay"),
    (r"\bmơi\b", "mai"),
    (r"\btuần tới\b", "tuần sau"),
    (r"\btháng giêng\b", "tháng 1"),  # the lunar names of the first and last months
    (r"\btháng chạp\b", "tháng 12"),
    (r"(?<!mươi )\bmốt\b", "ngày kia"),
    (r"(?<!mươi )(?<!mười )\bmột\b", "1"),
)
# With diacritics on, a word that folds like a date word counts only if spelled as one: 'tôi' (I)
# is not 'tối' (evening), 'bà' is not 'ba' (three), 'mới' is not 'mơi'.
_VOCABULARY = frozenset(
    "hôm nay này ni bữa ngày mai kia qua thứ hai ba tư năm sáu bảy chủ nhật tuần sau sáng trưa chiều"
    " tối buổi giờ rưỡi phút kém tháng mùng mồng một bốn lăm tám chín mười mươi mốt".split()
)
_KEYWORDS = frozenset(fold(word) for word in _VOCABULARY)
# Without diacritics, mơi/mới, mốt/một, chừ/chú and tối/tôi look alike: read them as date words only
# right after a day word, or when they are the whole answer.
_PLAIN_REWRITES = (
    (r"\bthang gieng\b", "thang 1"),
    (r"\bthang chap\b", "thang 12"),
    (r"\btuan toi\b", "tuan sau"),
    (r"\b(bua|ngay|hom|sang|trua|chieu) moi\b|^moi$", r"\1 mai"),
    (r"\b(bua|ngay|sang|trua|chieu|toi) mot\b(?! thang)|^mot$", r"\1 ngay kia"),
    (r"\bbay chu\b|^chu$", "hom nay"),
    (r"(?<!buoi )(?<!gio )(?<!\dh )\btoi\b(?!$| (?:nay|ni|mai|hom|bua|ngay|mung|thu|chu|cn|t\d|\d))", "tui"),
)
# A token with digits is kept only in a date or time shape; codes and phone numbers are dropped.
_NUMERIC_TOKEN = re.compile(r"\d{1,2}|\d{4}|\d{1,2}:\d{2}|\d{1,2}[/-]\d{1,2}(?:[/-](?:\d{4}|\d{2}))?")

_UNITS = {"mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5, "lam": 5, "sau": 6, "bay": 7,
          "tam": 8, "chin": 9}
_LEAD = "hai|ba|bon|nam|sau|bay|tam|chin"
_NUM = rf"(?:\d{{1,2}}|(?:(?:{_LEAD}) )?muoi(?: (?:mot|tu|lam|{_LEAD}))?|mot|{_LEAD})"

_DATES = (
    re.compile(r"\b(?P<d>\d{1,2})[/-](?P<m>\d{1,2})(?:[/-](?P<y>\d{4}|\d{2}))?\b(?! ?(?:gio|h|g)\b)"),
    re.compile(rf"\b(?:(?:ngay|mung|mong) )*(?P<d>{_NUM}) thang (?P<m>{_NUM})(?: nam (?P<y>\d{{4}}))?\b"),
    re.compile(rf"\b(?:ngay (?:mung |mong )?|mung |mong )(?P<d>{_NUM})\b"),
)
_WEEKDAY = re.compile(r"\b(?:thu (hai|ba|tu|nam|sau|bay)|(?:thu|t) ([2-7])|(chu nhat|cn))\b")
_WEEKDAYS = {"hai": 0, "2": 0, "ba": 1, "3": 1, "tu": 2, "4": 2, "nam": 3, "5": 3, "sau": 4, "6": 4,
             "bay": 5, "7": 5, "chu nhat": 6, "cn": 6}
_WEEK = re.compile(r"\btuan (sau|nay|ni)\b")
_TIME = re.compile(
    rf"\b(?P<h>{_NUM}) ?(?:(?:gio|h|g|:)(?: ?(?P<kem>kem)? ?(?P<m>{_NUM}|ruoi)(?: ?(?:phut|p))?)?"
    r"|(?P<half>ruoi))\b"
)
_PART = re.compile(r"\b(sang|trua|chieu|toi)\b")
_PARTS = {"sang": "morning", "trua": "noon", "chieu": "afternoon", "toi": "evening"}
# Hours 1..N-1 move to the afternoon; with no part of day, 1-6 do, as clinics close at 17h.
_PM_BELOW = {"morning": 0, "noon": 6, "afternoon": 12, "evening": 12, None: 7}
_RELATIVE = (
    (re.compile(r"\b(?:hom|bua) qua\b"), -1),
    (re.compile(r"\bhom kia\b"), -2),
    (re.compile(r"\b(?:ngay|bua) kia\b"), 2),
    (re.compile(r"\bmai\b"), 1),
    (re.compile(r"(?<!tuan )(?<!thang )(?<!nam )\bnay\b|\b(?:hom|bua) ni\b"), 0),
)


def parse_when(text: str, today: date) -> When:
    """'cho tui đặt lịch chiều thứ năm nghe' -> the coming Thursday, afternoon, no clock time."""
    # Numbers said in words ("hai mươi lăm tháng mười một", "mười giờ rưỡi") as digits first.
    words = _prepare(digits_in_words(text))
    part = _part_of_day(words)
    date_match, words = _take(_DATES, words)
    weekday_match, words = _take((_WEEKDAY,), words)
    time_match, words = _take((_TIME,), words)
    if date_match:
        day = _calendar_day(date_match, today)
    elif weekday_match:
        day = _weekday(weekday_match, words, today)
    else:
        day = _relative_day(words, today)
    return When(day, part, _clock(time_match, part) if time_match else None)


def _prepare(text: str) -> str:
    lowered = " ".join(re.sub(r"[^\w/:-]+", " ", unicodedata.normalize("NFC", text).lower()).split())
    if fold(lowered) == lowered:
        words = _rewrite(lowered, _PLAIN_REWRITES)
    else:
        words = " ".join(
            "_" if fold(word) in _KEYWORDS and word not in _VOCABULARY else fold(word)
            for word in _rewrite(lowered, _ACCENTED_REWRITES).split()
        )
    words = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", " ", words)  # "thu5", "9h30", "ngay15"
    words = re.sub(r"(?<=\d) ?([/:]) ?(?=\d)", r"\1", words)  # "15 / 12"
    return " ".join(
        word if not re.search(r"\d", word) or _NUMERIC_TOKEN.fullmatch(word) else "_"
        for word in words.split()
    )


def _rewrite(text: str, rules: tuple[tuple[str, str], ...]) -> str:
    for pattern, replacement in rules:
        text = re.sub(pattern, replacement, text)
    return text


def _take(patterns: tuple[re.Pattern, ...], words: str) -> tuple[re.Match | None, str]:
    """The first match of the first pattern that matches, and the words with it blanked out."""
    for pattern in patterns:
        match = pattern.search(words)
        if match:
            return match, f"{words[:match.start()]} ; {words[match.end():]}"
    return None, words


def _number(token: str) -> int:
    if token.isdigit():
        return int(token)
    tens, has_tens, ones = token.partition("muoi")
    if not has_tens:
        return _UNITS[token]
    return _UNITS.get(tens.strip(), 1) * 10 + _UNITS.get(ones.strip(), 0)


def _part_of_day(words: str) -> str | None:
    match = _PART.search(words)
    return _PARTS[match.group(1)] if match else None


def _calendar_day(match: re.Match, today: date) -> date | None:
    fields = match.groupdict()
    day = _number(fields["d"])
    if fields.get("m") is None:  # "ngày 15": this month, else the next month that has that day
        months = [divmod(today.year * 12 + today.month - 1 + k, 12) for k in range(3)]
        candidates = [_safe_date(year, month + 1, day) for year, month in months]
    elif fields.get("y"):
        year = int(fields["y"])
        return _safe_date(year + 2000 if year < 100 else year, _number(fields["m"]), day)
    else:  # no year: the next such day on or after today
        month = _number(fields["m"])
        candidates = [_safe_date(today.year + k, month, day) for k in range(2)]
    return next((c for c in candidates if c and c >= today), None)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _weekday(match: re.Match, words: str, today: date) -> date:
    weekday = _WEEKDAYS[next(group for group in match.groups() if group)]
    week = _WEEK.search(words)
    if week is None:
        return today + timedelta((weekday - today.weekday()) % 7)
    monday = today - timedelta(today.weekday() - (7 if week.group(1) == "sau" else 0))
    return monday + timedelta(weekday)


def _relative_day(words: str, today: date) -> date | None:
    return next((today + timedelta(offset) for pattern, offset in _RELATIVE if pattern.search(words)), None)


def _clock(match: re.Match, part: str | None) -> time | None:
    hour = _number(match["h"])
    minutes = match["m"]
    minute = 30 if match["half"] or minutes == "ruoi" else _number(minutes) if minutes else 0
    if 1 <= hour < _PM_BELOW[part]:
        hour += 12
    if match["kem"]:  # "9 giờ kém 15" is 8:45
        hour, minute = hour - 1, 60 - minute
    return time(hour, minute) if 0 <= hour < 24 and 0 <= minute < 60 else None
