"""Notifications in the gateway against the real cityapi (in process, on loopback): what is said, when it may go,
and that it goes once — with two gateways on one database and across a restart. The chat apps' side is in
tests/e2e/test_notify.py."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime

import pytest
import sqlalchemy as sa

from bot.app import make_app
from bot.context import CONSOLE, IDENTITIES, NOTIFIER
from bot.notify import plan
from bot.notify.store import notifications
from bot.settings import NotifySettings, Settings
from cityapi.app import make_app as make_city
from cityapi.config import Settings as CitySettings
from common.clock import LOCAL_TZ
from tests.cityapi.helpers import AUTH, FHIR, appointment, file_report, officer_update, search
from tests.conftest import API_KEY, TEST_ENV, free_port

pytestmark = pytest.mark.clock  # also run at fixed instants (scripts/test)

QUIET = NotifySettings()
WEB = "web-notify-0001"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LOCAL_TZ)


def test_a_status_change_is_said_plainly_with_the_code_in_groups():
    message = plan.status_message({"service_request_id": "PA-2026-000123", "service_code": "rac_thai",
                                   "status": "resolved", "status_notes": "Tổ vệ sinh đã dọn rác sáng nay."})
    assert message["text"] == ("Dạ, phản ánh PA 2026 000 123 (rác thải) của bác đã xử lý xong. "
                               "Cán bộ ghi: Tổ vệ sinh đã dọn rác sáng nay.")
    assert message["buttons"][0] == {"title": "Xem chi tiết", "payload": '/check_status{"case_id":"PA-2026-000123"}'}
    assert plan.told_first(message)["text"].startswith("Dạ, trước tiên cháu báo bác: phản ánh PA 2026 000 123")


@pytest.mark.parametrize(("moment", "quiet"), [("2026-12-01T20:59", False), ("2026-12-01T21:00", True),
                                               ("2026-12-02T03:00", True), ("2026-12-02T06:59", True),
                                               ("2026-12-02T07:00", False), ("2026-12-02T12:00", False)])
def test_quiet_hours_are_nine_at_night_to_seven_in_the_morning(moment, quiet):
    assert plan.is_quiet(at(moment), QUIET) is quiet


def test_what_falls_in_the_quiet_hours_goes_at_seven():
    assert plan.after_quiet(at("2026-12-01T22:00"), QUIET) == at("2026-12-02T07:00")
    assert plan.after_quiet(at("2026-12-02T03:30"), QUIET) == at("2026-12-02T07:00")
    assert plan.after_quiet(at("2026-12-02T09:15"), QUIET) == at("2026-12-02T09:15")


def test_a_visit_is_recalled_the_day_before_at_eight():
    tuesday = at("2026-12-08T09:00")  # booked on Wednesday the 2nd for next Tuesday
    assert plan.reminder_due(tuesday, at("2026-12-02T10:00"), QUIET) == at("2026-12-07T08:00")
    assert plan.reminder_due(tuesday, at("2026-12-07T09:00"), QUIET) is None  # booked after: its confirmation
    late = NotifySettings(reminder_hour=22)  # a reminder hour inside the quiet hours moves to their end
    assert plan.reminder_due(tuesday, at("2026-12-02T10:00"), late) == at("2026-12-08T07:00")
    assert plan.reminder_due(at("2026-12-08T07:00"), at("2026-12-02T10:00"), late) is None


@pytest.fixture
async def city(aiohttp_client, tmp_path, clock_at):
    """cityapi, its clinic slots made from a fixed Wednesday (tests set the clock on from there)."""
    clock_at(at("2026-12-02T10:00"))
    settings = CitySettings.from_env({**TEST_ENV, "DATABASE_URL": f"sqlite:///{tmp_path / 'city.sqlite3'}"})
    return await aiohttp_client(make_city(settings))


def gateway_settings(var, city, **env) -> Settings:
    return Settings.from_env({"TROLYHUE_VAR": str(var), "RASA_URL": f"http://127.0.0.1:{free_port()}",
                              "CITYAPI_URL": str(city.make_url("")).rstrip("/"), "CITYAPI_API_KEY": API_KEY,
                              "NOTIFY_POLL_SECONDS": "3600", **env})


async def gateway(aiohttp_client, var, city, **env):
    """A gateway whose notifier only works when the test says so (its loop ran once at start)."""
    client = await aiohttp_client(make_app(gateway_settings(var, city, **env)))
    return client, client.server.app[NOTIFIER]


async def rows(notifier) -> list:
    async with notifier.store.engine.connect() as conn:
        return list(await conn.execute(sa.select(notifications).order_by(notifications.c.id)))


async def round_of(notifier) -> int:
    await notifier.ingest()
    return await notifier.send_due()


async def first_streamed(client, sender: str) -> dict:
    """The first message the web chat's live line gives a page that opens."""
    response = await client.get("/api/stream", params={"sender": sender})
    try:
        while True:
            line = (await asyncio.wait_for(response.content.readline(), 10)).decode()
            if line.startswith("data:"):
                return json.loads(line[5:])
    finally:
        response.close()


async def test_a_closed_web_chat_is_told_first_thing_at_its_next_visit_and_only_once(aiohttp_client, city,
                                                                                    tmp_path, clock_at):
    clock_at(at("2026-12-02T10:00"))
    client, notifier = await gateway(aiohttp_client, tmp_path, city)
    case = await file_report(city, account_id=WEB)
    assert (await officer_update(city, case, "in_progress", "Đội cây xanh sẽ xuống chiều nay.")).status == 200
    await round_of(notifier)
    [row] = await rows(notifier)
    assert (row.kind, row.state, row.recipient) == ("status", "waiting", WEB)  # the page is not open
    told = await first_streamed(client, WEB)
    assert told["text"].startswith("Dạ, trước tiên cháu báo bác: phản ánh " + plan.spoken_code(case))
    assert "đang được xử lý. Cán bộ ghi: Đội cây xanh sẽ xuống chiều nay." in told["text"]
    assert await notifier.waiting_for([WEB]) == []  # said once
    assert [r.state for r in await rows(notifier)] == ["sent"]


async def test_two_gateways_and_a_restart_tell_each_change_once(aiohttp_client, city, tmp_path, clock_at):
    clock_at(at("2026-12-02T10:00"))
    (_, first), (_, second) = [await gateway(aiohttp_client, tmp_path, city) for _ in range(2)]
    cases = [await file_report(city, account_id=f"web-notify-{n:04d}") for n in range(6)]
    for case in cases:
        await officer_update(city, case, "resolved", "Đã xong.")
    await asyncio.gather(*(round_of(notifier) for notifier in (first, second, first, second)))
    told = await rows(first)
    assert len(told) == 6 and {r.state for r in told} == {"waiting"}
    assert sorted(r.subject for r in told) == sorted(cases)
    # A gateway started again reads on from the stored cursor: nothing is planned twice.
    _, again = await gateway(aiohttp_client, tmp_path, city)
    assert await again.ingest() == 0 and await again.send_due() == 0
    assert len(await rows(again)) == 6
    await officer_update(city, cases[0], "in_progress")
    assert await again.ingest() == 1 and len(await rows(again)) == 7


async def test_nothing_is_pushed_in_the_quiet_hours_and_it_goes_at_seven(aiohttp_client, city, tmp_path, clock_at):
    clock_at(at("2026-12-02T22:00"))
    client, notifier = await gateway(aiohttp_client, tmp_path, city)
    page = await client.get("/api/stream", params={"sender": WEB})  # the citizen's web chat stays open
    case = await file_report(city, account_id=WEB)
    await officer_update(city, case, "resolved", "Đã dọn.")
    assert await round_of(notifier) == 0
    clock_at(at("2026-12-03T06:59"))
    assert await round_of(notifier) == 0 and [r.state for r in await rows(notifier)] == ["pending"]
    clock_at(at("2026-12-03T07:00"))
    assert await round_of(notifier) == 1 and [r.state for r in await rows(notifier)] == ["sent"]
    line = b""
    while not line.startswith(b"data:"):  # the first thing the open page was given: at 07:00
        line = await asyncio.wait_for(page.content.readline(), 10)
    assert json.loads(line[5:])["text"].startswith(f"Dạ, phản ánh {plan.spoken_code(case)}")
    page.close()


async def _book(city, day: str, account: str) -> str:
    found = await search(city, "Slot", [("schedule", "Schedule/bv-trung-uong-hue-tim-mach"), ("status", "free"),
                                        ("start", f"ge{day}T00:00:00+07:00"), ("start", f"lt{day}T23:59:00+07:00")])
    slot = found["entry"][0]["resource"]["id"]
    response = await city.post(f"{FHIR}/Appointment", json=appointment(slot, account=account),
                               headers={**AUTH, "Content-Type": "application/fhir+json"})
    assert response.status == 201, await response.text()
    return (await response.json())["id"]


async def test_a_visit_next_tuesday_is_recalled_on_monday_at_eight_once_and_a_cancelled_one_never(
        aiohttp_client, city, tmp_path, clock_at):
    clock_at(at("2026-12-02T10:00"))  # a Wednesday
    _, notifier = await gateway(aiohttp_client, tmp_path, city)
    kept = await _book(city, "2026-12-08", WEB)
    dropped = await _book(city, "2026-12-08", "web-notify-0002")
    await notifier.ingest()
    due = {r.subject: r.due_at for r in await rows(notifier)}
    assert due == {kept: datetime(2026, 12, 7, 1, 0), dropped: datetime(2026, 12, 7, 1, 0)}  # 08:00 in Huế
    cancel = await city.patch(f"{FHIR}/Appointment/{dropped}", json=[{"op": "replace", "path": "/status",
                                                                       "value": "cancelled"}],
                              headers={**AUTH, "Content-Type": "application/json-patch+json"})
    assert cancel.status == 200
    clock_at(at("2026-12-07T07:59"))
    assert await round_of(notifier) == 0
    clock_at(at("2026-12-07T08:00"))
    assert await round_of(notifier) == 1
    assert await round_of(notifier) == 0
    states = {r.subject: r.state for r in await rows(notifier)}
    assert states == {kept: "waiting", dropped: "cancelled"}
    [told] = await notifier.waiting_for([WEB])
    assert "trước tiên cháu báo bác: bác có lịch khám tim mạch, huyết áp tại Bệnh viện Trung ương Huế" in told["text"]
    assert "Thứ Ba, 8/12/2026" in told["text"] and "Bác nhớ mang CCCD và thẻ BHYT" in told["text"]
    assert plan.spoken_code(kept) in told["text"]
    assert told["buttons"][0]["payload"] == f'/cancel_appointment{{"appointment_id":"{kept}"}}'


async def test_a_chat_app_that_fails_is_tried_again_then_shown_to_officers(aiohttp_client, city, tmp_path, clock_at):
    clock_at(at("2026-12-02T10:00"))
    nowhere = f"http://127.0.0.1:{free_port()}"  # a Telegram that cannot be reached
    client, notifier = await gateway(aiohttp_client, tmp_path, city, TELEGRAM_BOT_TOKEN="1:x",
                                     TELEGRAM_API_BASE_URL=f"{nowhere}/bot", NOTIFY_RETRY_SECONDS="0,0")
    case = await file_report(city, account_id="telegram:42")
    await officer_update(city, case, "resolved")
    for _ in range(3):
        await round_of(notifier)
    [row] = await rows(notifier)
    assert (row.state, row.attempts, row.recipient) == ("failed", 2, "telegram:42")
    [queued] = await client.server.app[CONSOLE].store.queue()
    assert (queued.sender, queued.reason) == ("telegram:42", "undelivered")


async def test_one_citizen_across_channels(aiohttp_client, city, tmp_path, clock_at):
    clock_at(at("2026-12-02T10:00"))
    client, notifier = await gateway(aiohttp_client, tmp_path, city)
    identities = client.server.app[IDENTITIES]
    await identities.link("call-CA1", "0905123456", "phone")
    assert await identities.accounts("telegram:7") == ["telegram:7"]  # not linked: itself alone
    assert await identities.recipient("call-CA1") == "call-CA1"  # no chat app: the next call
    clock_at(at("2026-12-02T10:05"))
    await identities.link("telegram:7", "0905123456", "telegram")
    await identities.link("zalo:9", "0905123456", "zalo")
    assert await identities.accounts("telegram:7") == ["telegram:7", "zalo:9", "call-CA1"]
    profile = await identities.profile("call-CA1")
    assert profile["phone"] == "0905 *** 456" and profile["channels"] == ["phone", "telegram", "zalo"]
    clock_at(at("2026-12-02T10:10"))
    await identities.seen("telegram:7")
    assert await identities.recipient("call-CA1") == "telegram:7"  # the chat app used last
    await identities.seen("call-CA1")
    assert await identities.recipient("call-CA1") == "telegram:7"  # a call cannot be pushed to
    assert await identities.choose("call-CA1", "zalo")
    assert await identities.recipient("call-CA1") == "zalo:9"  # the one they chose
    assert not await identities.choose("web-nobody-0001", "zalo")  # not linked: nothing to choose for
    assert await identities.unlink("zalo:9") and await identities.unlink("telegram:7")
    assert await identities.accounts("call-CA1") == ["call-CA1"]
    assert await identities.recipient("call-CA1") == "call-CA1"
    assert await identities.profile("telegram:7") is None
    await notifier.close()
