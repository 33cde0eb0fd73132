"""Lookup-table entries found despite a typo: one letter missing, extra, wrong or swapped.

Exact entries (with and without diacritics) are RegexEntityExtractor's job; this finds
what it misses, on folded text, for entries long enough that one edit cannot turn one
ordinary word into another.
"""
from __future__ import annotations

from common.text import fold

MIN_LENGTH = 12  # folded characters; shorter entries are exact-match only (measured on the held-out set)


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def within_one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance (optimal string alignment) <= 1."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    return shorter in _deletions(longer)


class FuzzyLookup:
    def __init__(self, tables: dict[str, list[str]]):
        self.entries: dict[str, tuple[str, str]] = {}   # folded entry -> (entity, entry as written)
        self.by_deletion: dict[str, set[str]] = {}
        for entity, elements in tables.items():
            for element in elements:
                key = fold(element)
                if len(key) >= MIN_LENGTH and key not in self.entries:
                    self.entries[key] = (entity, element)
                    for variant in _deletions(key):
                        self.by_deletion.setdefault(variant, set()).add(key)
        self.max_words = max((len(k.split()) for k in self.entries), default=0)

    def _candidates(self, query: str) -> set[str]:
        found = {query} & self.entries.keys() | self.by_deletion.get(query, set())
        for variant in _deletions(query):
            if variant in self.entries:
                found.add(variant)
            found |= self.by_deletion.get(variant, set())
        # Typos are rarely on the first letter (allowing them confuses Dương and Hương), and a
        # space edit joins or splits words ("phuong tra loi" is not "p huong tra").
        words = query.count(" ")
        return {key for key in found
                if key[0] == query[0] and key.count(" ") == words and within_one_edit(query, key)}

    def find(self, words: list[tuple[str, int, int]], taken: list[tuple[int, int]]) -> list[dict]:
        """Entities in `words` (text, start, end), longest first, avoiding the `taken` spans."""
        spans = list(taken)
        found = []
        for size in range(min(self.max_words, len(words)), 0, -1):
            for i in range(len(words) - size + 1):
                start, end = words[i][1], words[i + size - 1][2]
                if any(start < e and s < end for s, e in spans):
                    continue
                query = fold(" ".join(w[0] for w in words[i:i + size])).strip(".,!?;:")
                if len(query) < MIN_LENGTH or any(c.isdigit() for c in query):
                    continue
                matches = sorted(self._candidates(query))
                if matches:
                    entity, element = self.entries[matches[0]]
                    found.append({"entity": entity, "start": start, "end": end, "value": element})
                    spans.append((start, end))
        return found
