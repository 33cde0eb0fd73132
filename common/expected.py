"""Expected answers: which offered choice a recognised utterance most likely was, by how it sounds.

When the assistant has just offered buttons (yes/no, a ward, a facility, a time), a spoken answer is most likely
one of them, but the recogniser does not know that: it hears 'có' as 'cò', 'phóng uế' as 'phóng ế', 'Vỹ Dạ' as
'vì à'. common.choices.match_choice reads the text as written and refuses such guesses; this compares how the words
sound instead: syllable by syllable (onset, rhyme, tone), with the onsets and finals that sound alike on a phone
line or in the Huế and southern accents grouped ('d', 'gi', 'v', 'r'; 'ch', 'tr'; 'an', 'ang'; 'at', 'ac'),
and also letter by letter without spaces, so that syllables glued together or split apart still match.

A choice is picked only when one of its phrasings (its title, the yes/no words for the yes/no buttons, 'số hai'
for the second) is close enough to what was heard and clearly closer than any other choice, and than the requests
the assistant takes at every step ('gặp cán bộ', 'nói lại', 'thôi'): a new request is not forced into a button.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence

from common.choices import FILLERS, NO_CHOICES, NO_WORDS, NUMBERS, YES_CHOICES, YES_WORDS
from common.syllables import HOOK, TILDE, decompose
from common.text import fold, levenshtein, same_word, words, written_out

Words = tuple[str, ...]

# Onsets written differently that sound the same; and groups that sound alike in Huế, the south or on a phone line.
SAME_ONSET = {"k": "c", "q": "c", "qu": "c", "gh": "g", "ngh": "ng"}
ALIKE_ONSETS = ({"d", "gi", "v", "r"}, {"ch", "tr"}, {"s", "x"}, {"n", "l"}, {"ph", "f"}, {"t", "th", "đ"},
                {"c", "kh", "g"}, {"", "h"})
# Finals that merge in the Huế and southern accents (and are hard to tell apart at 8 kHz).
ALIKE_FINALS = (("nh", "n"), ("ng", "n"), ("ch", "t"), ("c", "t"))
# What an answer says around its choice and means nothing; choices.FILLERS and a few speech hesitations.
HESITATIONS = frozenset({("à",), ("thì",), ("là",), ("ấy",)})
# Requests the assistant takes at every step: closer to one of these than to any choice, nothing is picked.
ANYTIME = tuple(words(p) for p in ("gặp cán bộ", "cán bộ", "nói lại", "thôi", "giúp tui", "trợ giúp", "chào"))

LEVEL = "ngang"  # the tone without a mark
# Saying less than a choice ('rác' for 'Rác thải') costs less per syllable than saying more.
UNSAID = 0.6
ONSET_WEIGHT, RHYME_WEIGHT, TONE_WEIGHT = 0.35, 0.5, 0.15
# Distances (0 alike .. 1 unrelated, per syllable) within which a phrasing is taken, by its length in syllables,
# and how much closer than the runner-up the best must be.
THRESHOLD = {1: 0.22, 2: 0.3}
LONG_THRESHOLD = 0.36
MARGIN = 0.25  # relative to the thresholds
ALTERNATIVE_PENALTY = 0.03  # per rank of a recogniser's alternative below its best




@functools.cache
def _sound(word: str) -> tuple[str, str, str]:
    """(onset class, folded rhyme with merged finals, tone) of a word; a word that is no syllable is all rhyme."""
    parts = decompose(word)
    if parts is None:
        return "", fold(word), LEVEL
    onset, rhyme, tone = parts
    if onset == "g" and rhyme.startswith("i"):
        onset = "gi"
    onset = SAME_ONSET.get(onset, onset)
    rhyme = "i" if rhyme == "y" else fold(rhyme)  # 'Vỹ' and 'ví' rhyme
    for final, merged in ALIKE_FINALS:
        if rhyme.endswith(final) and len(rhyme) > len(final):
            rhyme = rhyme[: -len(final)] + merged
            break
    # Recognised speech always carries its tones: no mark is the level tone. Hỏi and ngã are one tone in Huế.
    return onset, rhyme, HOOK if tone == TILDE else tone or LEVEL


def _onset_cost(a: str, b: str) -> float:
    if a == b:
        return 0.0
    if any(a in group and b in group for group in ALIKE_ONSETS):
        return 0.4
    return 0.6 if not a or not b else 1.0  # an initial swallowed by the recogniser (see common.syllables)


def _syllable_cost(a: str, b: str) -> float:
    (onset_a, rhyme_a, tone_a), (onset_b, rhyme_b, tone_b) = _sound(a), _sound(b)
    rhyme = levenshtein(rhyme_a, rhyme_b) / max(len(rhyme_a), len(rhyme_b), 1)
    tone = float(tone_a != tone_b)
    return ONSET_WEIGHT * _onset_cost(onset_a, onset_b) + RHYME_WEIGHT * min(rhyme, 1.0) + TONE_WEIGHT * tone


def _syllable_distance(said: Words, phrase: Words) -> float:
    """Edit distance over syllables (a syllable more costs 1, one of the phrase left unsaid UNSAID), per syllable
    of the longer."""
    row = [j * UNSAID for j in range(len(phrase) + 1)]
    for i, a in enumerate(said, 1):
        diagonal, row[0] = row[0], float(i)
        for j, b in enumerate(phrase, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + UNSAID, diagonal + _syllable_cost(a, b))
    return row[-1] / max(len(said), len(phrase), 1)


def _sounds(said: Words) -> str:
    return "".join(onset + rhyme for onset, rhyme, _ in map(_sound, said))


def _letter_distance(said: Words, phrase: Words) -> float:
    """How the whole answer sounds, spaces ignored: 'phóngế' and 'phóng uế' are one letter apart."""
    a, b = _sounds(said), _sounds(phrase)
    return levenshtein(a, b) / max(len(a), len(b), 1)


def distance(said: Words, phrase: Words) -> float:
    """0 for the same sounds, about 1 for unrelated ones."""
    if not said or not phrase:
        return 1.0
    # Letters alone would make 'có' and 'cò' equal: their tones count through the syllable distance.
    return min(_syllable_distance(said, phrase), max(_letter_distance(said, phrase), _tone_gap(said, phrase)))


def _tone_gap(said: Words, phrase: Words) -> float:
    if len(said) != len(phrase):
        return 0.0
    gaps = [TONE_WEIGHT * (_sound(a)[2] != _sound(b)[2]) for a, b in zip(said, phrase)]
    return sum(gaps) / len(gaps)


DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")


def _number(digits: str) -> Words:
    """How a number is said: '9' -> chín, '15' -> mười lăm, '30' -> ba mươi; longer ones digit by digit."""
    n = int(digits)
    if len(digits) > 2 or n < 10:
        return tuple(DIGITS[int(d)] for d in digits)
    tens, ones = divmod(n, 10)
    head = ("mười",) if tens == 1 else (DIGITS[tens], "mươi")
    tail = {0: (), 1: ("mốt",) if tens > 1 else ("một",), 4: ("tư",) if tens > 1 else ("bốn",), 5: ("lăm",)}
    return head + tail.get(ones, (DIGITS[ones],))


def _said(text: str) -> Words:
    """The words of a text as said: abbreviations written out, numbers in words."""
    return tuple(part for word in written_out(words(text))
                 for part in (_number(word) if word.isdigit() else (word,)))


def _is(said: Words, phrases: frozenset[Words]) -> bool:
    return any(len(said) == len(p) and all(map(same_word, said, p)) for p in phrases)


def _core(said: Words) -> Words:
    """The answer without the politeness words and hesitations before and after it ('dạ … ạ', '… cảm ơn')."""
    drop = FILLERS | HESITATIONS
    core = tuple(said)
    while True:
        size = next((n for n in (2, 1) if len(core) > n and _is(core[:n], drop)), 0)
        size_end = next((n for n in (2, 1) if len(core) > n and _is(core[-n:], drop)), 0)
        if not size and not size_end:
            return core
        core = core[size:len(core) - size_end]


def phrasings(choices: Sequence[str]) -> list[list[Words]]:
    """Every way each choice may be said: its title (without politeness words), the yes/no words of a yes/no
    button, and its position ('số hai', 'hai') among several."""
    result = []
    for index, choice in enumerate(choices):
        title = _said(choice)
        said = {_core(title) or title}
        if _is(title, YES_CHOICES):
            said |= YES_WORDS
        if _is(title, NO_CHOICES):
            said |= NO_WORDS
        if len(choices) > 2:
            number = next(word for word, n in NUMBERS.items() if n == index + 1) if index < 10 else None
            if number:
                said |= {("số", number), (number,)}
        result.append(sorted(said))
    return result


def _threshold(phrase: Words) -> float:
    return THRESHOLD.get(len(phrase), LONG_THRESHOLD)


def scores(heard: Sequence[str], choices: Sequence[str]) -> list[float]:
    """Each choice's distance from what was heard (the recogniser's best text first, then its alternatives),
    relative to its threshold: below 1 is close enough."""
    options = [_core(_said(text)) for text in heard]
    ranked = []
    for said_phrasings in phrasings(choices):
        ranked.append(min((distance(said, phrase) + rank * ALTERNATIVE_PENALTY) / _threshold(phrase)
                          for rank, said in enumerate(options) if said for phrase in said_phrasings)
                      if any(options) else float("inf"))
    return ranked


def pick(heard: Sequence[str], choices: Sequence[str]) -> int | None:
    """The choice the answer most likely was, or None when none is close and clearly closest."""
    if not choices or not any(text.strip() for text in heard):
        return None
    ranked = scores(heard, choices)
    best = min(range(len(choices)), key=ranked.__getitem__)
    runner_up = min((s for i, s in enumerate(ranked) if i != best), default=float("inf"))
    if ranked[best] > 1.0 or runner_up - ranked[best] < MARGIN:
        return None
    # A request the assistant takes at every step, unless a choice says it ('Thôi' is a button and a no).
    offered = {phrase for said_phrasings in phrasings(choices) for phrase in said_phrasings}
    options = [_core(_said(text)) for text in heard if text.strip()]
    anytime = min((distance(said, phrase) / _threshold(phrase) for said in options if said
                   for phrase in ANYTIME if phrase not in offered), default=float("inf"))
    return None if anytime <= ranked[best] else best
