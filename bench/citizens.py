"""Simulated citizens for bench/load.py and bench/faults.py: each goes through one conversation after another in
the web chat (report, status, booking, help), with think time between turns, and every turn is recorded: how long
it took, how it was answered, and whether the answer was the step the script expected (a conversation that lost its
state answers off-script)."""
from __future__ import annotations

import asyncio
import json
import random
import re
import time
import uuid
from dataclasses import dataclass, field

import aiohttp

CASE_ID = re.compile(r"PA-\d{4}-\d{6}")
BOOKING = re.compile(r"LK-\d{6}")
KEPT = "cháu đã giữ phản ánh"  # in lower case: the city did not take it now; the outbox sends it later
# Right answers at any step that end the script early: the city is down (said politely), the time just taken by
# another citizen (as they pick it, or between its offer and the pick).
DETOURS = ("hệ thống của thành phố đang bận", "vừa có người đặt mất", "không có trong các giờ còn trống",
           "không còn chỗ")

# (what the citizen types, a word the assistant's answer must contain). A button is typed as its title, as elders
# do: the gateway reads it as the button (bot/replies.py), on whichever gateway the message lands.
REPORT = [("tui muốn phản ánh", "việc chi"), ("Ổ gà, đường hư", "chỗ mô"), ("trước số 12 đường Lê Lợi", "tả ngắn"),
          ("ổ gà to giữa đường, xe máy dễ té, mã {marker}", "ảnh"), ("Không có ảnh", "số điện thoại"),
          ("0905 123 456", "Gửi phản ánh này"), ("Gửi đi", "PA")]
STATUS = [("phản ánh của tui", "phản ánh"), ("cảm ơn cháu", "")]
BOOK = [("tui muốn đặt lịch khám", "khám ở mô"), ("Trung ương Huế", "khám chi"), ("Tim mạch", "ngày"),
        ("Sớm nhất", "họ tên"), ("Lê Văn Tám", "số điện thoại"), ("0905 123 456", "Đặt lịch"), ("Đặt lịch", "LK")]
HELP = [("cháu giúp được chi", ""), ("nói lại", ""), ("cảm ơn cháu", "")]
MIX = (("report", REPORT, 0.35), ("status", STATUS, 0.25), ("booking", BOOK, 0.2), ("help", HELP, 0.2))


@dataclass
class Turn:
    kind: str
    started: float  # time.monotonic()
    seconds: float
    status: int  # HTTP status; 0: no answer at all (connection refused or reset, timeout)
    polite: bool  # answered, or refused with a Vietnamese message
    on_script: bool
    note: str = ""  # what was said and answered, when the answer was off the script or missing


@dataclass
class Record:
    turns: list[Turn] = field(default_factory=list)
    reports: dict[str, str] = field(default_factory=dict)  # marker -> case id ("" when kept for later)
    unconfirmed: list[str] = field(default_factory=list)  # markers whose confirming turn was refused
    bookings: list[str] = field(default_factory=list)


def _button(messages: list[dict], typed: str) -> str | None:
    """A button's payload when `typed` starts its title (the baseline, without a gateway to read titles)."""
    for message in messages:
        for button in message.get("buttons") or []:
            if button["title"].lower().startswith(typed.lower()):
                return button["payload"]
    return None


class Citizen:
    def __init__(self, session: aiohttp.ClientSession, url: str, record: Record, think: float, rng: random.Random,
                 rasa_direct: bool = False):
        """`url`: the web chat's base (through the proxy), or a Rasa server's when `rasa_direct` (the baseline)."""
        self.session, self.url, self.record, self.think, self.rng = session, url, record, think, rng
        self.rasa_direct = rasa_direct

    async def send(self, sender: str, text: str, last: list[dict]) -> tuple[int, list[dict] | str, bool]:
        """(HTTP status or 0, the messages or why there were none, whether it was answered or politely refused)."""
        if self.rasa_direct:
            url, body = f"{self.url}/webhooks/rest/webhook", {"sender": sender,
                                                              "message": _button(last, text) or text}
        else:
            url, body = f"{self.url}/api/chat", {"sender": sender, "text": text}
        try:
            async with self.session.post(url, json=body) as response:
                raw = await response.text()
        except (aiohttp.ClientError, TimeoutError) as failure:
            return 0, type(failure).__name__, False
        try:
            data = json.loads(raw)
        except ValueError:
            return response.status, raw[:90], False
        if response.status != 200:
            polite = isinstance(data, dict) and str(data.get("error", "")).startswith("Dạ,")
            return response.status, raw[:90], polite
        messages = data if self.rasa_direct else data.get("messages", [])
        return 200, messages, bool(messages)

    async def conversation(self, kind: str, script: list[tuple[str, str]]) -> None:
        sender = f"web-{uuid.uuid4()}"
        marker = uuid.uuid4().hex[:10]
        last: list[dict] = []
        for step, (said, expected) in enumerate(script):
            text = said.format(marker=marker)
            started = time.monotonic()
            status, got, polite = await self.send(sender, text, last)
            last = got if isinstance(got, list) else []
            answer = "\n".join(m.get("text", "") for m in last) if last else str(got if status != 200 else "")
            detour = any(d in answer.lower() for d in DETOURS)
            on_script = status != 200 or expected.lower() in answer.lower() or detour
            note = "" if on_script and polite else f"{kind} step {step + 1} {text!r} -> {status} {answer[:90]!r}"
            self.record.turns.append(Turn(kind, started, time.monotonic() - started, status, polite, on_script,
                                          note))
            confirming = kind == "report" and step == len(script) - 1
            if confirming:
                case = CASE_ID.search(answer)
                if case or KEPT in answer.lower():
                    self.record.reports[marker] = case.group() if case else ""
                else:
                    self.record.unconfirmed.append(marker)
            if kind == "booking" and BOOKING.search(answer):
                self.record.bookings.append(BOOKING.search(answer).group())
            if status != 200 or not on_script or detour:
                return  # a citizen refused or misunderstood starts again later, as a person would
            await asyncio.sleep(self.rng.uniform(0.5, 1.5) * self.think)

    async def live(self, until: float) -> None:
        while time.monotonic() < until:
            kind, script, _ = self.rng.choices(MIX, weights=[w for *_, w in MIX])[0]
            await self.conversation(kind, script)
            await asyncio.sleep(self.rng.uniform(0.5, 1.5) * self.think)


async def crowd(url: str, citizens: int, seconds: float, think: float, seed: int = 1,
                rasa_direct: bool = False, record: Record | None = None) -> Record:
    """`citizens` people chatting for `seconds`, each waiting about `think` seconds between turns."""
    record = record or Record()
    rng = random.Random(seed)
    until = time.monotonic() + seconds
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as session:
        people = [Citizen(session, url, record, think, random.Random(rng.random()), rasa_direct)
                  for _ in range(citizens)]

        async def stagger(i: int, person: Citizen) -> None:
            await asyncio.sleep(think * i / citizens)  # not all at the same instant
            await person.live(until)

        await asyncio.gather(*(stagger(i, p) for i, p in enumerate(people)))
    return record


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]
