"""Where a report is, from the words of the request itself: 'ngoài đường Phan Đình Phùng có cái cột điện nghiêng'
names a street but no house; 'trước số 12 đường Lê Lợi có ổ gà' is a place a worker can find.

Elders name a street, a kiệt or a ward as they describe the problem. What they said is kept; the question that follows
asks only for what is missing (a house number or a landmark). Standard library only; words are compared folded,
so 'duong phan dinh phung' reads like 'đường Phan Đình Phùng'.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from common.text import fold

from .categories import CATEGORY_WORDS

MAX_NAME_WORDS = 4
_STREET = {"duong", "pho"}
_ALLEY = {"kiet", "hem", "ngo", "ngach"}
_NUMBER = re.compile(r"\d+[a-z]?(?:/\d+)*", re.IGNORECASE)
_HOUSE = ("so nha", "nha so", "so")
_NEAR = ("gan", "truoc", "doi dien", "canh", "ngay", "sau")
_LANDMARKS = ("cho", "truong", "chua", "nha tho", "cau", "uy ban", "ubnd", "benh vien", "tram", "cong vien", "nga ba",
              "nga tu", "nga nam", "ben", "ga", "cong", "dinh", "lang", "cot dien so", "tru dien so", "hoi truong")
# Words that end a street's name when the request is typed in lower case: what follows is the problem.
_AFTER_NAME = {
    "co", "bi", "dang", "thi", "no", "ma", "roi", "sap", "gan", "truoc", "sau", "ngay", "o", "tai", "la", "nhieu",
    "lam", "qua", "hu", "hong", "nay", "ni", "do", "kia", "te", "phuong", "xa", "quan", "kiet", "hem", "ngo", "cai",
    "con", "may", "mot", "khong", "chua", "moi", "duoc", "cua", "va", "voi", "nhung", "tu", "den", "toi", "tui",
    "nha", "nuoc", "xe", "nguoi", "cho", "chau", "bac", "oi", "a", "nghe", "so", "canh", "doi",
    "cot", *(fold(word) for words in CATEGORY_WORDS.values() for word in words if " " not in word),
}


@dataclass(frozen=True)
class Place:
    text: str  # as the citizen wrote it: 'đường Phan Đình Phùng', 'số 12 đường Lê Lợi, phường Phú Xuân'
    precise: bool  # a house number, a numbered kiệt or a landmark: a worker can find it
    street: bool  # a street, a kiệt or a ward is named


def place_in(text: str, ward: str | None = None) -> Place | None:
    """The place a request names, if any; `ward` is the NLU's ward entity (its canonical name)."""
    words = re.findall(r"[\w/]+", text or "")
    folded = [fold(w) for w in words]
    parts: list[tuple[int, int]] = []  # spans of words, in order
    precise = street = False
    i = 0
    while i < len(words):
        house = _starts(folded, i, _HOUSE)
        if house and i + house < len(words) and _NUMBER.fullmatch(words[i + house]):
            parts.append((i, i + house + 1))
            precise, i = True, i + house + 1
            continue
        if folded[i] in _STREET | _ALLEY:
            end = _name_end(words, folded, i + 1)
            numbered = folded[i] in _ALLEY and i + 1 < len(words) and _NUMBER.fullmatch(words[i + 1])
            if end > i + 1 or numbered:
                if numbered:
                    end = max(end, _name_end(words, folded, i + 2))
                # '12 Lê Lợi', '12 đường Lê Lợi': the number just before names the house.
                if i and _NUMBER.fullmatch(words[i - 1]) and (not parts or parts[-1][1] < i):
                    parts.append((i - 1, i))
                    precise = True
                parts.append((i, end))
                precise, street = precise or bool(numbered), True
                i = end
                continue
        near = _starts(folded, i, _NEAR)
        landmark = _starts(folded, i + near, _LANDMARKS) if near else 0
        if landmark:
            end = _name_end(words, folded, i + near + landmark)
            parts.append((i, end if end > i + near + landmark else i + near + landmark))
            precise, i = True, parts[-1][1]
            continue
        i += 1
    place = ", ".join(" ".join(words[a:b]) for a, b in _joined(parts))
    if ward and fold(ward) not in fold(place):
        place = ", ".join(filter(None, [place, f"phường {ward}"]))
    return Place(place, precise, street or bool(ward)) if place else None


def _starts(folded: list[str], i: int, phrases: tuple[str, ...]) -> int:
    """How many words of `folded` from i make one of the phrases (the longest), or 0."""
    for phrase in sorted(phrases, key=len, reverse=True):
        size = len(phrase.split())
        if " ".join(folded[i:i + size]) == phrase:
            return size
    return 0


def _name_end(words: list[str], folded: list[str], start: int) -> int:
    """Where a name that starts at `start` ends: capitalised words when the citizen writes capitals, else the
    words before the first that tells of something else."""
    capitals = any(w[:1].isupper() for w in words[1:])
    end = start
    while end < len(words) and end - start < MAX_NAME_WORDS:
        word = words[end]
        if _NUMBER.fullmatch(word):
            break
        if capitals and not word[:1].isupper():
            break
        if not capitals and folded[end] in _AFTER_NAME:
            break
        end += 1
    return end


def _joined(parts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Adjacent spans as one: 'số 12' and 'đường Lê Lợi' are 'số 12 đường Lê Lợi'."""
    joined: list[tuple[int, int]] = []
    for start, end in parts:
        if joined and start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(end, joined[-1][1]))
        else:
            joined.append((start, end))
    return joined
