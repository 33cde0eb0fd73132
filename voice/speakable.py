"""Turn a chat answer into text a speech engine reads well to an elder.

Chat answers carry emoji, bullets, links and codes. Read aloud as written, a case code becomes "hai nghìn không trăm
hai mươi sáu" and a phone number a huge amount, so codes and phone numbers are read digit by digit in small groups,
with commas for the pauses elders need between groups. Other numbers stay as written: both engines read Vietnamese
numbers.
"""
from __future__ import annotations

import re
import unicodedata

from common.text import BOOKING_CODE_IN_TEXT, CASE_ID_IN_TEXT, PHONE_IN_TEXT, normalize_phone, phone_groups

DIGIT_WORDS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")

_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_MARKUP = re.compile(r"[*`]+")
_BULLET = re.compile(r"^\s*[-–](?=\s)|[•◦▪‣]")
# Emoji glue that is not itself a symbol: zero-width joiner, variation selectors, skin tones, keycap.
_EMOJI_GLUE = re.compile("[\u200d\ufe0e\ufe0f\u20e3\U0001f3fb-\U0001f3ff]")
_TIME = re.compile(r"\b([01]?\d|2[0-3])[:hg](\d{2})\b")
_DATE = re.compile(r"\b(0?[1-9]|[12]\d|3[01])/(0?[1-9]|1[0-2])(?:/(\d{4}))?\b")
_LINE_END = re.compile(r"[.!?…:;,]$")
# Spaces left where an emoji was, before punctuation or inside quotes and brackets.
_LOOSE_SPACE = re.compile(r" (?=[,.:;!?…)”])|(?<=[(“]) ")


def digits_spoken(digits: str) -> str:
    """'2026' -> 'hai không hai sáu'."""
    return " ".join(DIGIT_WORDS[int(d)] for d in digits)


def groups_spoken(*groups: str) -> str:
    """Digit groups, a comma (a pause) between groups: '0905', '123' -> 'không chín không năm, một hai ba'."""
    return ", ".join(digits_spoken(g) for g in groups)


def _case_code(match: re.Match) -> str:
    return "P A, " + groups_spoken(*match.groups())


def _booking_code(match: re.Match) -> str:
    return "L K, " + groups_spoken(*match.groups())


def _phone(match: re.Match) -> str:
    phone = normalize_phone(match.group())
    return groups_spoken(*phone_groups(phone)) if phone else match.group()


def _time(match: re.Match) -> str:
    hour, minute = int(match.group(1)), int(match.group(2))
    if minute > 59:
        return match.group()
    return f"{hour} giờ {minute}" if minute else f"{hour} giờ"


def _date(match: re.Match) -> str:
    day, month, year = match.groups()
    spoken = f"{int(day)} tháng {int(month)}"
    return f"{spoken} năm {year}" if year else spoken


def _drop_symbols(text: str) -> str:
    """Drop emoji and pictographs (symbols from U+2000 on); keep letters, digits, punctuation, ° and the like."""
    text = _EMOJI_GLUE.sub("", text)
    return "".join(c for c in text if not (ord(c) >= 0x2000 and unicodedata.category(c) == "So"))


def speakable(text: str) -> str:
    """The text as it should be spoken: one line, no emoji/links/markup, codes and phones digit by digit."""
    text = unicodedata.normalize("NFC", text)
    text = _URL.sub("", text)
    text = _drop_symbols(_MARKUP.sub("", text))
    text = CASE_ID_IN_TEXT.sub(_case_code, text)
    text = BOOKING_CODE_IN_TEXT.sub(_booking_code, text)
    text = PHONE_IN_TEXT.sub(_phone, text)
    text = _TIME.sub(_time, text)
    text = _DATE.sub(_date, text)
    sentences = []
    for line in text.splitlines():
        line = _LOOSE_SPACE.sub("", " ".join(_BULLET.sub(" ", line).split()))
        if line:
            # A line break is a pause in chat; without a full stop the engine runs the lines together.
            sentences.append(line if _LINE_END.search(line) else line + ".")
    return " ".join(sentences)
