import aiohttp
import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.status import ActionCheckStatus
from tests.actions.conftest import said, tracker
from tests.cityapi.helpers import OFFICER_TOKEN

pytestmark = pytest.mark.clock  # also run at fixed instants (scripts/test)

REPORT = {"service_code": "den_duong", "description": "Đèn đường tắt cả tuần",
          "address_string": "đường Lê Lợi", "account_id": "web-test-0001"}


async def test_status_by_code_typed_any_way(city, city_server):
    case_id = (await city.open311.create(REPORT, "k-1"))["service_request_id"]
    async with aiohttp.ClientSession() as session:
        await session.patch(city_server.make_url(f"/officer/requests/{case_id}"),
                            json={"status": "in_progress", "status_notes": "Đã báo đội chiếu sáng."},
                            headers={"Authorization": f"Bearer {OFFICER_TOKEN}"})
    typed = case_id.lower().replace("-", " ")  # "pa 2026 000001"
    d = CollectingDispatcher()
    events = await ActionCheckStatus().run(d, tracker(f"mã {typed} tới đâu rồi", intent="check_status"), {})
    assert events == [SlotSet("case_id", None)]
    assert said(d) == ["utter_status"]
    message = d.messages[0]
    assert message["case_id"] == case_id and message["status_text"] == "đang được xử lý"
    assert message["category_name"] == "Đèn đường hỏng"
    assert "Đã báo đội chiếu sáng." in message["notes"] and "Dự kiến" in message["notes"]


async def test_unknown_code_offers_own_reports(city):
    d = CollectingDispatcher()
    await ActionCheckStatus().run(d, tracker("PA-2026-999999", intent="check_status",
                                             entities=[("case_id", "PA-2026-999999")]), {})
    assert said(d) == ["utter_unknown_case"] and d.messages[0]["case_id"] == "PA-2026-999999"


async def test_own_reports_are_listed_with_buttons(city):
    first = (await city.open311.create(REPORT, "k-1"))["service_request_id"]
    second = (await city.open311.create({**REPORT, "service_code": "rac_thai"}, "k-2"))["service_request_id"]
    await city.open311.create({**REPORT, "account_id": "web-someone-else"}, "k-3")
    d = CollectingDispatcher()
    await ActionCheckStatus().run(d, tracker("phản ánh của tui", intent="check_status"), {})
    assert said(d) == ["utter_my_reports"]
    assert [b["title"] for b in d.messages[0]["buttons"]] == [second, first]
    assert "đã được tiếp nhận" in d.messages[0]["lines"]


async def test_nothing_filed_yet(city):
    d = CollectingDispatcher()
    await ActionCheckStatus().run(d, tracker("phản ánh của tui", intent="check_status"), {})
    assert said(d) == ["utter_no_reports"]


async def test_city_down_is_said_politely(city_down):
    d = CollectingDispatcher()
    await ActionCheckStatus().run(d, tracker("PA-2026-000001", intent="check_status"), {})
    assert said(d) == ["utter_city_down"]
