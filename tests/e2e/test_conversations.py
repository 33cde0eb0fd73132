"""Full conversations over HTTP through the gateway, Rasa, the action server and cityapi."""
from __future__ import annotations

import io
import json
import os
import re
import sqlite3
import time
import urllib.error
import urllib.request
import uuid
from datetime import timedelta

import aiohttp
import pytest

from cityapi.seed import working_days
from common import clock
from common.wording import WEEKDAYS
from tests.conftest import API_KEY
from tests.e2e import accessibility
from tests.e2e.conftest import post_json

CASE_ID = re.compile(r"PA-\d{4}-\d{6}")
BOOKING = re.compile(r"LK-\d{6}")


class Chat:
    """One citizen in the web chat."""

    def __init__(self, stack):
        self.stack = stack
        self.sender = f"web-{uuid.uuid4()}"
        self.last: list[dict] = []

    def say(self, text: str) -> str:
        status, body = post_json(f"{self.stack.gateway}/api/chat", {"sender": self.sender, "text": text})
        assert status == 200, body
        self.last = body["messages"]
        accessibility.record(self.sender, text, self.last)
        assert self.last, f"no answer to {text!r}"
        return "\n".join(m["text"] for m in self.last)

    def press(self, title_part: str) -> str:
        """Press the button of the last answer whose title contains `title_part`."""
        buttons = [b for m in self.last for b in m["buttons"]]
        chosen = [b for b in buttons if title_part.lower() in b["title"].lower()]
        assert chosen, f"no button {title_part!r} in {[b['title'] for b in buttons]}"
        return self.say(chosen[0]["payload"])

    def first_button(self) -> str:
        return self.say(self.last[-1]["buttons"][0]["payload"])


def get_json(url: str, headers: dict | None = None):
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
        return json.loads(response.read())


def test_report_is_filed_and_found_by_its_code(stack):
    chat = Chat(stack)
    assert "việc chi" in chat.say("tui muốn phản ánh")
    assert "chỗ mô" in chat.say("ổ gà")
    assert "tả ngắn" in chat.say("trước số 12 đường Lê Lợi")
    # The description names a second problem (nước ngập); the category stays the one the citizen chose.
    assert "ảnh" in chat.say("ổ gà to giữa đường, mưa xuống là nước ngập cả lối, xe máy dễ té lắm")
    assert "số điện thoại" in chat.press("Không có ảnh")
    summary = chat.say("0905 123 456")
    assert "Gửi phản ánh này nhé bác?" in summary and "0905 123 456" in summary
    summary = chat.say("không, ở đường Hùng Vương")
    assert "Địa chỉ: đường Hùng Vương" in summary
    sent = chat.press("Gửi đi")
    case_id = CASE_ID.search(sent).group()
    assert " ".join(["PA", case_id[3:7], case_id[8:11], case_id[11:]]) in sent
    report = get_json(f"{stack.city}/open311/v2/requests/{case_id}.json")[0]
    assert report["service_code"] == "duong_hu_hong"
    assert report["description"] == "ổ gà to giữa đường, mưa xuống là nước ngập cả lối, xe máy dễ té lắm"
    assert report["address"] == "đường Hùng Vương"
    status = chat.say(f"phản ánh {case_id.lower()} tới đâu rồi")
    assert case_id in status and "đã được tiếp nhận" in status


def test_replies_are_short_and_choices_are_buttons(stack):
    """A report and a booking as a first-time citizen makes them: every reply short, every question with few
    possible answers offers buttons. (The turn counts are printed for all transcripts at the end of the run.)"""
    chat = Chat(stack)
    for turn in [lambda: chat.say("tui muốn báo cái ổ gà"), lambda: chat.say("trước số 12 đường Lê Lợi"),
                 lambda: chat.say("ổ gà to giữa đường"), lambda: chat.press("Không có ảnh"),
                 lambda: chat.say("0905 123 456"), lambda: chat.press("Gửi đi"),
                 lambda: chat.say("đặt lịch khám"), lambda: chat.press("Trung ương Huế"),
                 lambda: chat.press("Tim mạch"), lambda: chat.press("Sớm nhất"), lambda: chat.say("Lê Văn Tám"),
                 lambda: chat.say("0905 123 456"), lambda: chat.press("Đặt lịch")]:
        turn()
    found = accessibility.figures([accessibility.TRANSCRIPTS[chat.sender]])
    assert found["report turns"] == [6] and found["booking turns"] == [7], found
    assert found["median words"] <= accessibility.AIMS["median words"], found
    assert found["most words"] <= accessibility.AIMS["most words"], found["longest"]
    assert found["finite questions"] and not found["finite questions without buttons"], found


def test_who_is_answering_and_other_public_services(stack):
    chat = Chat(stack)
    assert "trợ lý tự động" in chat.say("cháu là ai rứa, người thật hay máy")
    assert "Công an phường" in chat.say("làm lại căn cước ở mô cháu")
    assert [b["title"] for b in chat.last[-1]["buttons"]] == ["Gặp cán bộ", "Việc cháu giúp được"]
    chat.say("tui muốn phản ánh")
    asked = chat.say("dạ cảm ơn cháu nghe")  # thanks in the middle: answered, and the question asked again
    assert "không có chi" in asked and "việc chi" in asked


def test_a_street_named_in_the_request_is_kept(stack):
    chat = Chat(stack)
    asked = chat.say("ngoài đường Phan Đình Phùng có cái cột điện nghiêng sắp đổ")
    assert "đường Phan Đình Phùng thì chỗ mô" in asked  # only the house number or a landmark is asked
    assert "tả ngắn" in chat.say("số 12")
    chat.say("cột điện nghiêng sát mái nhà, gió to là đổ")
    chat.press("Không có ảnh")
    summary = chat.press("Bỏ qua")
    assert "Địa chỉ: số 12, đường Phan Đình Phùng" in summary and "Đèn đường" in summary


def test_a_place_without_the_service_asked_is_said_once(stack):
    answer = Chat(stack).say("tui muốn khám răng ở trạm y tế phường Vỹ Dạ sáng thứ năm")
    assert answer.count("chưa có dịch vụ") == 1, answer
    assert "khám chi" in answer  # and the service is asked again, among what that station offers


def test_booking_makes_the_slot_busy_and_cancelling_frees_it(stack):
    chat = Chat(stack)
    chat.say("/book_clinic")
    chat.press("Trung ương Huế")
    chat.press("Tim mạch")
    chat.first_button()           # the first day with free slots
    assert "họ tên" in chat.first_button()  # the earliest free time, in the morning
    assert "số điện thoại" in chat.say("Nguyễn Thị Lan")
    summary = chat.say("0905123456")
    assert "Đặt lịch này nhé bác?" in summary
    booked = chat.press("Đặt lịch")
    code = BOOKING.search(booked).group()
    assert "CCCD" in booked and "BHYT" in booked
    auth = {"Authorization": f"Bearer {API_KEY}"}
    appointment = get_json(f"{stack.city}/fhir/R4/Appointment/{code}", auth)
    slot_url = f"{stack.city}/fhir/R4/{appointment['slot'][0]['reference']}"
    assert get_json(slot_url)["status"] == "busy"

    # Next time the name and phone are remembered; now cancel.
    chat.say("/cancel_appointment")
    chat.press("Tim mạch")
    cancelled = chat.press("Hủy lịch")
    assert code in cancelled
    assert get_json(slot_url)["status"] == "free"


def test_a_booking_asked_in_one_sentence_goes_straight_to_the_times(stack):
    chat = Chat(stack)
    monday = clock.today() + timedelta(days=7 - clock.today().weekday())
    day = working_days(monday, 1)[0]  # next week's first working day: Monday, unless a holiday
    name = WEEKDAYS[day.weekday()]
    answer = chat.say(f"mệ muốn khám mắt ở bệnh viện trung ương chiều {name.lower()} tuần sau")
    assert name in answer and "chọn một giờ" in answer
    times = [b["title"] for m in chat.last for b in m["buttons"]]
    assert times and all(title.endswith("chiều") for title in times), times


def test_with_the_city_down_a_report_is_kept_and_arrives_once(stack):
    stack.stop_cityapi()
    chat = Chat(stack)
    chat.say("tui muốn phản ánh")
    chat.press("Cây đổ")
    chat.say("kiệt 3 Nguyễn Chí Thanh")
    chat.say("cây to đổ chắn ngang kiệt, không đi được")
    chat.press("Không có ảnh")
    chat.press("Bỏ qua")
    kept = chat.press("Gửi đi")
    assert "giữ phản ánh" in kept
    stack.restart_cityapi()
    url = f"{stack.city}/open311/v2/requests.json?account_id={chat.sender}&api_key={API_KEY}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not get_json(url):
        time.sleep(0.5)
    time.sleep(3)  # a few more drain rounds: it must not arrive twice
    reports = get_json(url)
    assert [r["description"] for r in reports] == ["cây to đổ chắn ngang kiệt, không đi được"]
    assert reports[0]["service_code"] == "cay_xanh"
    listed = chat.say("phản ánh của tui")
    assert reports[0]["service_request_id"].split("-")[1] in listed


BUSY = "hệ thống của thành phố đang bận"


def _booking(chat: Chat) -> list:
    """The turns of a booking, as a citizen answers them."""
    return [lambda: chat.say("/book_clinic"), lambda: chat.press("Trung ương Huế"), lambda: chat.press("Tim mạch"),
            chat.first_button, chat.first_button, lambda: chat.say("Nguyễn Thị Lan"), lambda: chat.say("0905123456"),
            lambda: chat.press("Đặt lịch")]


def _cancelling(chat: Chat) -> list:
    return [lambda: chat.say("/cancel_appointment"), lambda: chat.press("Tim mạch"), lambda: chat.press("Hủy lịch")]


def _down_at(stack, turns: list, step: int) -> None:
    """The turns before `step` as usual; the city stops; turn `step` is answered politely, with an officer offered."""
    for turn in turns[:step]:
        turn()
    stack.stop_cityapi()
    try:
        assert BUSY in turns[step]()
    finally:
        stack.restart_cityapi()


# The turns of a booking that ask the city: the request, place, service, day, time, phone (summary), yes.
@pytest.mark.parametrize("step", [0, 1, 2, 3, 4, 6, 7])
def test_the_city_down_at_any_step_of_a_booking(stack, step):
    chat = Chat(stack)
    _down_at(stack, _booking(chat), step)
    assert "Gặp cán bộ" in [b["title"] for m in chat.last for b in m["buttons"]]
    # The task was left; the conversation goes on: a new booking starts from its first question.
    assert "khám ở mô" in chat.say("tui muốn đặt lịch khám")


@pytest.mark.parametrize("step", [0, 1, 2])
def test_the_city_down_at_any_step_of_cancelling(stack, step):
    chat = Chat(stack)
    for turn in _booking(chat):
        turn()
    code = BOOKING.search("\n".join(m["text"] for m in chat.last)).group()
    _down_at(stack, _cancelling(chat), step)
    # Nothing was cancelled, and cancelling works again.
    for turn in _cancelling(chat):
        answer = turn()
    assert code in answer and "đã hủy" in answer.lower()


async def _upload(stack, sender: str) -> str:
    form = aiohttp.FormData({"sender": sender})
    form.add_field("photo", io.BytesIO(b"\x89PNG\r\n\x1a\n" + os.urandom(64)), filename="anh.png",
                   content_type="image/png")
    async with aiohttp.ClientSession() as session, session.post(f"{stack.gateway}/api/upload", data=form) as response:
        assert response.status == 200
        return (await response.json())["url"]


def _served(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=10):
            return True
    except urllib.error.HTTPError as error:
        assert error.code == 404
        return False


async def test_a_citizen_asks_to_be_forgotten(stack):
    chat = Chat(stack)
    attached, loose = await _upload(stack, chat.sender), await _upload(stack, chat.sender)
    chat.say("tui muốn phản ánh")
    chat.press("Rác thải")
    chat.say("trước số 12 đường Lê Lợi")
    chat.say("rác đổ đầy lề đường mấy bữa ni chưa ai dọn")
    chat.say('/inform{"photo_url":"' + attached + '"}')
    chat.say("0905 123 456")
    case_id = CASE_ID.search(chat.press("Gửi đi")).group()

    assert "xóa tên, số điện thoại" in chat.say("xóa thông tin của tui")
    assert "đã xóa" in chat.press("Xóa thông tin")

    with sqlite3.connect(stack.var / "rasa-tracker.sqlite3") as tracker:
        assert tracker.execute("SELECT count(*) FROM events WHERE sender_id = ?", (chat.sender,)).fetchone() == (0,)
    with sqlite3.connect(stack.var / "cityapi.sqlite3") as city:
        assert city.execute("SELECT description, phone, media_url FROM service_requests WHERE id = ?",
                            (case_id,)).fetchone() == ("rác đổ đầy lề đường mấy bữa ni chưa ai dọn", None, attached)
    assert _served(attached) and not _served(loose)
    # A new conversation, which knows nothing of the old one; the report is still the citizen's to follow.
    assert case_id.split("-")[1] in chat.say("phản ánh của tui")
    tracker = get_json(f"{stack.rasa}/conversations/{chat.sender}/tracker?token={stack.env['RASA_TOKEN']}")
    assert tracker["slots"]["user_phone"] is None
    assert [e["text"] for e in tracker["events"] if e["event"] == "user"] == ["phản ánh của tui"]


def test_stop_repeat_and_a_human_are_one_sentence_away(stack):
    chat = Chat(stack)
    first = chat.say("tui muốn đặt lịch khám")
    assert chat.say("nói lại") == first
    assert "dừng lại" in chat.say("thôi")
    assert "cán bộ" in chat.say("gặp cán bộ")
