"""Told without asking, through the whole stack: an officer changes a report in cityapi and exactly one message
reaches the citizen's own chat — Telegram and Zalo through their servers on loopback, the web chat at its next
visit — also with a second gateway running; a report filed by voice on the hotline reaches the Telegram chat
that shared the caller's number. Quiet hours, reminders and restarts, with the clock set: tests/bot/test_notify.py."""
from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import time
import urllib.parse
import urllib.request

from common.text import fold
from tests.conftest import API_KEY, OFFICER_TOKEN, free_port
from tests.e2e.conftest import HOTLINE_TOKEN
from tests.e2e.test_conversations import CASE_ID, Chat, get_json
from tests.e2e.test_hotline import speech, tracker
from tests.e2e.test_telegram import citizen
from tests.e2e.test_zalo import ZaloCitizen, texts
from tests.phone import FAST, Caller
from tests.telegram.emulator import text_of
from voice.codecs import SAMPLE_RATE


def file_report(stack, account: str) -> str:
    """A report as the assistant files it for the chat `account` (Open311 with the client key)."""
    form = urllib.parse.urlencode({"api_key": API_KEY, "service_code": "rac_thai", "lat": "16.4637",
                                   "long": "107.5909", "description": "Rác đổ đầu kiệt ba ngày.",
                                   "account_id": account}).encode()
    with urllib.request.urlopen(f"{stack.city}/open311/v2/requests.json", form, timeout=10) as response:
        return json.loads(response.read())[0]["service_request_id"]


def officer_sets(stack, case: str, status: str, notes: str) -> None:
    request = urllib.request.Request(
        f"{stack.city}/officer/requests/{case}", method="PATCH",
        data=json.dumps({"status": status, "status_notes": notes}).encode(),
        headers={"Authorization": f"Bearer {OFFICER_TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


# What a caller answers to each question of the report form: a key for a choice, else words.
# (Phrases espeak-ng says so that viet-asr hears them over a phone line: bench/voice.py.)
SPOKEN_ANSWERS = {"category": ("key", "Rác"), "address": ("say", "ở đường Lê Lợi"),
                  "description": ("say", "rác bốc mùi hôi"),
                  "photo": ("key", "Không có ảnh"), "report_phone": ("key", "Bỏ qua"),
                  "report_confirmed": ("key", "Gửi đi")}


async def answered(stack, call: Caller, bot_events: int) -> dict:
    """The call's tracker once the assistant has said more than `bot_events` things and listens again. The
    caller acts then, while the answer may still be playing, as elders who know what to press do."""
    for _ in range(600):
        state = tracker(stack, call)
        said = [e for e in state["events"] if e["event"] == "bot"]
        if len(said) > bot_events and state["latest_action_name"] == "action_listen":
            return state
        await asyncio.sleep(0.1)
    raise AssertionError("the assistant did not answer")


async def report_by_voice(stack, call: Caller) -> str:
    """File a report on the phone as a caller does: key 1, then keys for the choices and speech for the rest,
    each answer given to the question the assistant asked (read from its tracker); the case code it read out."""
    state = await answered(stack, call, 0)  # the greeting
    await call.press("1")  # "phím 1: Phản ánh sự việc"
    for _ in range(12):
        said = [e for e in state["events"] if e["event"] == "bot"]
        state = await answered(stack, call, len(said))
        said = [e for e in state["events"] if e["event"] == "bot"]
        found = CASE_ID.search(said[-1].get("text") or "")
        if found:
            return found.group()
        how, answer = SPOKEN_ANSWERS[state["slots"]["requested_slot"]]
        if how == "say":
            await call.say(speech(answer), SAMPLE_RATE)
        else:
            titles = [b["title"] for b in (said[-1].get("data") or {}).get("buttons") or []]
            await call.press(str(next(i for i, t in enumerate(titles, 1) if answer.lower() in t.lower())))
    raise AssertionError(f"no report filed: {said[-1]}")


def notice_state(stack, case: str) -> str | None:
    """The state of the latest notification about `case` in the gateway's database."""
    with sqlite3.connect(stack.var / "gateway.sqlite3") as db:
        row = db.execute("SELECT state FROM notifications WHERE subject = ? ORDER BY id DESC", (case,)).fetchone()
    return row[0] if row else None


def wait_until(condition, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def read_back(case: str) -> str:
    return " ".join(["PA", case[3:7], case[8:11], case[11:]])


def telegram_messages_about(chat, case: str, wait: float) -> list[dict]:
    """Every message the chat got that names the case, after `wait` seconds more of listening."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        chat.poll()
        time.sleep(0.2)
    return [m for m in chat.received if read_back(case) in (m.get("text") or "")]


async def test_a_report_filed_by_voice_on_the_hotline_is_told_on_telegram_once_the_number_is_shared_there(
        stack, telegram):
    number = f"+8490{random.randrange(10**7):07d}"
    local = "0" + number[3:]
    async with Caller(stack.gateway, HOTLINE_TOKEN, caller=number, playback=FAST) as call:
        # The provider signed the caller's number: this call's account is that citizen's.
        case = await report_by_voice(stack, call)
    filed = get_json(f"{stack.city}/open311/v2/requests/{case}.json")[0]
    assert {"mui", "hoi"} <= set(fold(filed["description"]).split())  # the caller's words, as heard
    assert "le" in fold(filed["address"]).split() and filed["service_code"] == "rac_thai"  # "… Lê Lợi"
    # No chat app linked yet: the change waits for the caller's next call, and is said before the greeting.
    officer_sets(stack, case, "in_progress", "Đã giao tổ vệ sinh phường.")
    assert wait_until(lambda: notice_state(stack, case) == "waiting")
    async with Caller(stack.gateway, HOTLINE_TOKEN, caller=number, playback=FAST) as again:
        await answered(stack, again, 0)
        assert notice_state(stack, case) == "sent"

    hai = citizen(telegram)
    hai.say("/start")
    hai.say(local)  # a number typed in a chat links nothing
    assert read_back(case) not in hai.say("phản ánh của tui")
    hai.send(contact={"phone_number": number, "first_name": "Hải", "user_id": hai.id + 1})  # somebody else's
    hai.answer()
    assert read_back(case) not in hai.say("phản ánh của tui")

    hai.send(contact={"phone_number": number, "first_name": "Hải", "user_id": hai.id})  # their own
    linked = text_of(hai.answer())
    assert f"đã ghi nhận số {local[:4]} *** {local[-3:]} là của bác" in linked
    assert read_back(case) in hai.say("phản ánh của tui")  # filed from the call, seen on Telegram

    officer_sets(stack, case, "resolved", "Tổ vệ sinh đã dọn rác sáng nay.")
    told = text_of(hai.answer(timeout=30))
    assert f"phản ánh {read_back(case)} (rác thải) của bác đã xử lý xong" in told
    assert "Tổ vệ sinh đã dọn rác sáng nay." in told
    assert len(telegram_messages_about(hai, case, wait=4)) == 2  # "phản ánh của tui" and the one notice
    assert notice_state(stack, case) == "sent"

    # The citizen sees the link, chooses among linked channels only, and undoes it.
    links = hai.say("liên kết của tui")
    assert f"số {local[:4]} *** {local[-3:]} của bác đang liên kết với: tổng đài, Telegram" in links
    assert "chưa liên kết" in hai.say("báo cho tui qua zalo")
    assert "qua Telegram" in hai.say("có tin chi thì báo qua telegram nghe")
    assert "đã bỏ liên kết" in hai.say("bỏ liên kết")
    assert read_back(case) not in hai.say("phản ánh của tui")
    assert "chưa liên kết" in hai.say("liên kết của tui")


def test_each_change_reaches_its_chat_once_with_two_gateways_running(stack, telegram, zalo):
    second = stack.gateway_on(free_port())  # on the same gateway database
    try:
        mai = ZaloCitizen(stack, zalo)
        assert "bác" in mai.say("xin chào")  # Zalo lets the OA answer within its window
        thu = citizen(telegram)
        thu.say("/start")
        web = Chat(stack)
        web.say("xin chào")
        cases = {name: file_report(stack, account) for name, account in
                 (("zalo", f"zalo:{mai.id}"), ("telegram", f"telegram:{thu.id}"), ("web", web.sender))}
        for case in cases.values():
            officer_sets(stack, case, "in_progress", "Đội vệ sinh sẽ xuống chiều nay.")

        assert read_back(cases["zalo"]) in texts(mai.replies(timeout=30))
        assert read_back(cases["telegram"]) in text_of(thu.answer(timeout=30))
        time.sleep(4)  # both gateways have had rounds enough to send it twice, were that possible
        assert len([m for m in zalo.sent_to(mai.id) if read_back(cases["zalo"]) in m.get("text", "")]) == 1
        assert len(telegram_messages_about(thu, cases["telegram"], wait=0.5)) == 1
        # The web chat's page was closed: told first thing when the citizen writes again, and once.
        first = web.say("xin chào")
        assert web.last[0]["text"].startswith(f"Dạ, trước tiên cháu báo bác: phản ánh {read_back(cases['web'])}")
        assert "đang được xử lý" in first
        assert read_back(cases["web"]) not in web.say("xin chào")

        # The second gateway alone tells what changes while the first is down; the first, back, repeats nothing.
        stack.stop_gateway()
        try:
            officer_sets(stack, cases["telegram"], "resolved", "Đã dọn xong.")
            assert "đã xử lý xong" in text_of(thu.answer(timeout=30))
        finally:
            stack.start_gateway()
        assert len(telegram_messages_about(thu, cases["telegram"], wait=4)) == 2
        assert len([m for m in zalo.sent_to(mai.id) if read_back(cases["zalo"]) in m.get("text", "")]) == 1
    finally:
        second.terminate()
        second.wait(timeout=20)


def test_a_change_made_while_the_gateway_is_down_is_told_once_after_it_restarts(stack, telegram):
    thu = citizen(telegram)
    thu.say("/start")
    case = file_report(stack, f"telegram:{thu.id}")
    stack.stop_gateway()
    try:
        officer_sets(stack, case, "rejected", "Việc ni thuộc Công ty Điện lực, đã chuyển giúp bác.")
        time.sleep(1)
    finally:
        stack.start_gateway()  # the stack goes on for the other tests whatever happens
    told = text_of(thu.answer(timeout=60))
    assert f"phản ánh {read_back(case)} (rác thải) của bác không thuộc phạm vi xử lý" in told
    stack.stop_gateway()  # and once more: nothing is said twice
    stack.start_gateway()
    assert len(telegram_messages_about(thu, case, wait=4)) == 1
