"""Which of the offered choices a short spoken or typed answer picks: 'dạ có' -> 'Có', 'số hai' -> the 2nd.

Elders answer buttons by voice, or type without diacritics, with politeness words around the answer; speech
recognition adds small misspellings. Words are compared folded (common.text.fold), so a word typed without
diacritics matches any accented one; but when both sides carry diacritics and differ only in them ('thời' and
'thôi', 'cô' and 'có'), that counts as one letter wrong, since recognised speech always has its tones.
Anything that does not clearly pick one choice gives None, and the text goes to the NLU as it is.
"""
from __future__ import annotations

from collections.abc import Iterable

from common.text import fold, levenshtein, same_word, words, written_out

Words = tuple[str, ...]


def _phrases(texts: Iterable[str]) -> frozenset[Words]:
    return frozenset(words(text) for text in texts)


# Politeness and particles around an answer; they pick nothing. 'dạ' and 'vâng' alone still mean yes.
FILLERS = _phrases(("dạ", "ạ", "vâng", "cháu", "bác", "ơi", "nghe", "hỉ", "rứa", "đi", "luôn", "nha", "nhé", "đó",
                    "cảm ơn"))
# Whole answers that mean yes or no, and the button titles they pick (the bot's confirm and cancel buttons).
YES_WORDS = _phrases(("có", "ừ", "ừm", "ờ", "dạ", "vâng", "đúng", "đúng rồi", "được", "ok", "phải", "đồng ý"))
NO_WORDS = _phrases(("không", "ko", "khôn", "hông", "không phải", "không có", "không đúng", "không được", "sai",
                     "chưa", "chưa có", "thôi", "thôi khỏi", "khỏi"))
YES_CHOICES = _phrases(("có", "đồng ý", "gửi", "gửi đi", "đặt lịch", "hủy lịch", "xác nhận", "đúng"))
# "Thôi, không gửi" is not among them: a bare "không" at a summary means "not right yet" (the NLU's deny, which
# offers corrections), never "throw the report away".
NO_CHOICES = _phrases(("không", "không đồng ý", "không hủy", "không có ảnh", "sai"))
# Ordinal answers: 'hai', 'số 2', 'cái thứ ba', 'nút số 4'.
NUMBERS = {"một": 1, "nhất": 1, "hai": 2, "ba": 3, "bốn": 4, "tư": 4, "năm": 5, "lăm": 5, "sáu": 6, "bảy": 7,
           "tám": 8, "chín": 9, "mười": 10}
ORDINAL_PREFIXES = ("số", "thứ", "cái", "nút", "chọn", "lựa")
ENDS = {"first": _phrases(("đầu", "đầu tiên", "trên cùng")), "last": _phrases(("cuối", "cuối cùng", "dưới cùng"))}
# A choice may match part of an answer (or an answer part of a choice) only when the shared words have at least
# this many letters and are not a yes or no word: 'có', 'thôi', 'không' occur in too many other sentences.
MIN_PARTIAL_LETTERS = 5
UNRELATED = 1000


def _is(said: Words, phrases: frozenset[Words]) -> bool:
    return any(len(said) == len(p) and all(map(same_word, said, p)) for p in phrases)


def _without_fillers(said: Words) -> Words:
    longest = max(map(len, FILLERS))
    kept, i = [], 0
    while i < len(said):
        size = next((n for n in range(longest, 0, -1) if _is(said[i:i + n], FILLERS)), 0)
        if size:
            i += size
        else:
            kept.append(said[i])
            i += 1
    return tuple(kept)




def _edits(said: Words, choice: Words) -> int:
    """Letters wrong between equally long word runs, a wrong tone mark counting as one. A word too unlike its
    counterpart ('rác' for 'đã') makes the runs unrelated, however short the words."""
    if any(levenshtein(fold(s), fold(c)) > max(1, len(fold(c)) // 4) for s, c in zip(said, choice)):
        return UNRELATED
    tones = sum(fold(s) == fold(c) and not same_word(s, c) for s, c in zip(said, choice))
    return levenshtein(fold(" ".join(said)), fold(" ".join(choice))) + tones


def _fit(said: Words, choice: Words) -> int:
    """Fewest edits between the shorter of the two and a run of as many words in the longer."""
    if len(choice) <= len(said):
        return min(_edits(said[i:i + len(choice)], choice) for i in range(len(said) - len(choice) + 1))
    return min(_edits(said, choice[i:i + len(said)]) for i in range(len(choice) - len(said) + 1))


def _letters(words: Words) -> int:
    return len(fold("".join(words)))


def _telling(part: Words) -> bool:
    """Whether these words, found inside a longer answer or choice, say which choice is meant."""
    return _letters(part) >= MIN_PARTIAL_LETTERS and not _is(part, YES_WORDS | NO_WORDS)


def _contains(longer: Words, shorter: Words) -> bool:
    return any(longer[i:i + len(shorter)] == shorter for i in range(len(longer) - len(shorter) + 1))


def _one(indices: list[int]) -> int | None:
    return indices[0] if len(indices) == 1 else None


def _ordinal(said: Words) -> int | None:
    """'hai', '2', 'số hai', 'cái thứ 3' -> the number; None for anything else."""
    if not said or not all(any(same_word(w, p) for p in ORDINAL_PREFIXES) for w in said[:-1]):
        return None
    last = said[-1]
    if last.isdigit():
        return int(last)
    return next((n for word, n in NUMBERS.items() if same_word(last, word)), None)


def _end(said: Words) -> str | None:
    """'cái đầu', 'đầu tiên' -> 'first'; 'cái cuối', 'cuối cùng' -> 'last'."""
    core = tuple(w for w in said if not any(same_word(w, p) for p in ORDINAL_PREFIXES))
    return next((end for end, phrases in ENDS.items() if _is(core, phrases)), None)


def _closest(said: Words, choices: list[Words]) -> int | None:
    """The choice matching the answer best: whole, or as a part, within a few letters scaled to its length."""
    ranked = []
    for i, choice in enumerate(choices):
        shorter = choice if len(choice) <= len(said) else said
        partial = len(choice) != len(said)
        edits = _fit(said, choice)
        if edits <= _letters(shorter) // 5 and (not partial or _telling(shorter)):
            ranked.append(((edits, partial), i))
    if not ranked:
        return None
    best = min(rank for rank, _ in ranked)
    tied = [i for rank, i in ranked if rank == best]
    # 'đặt lịch khám bệnh' contains both 'Đặt lịch' and 'Đặt lịch khám bệnh': the longer one is meant.
    return _one([i for i in tied if not any(j != i and _contains(choices[j], choices[i]) for j in tied)])


def match_choice(text: str, choices: list[str]) -> int | None:
    """Index of the choice the answer picks, or None when it picks none or several equally well."""
    said = written_out(words(text))  # 'ko co anh' answers 'Không có ảnh'
    titles = [words(choice) for choice in choices]
    if not said:
        return None
    exact = [i for i, title in enumerate(titles) if len(title) == len(said) and _edits(said, title) == 0]
    if exact:
        return _one(exact)
    core = _without_fillers(said)
    cores = [_without_fillers(title) or title for title in titles]
    number = _ordinal(core)
    # 'thứ hai' is a position, unless a choice says it ('Thứ Hai 15/12'). A bare '1' is the first button even
    # beside '1 giờ 30 chiều': a time is typed with its 'giờ'.
    if number is not None and not any(_fit(core, choice) == 0 and (len(choice) == len(core) or not core[-1].isdigit())
                                      for choice in cores):
        return number - 1 if 1 <= number <= len(choices) else None
    end = _end(core)
    if end is not None:
        return 0 if end == "first" else len(choices) - 1
    if _is(core, NO_WORDS):
        meant = NO_CHOICES
    elif _is(core, YES_WORDS) or (not core and any(_is((w,), YES_WORDS) for w in said)):
        meant = YES_CHOICES
    else:
        meant = frozenset()
    picked = [i for i, title in enumerate(titles) if _is(title, meant)]
    if picked:
        return _one(picked)
    return _closest(core, cores) if core else None
