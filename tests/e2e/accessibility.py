"""Accessibility figures from the web chat transcripts of the end-to-end tests: how many turns a citizen needs
for a report or a booking, how long the replies are, and whether questions with few possible answers offer
buttons. Printed at the end of the run (tests/conftest.REPORTS)."""
from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field

# The replies that end a task: a report filed and a visit booked, with their codes.
FILED = re.compile(r"Mã phản ánh: PA-\d{4}-\d{6}")
BOOKED = re.compile(r"đã đặt lịch cho bác.*Mã lịch hẹn: LK-\d{6}", re.S)
# Questions whose answer is free text (a place, a description, a name, a number): buttons are optional there.
FREE_TEXT = re.compile(r"tả ngắn|họ tên|tên chi|số điện thoại|chỗ mô|ở đâu|mã phản ánh|nói lại giúp", re.I)
AIMS = {"report turns": 6, "booking turns": 7, "median words": 25, "most words": 60}


@dataclass
class Transcript:
    turns: list[tuple[str, list[dict]]] = field(default_factory=list)  # (what the citizen said, the replies)

    def turns_to(self, code: re.Pattern) -> list[int]:
        """Citizen turns to each reply that ends such a task, counted from the start or the previous task's end."""
        found, start = [], 0
        for n, (_, replies) in enumerate(self.turns):
            texts = " ".join(r.get("text") or "" for r in replies)
            if code.search(texts):
                found.append(n - start + 1)
            if FILED.search(texts) or BOOKED.search(texts):
                start = n + 1
        return found


TRANSCRIPTS: dict[str, Transcript] = {}


def record(sender: str, said: str, replies: list[dict]) -> None:
    TRANSCRIPTS.setdefault(sender, Transcript()).turns.append((said, replies))


def words(text: str) -> int:
    return len(text.split())


def figures(transcripts: list[Transcript]) -> dict:
    replies = [r for t in transcripts for _, rs in t.turns for r in rs if r.get("text")]
    questions = [r for r in replies if "?" in r["text"].strip().splitlines()[-1]]
    finite = [q for q in questions if not FREE_TEXT.search(q["text"])]
    reports = [n for t in transcripts for n in t.turns_to(FILED)]
    bookings = [n for t in transcripts for n in t.turns_to(BOOKED)]
    counts = [words(r["text"]) for r in replies]
    return {
        "replies": len(replies),
        "median words": statistics.median(counts) if counts else 0,
        "most words": max(counts, default=0),
        "longest": max(replies, key=lambda r: words(r["text"]))["text"] if replies else "",
        "report turns": sorted(reports), "booking turns": sorted(bookings),
        "questions": len(questions), "finite questions": len(finite),
        "finite questions without buttons": sorted({q["text"][:60] for q in finite if not q.get("buttons")}),
    }


def report(transcripts: list[Transcript]) -> str:
    f = figures(transcripts)
    fewest = lambda values: min(values) if values else "-"  # noqa: E731
    lines = [
        f"Accessibility, from {len(transcripts)} web chat transcripts of the end-to-end tests "
        f"({f['replies']} replies):",
        f"  citizen turns to a report's code: fewest {fewest(f['report turns'])} (aim <= {AIMS['report turns']}); "
        f"all: {f['report turns']}",
        f"  citizen turns to a booking's code: fewest {fewest(f['booking turns'])} "
        f"(aim <= {AIMS['booking turns']}); all: {f['booking turns']}",
        f"  words per reply: median {f['median words']} (aim <= {AIMS['median words']}), most {f['most words']} "
        f"(aim <= {AIMS['most words']}): {f['longest'][:70]!r}…",
        f"  questions: {f['questions']}, with few possible answers: {f['finite questions']}, of those without "
        f"buttons: {len(f['finite questions without buttons'])}",
    ]
    lines += [f"    no buttons: {q}…" for q in f["finite questions without buttons"]]
    return "\n".join(lines)
