"""Open311 GeoReport v2 against the real server on a real database."""
from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta

import pytest

from common import clock
from tests.cityapi import open311_spec as spec
from tests.cityapi.helpers import BASE, file_report, get_report, officer_update, report_form
from tests.conftest import API_KEY

pytestmark = pytest.mark.clock  # also run at fixed instants (scripts/test)

CASE_ID = re.compile(r"PA-(\d{4})-\d{6}")


async def test_the_case_code_carries_the_year_of_hue(client, clock_at):
    clock_at(datetime(2027, 1, 1, 0, 30))  # still 31 December in UTC
    assert await file_report(client) == "PA-2027-000001"


async def test_discovery_follows_the_spec(client):
    response = await client.get(f"{BASE}/discovery.json")
    assert response.status == 200
    doc = await response.json()
    spec.check_discovery(doc)
    assert doc["endpoints"][0]["url"].endswith("/open311/v2")


async def test_service_list_is_a_vietnamese_catalogue(client):
    response = await client.get(f"{BASE}/services.json")
    assert response.content_type == "application/json" and response.charset == "utf-8"
    assert "Rác thải" in await response.text()  # UTF-8 on the wire, not \u escapes
    services = await response.json()
    spec.check_service_list(services)
    by_code = {s["service_code"]: s for s in services}
    assert {"rac_thai", "duong_hu_hong", "ngap_ung", "den_duong", "cay_xanh", "lan_chiem_via_he",
            "tieng_on", "cap_nuoc", "khac"} <= set(by_code)
    assert by_code["duong_hu_hong"]["service_name"] == "Hư hỏng đường, ổ gà"
    assert "ổ gà" in by_code["duong_hu_hong"]["keywords"]
    assert by_code["ngap_ung"]["group"] == "Thoát nước"


async def test_service_definitions_follow_the_spec(client):
    services = await (await client.get(f"{BASE}/services.json")).json()
    with_metadata = [s["service_code"] for s in services if s["metadata"]]
    assert with_metadata
    for code in with_metadata:
        response = await client.get(f"{BASE}/services/{code}.json")
        assert response.status == 200
        spec.check_service_definition(await response.json(), code)
    definition = await (await client.get(f"{BASE}/services/ngap_ung.json")).json()
    assert [v["name"] for v in definition["attributes"][0]["values"]][1] == "Đến đầu gối"


async def test_unknown_service_definition_is_404(client):
    response = await client.get(f"{BASE}/services/khong_co.json")
    assert response.status == 404
    spec.check_error(await response.json(), 404)


async def test_report_is_stored_and_comes_back_by_its_id(client):
    response = await client.post(f"{BASE}/requests.json", data=report_form(
        service_code="ngap_ung", description="Nước ngập tới đầu gối trước nhà, xe máy chết máy.",
        address_string="12 kiệt 5 Chi Lăng, phường Phú Xuân", phone="0905 123 456",
        account_id="telegram:42", **{"attribute[muc_ngap]": "dau_goi"}))
    assert response.status == 201
    body = await response.json()
    case_id = spec.check_post_response(body)
    assert CASE_ID.fullmatch(case_id)
    assert CASE_ID.fullmatch(case_id).group(1) == str(clock.today().year)
    assert "HEPCO" in body[0]["service_notice"]

    item = await get_report(client, case_id)
    spec.check_request(item)
    assert item["service_request_id"] == case_id
    assert item["service_code"] == "ngap_ung"
    assert item["service_name"] == "Ngập úng, thoát nước"
    assert item["description"] == "Nước ngập tới đầu gối trước nhà, xe máy chết máy."
    assert item["address"] == "12 kiệt 5 Chi Lăng, phường Phú Xuân"
    assert item["lat"] == pytest.approx(16.4637) and item["long"] == pytest.approx(107.5909)
    assert item["status"] == "open"
    assert "HEPCO" in item["agency_responsible"]
    assert item["requested_datetime"].endswith("+07:00")
    requested = datetime.fromisoformat(item["requested_datetime"])
    assert datetime.fromisoformat(item["expected_datetime"]) - requested == timedelta(hours=24)
    assert abs(requested - clock.now()) < timedelta(minutes=1)
    assert "0905" not in str(item)  # the citizen's phone is never published


async def test_report_by_address_only(client):
    case_id = await file_report(client, lat=None, long=None, address_string="Chợ Đông Ba")
    item = await get_report(client, case_id)
    assert item["lat"] is None and item["address"] == "Chợ Đông Ba"


async def test_case_ids_are_unique_and_sequential(client):
    ids = [await file_report(client, description=f"Đèn số {n} không sáng", service_code="den_duong")
           for n in range(3)]
    numbers = [int(i[-6:]) for i in ids]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]


async def test_concurrent_reports_get_distinct_ids(client):
    ids = await asyncio.gather(*(file_report(client, description=f"Ổ gà thứ {n}",
                                             service_code="duong_hu_hong") for n in range(12)))
    assert len(set(ids)) == 12


@pytest.mark.parametrize("fields, status, words", [
    ({"api_key": None}, 403, "api_key"),
    ({"api_key": "sai-khoa-0000000000000000"}, 403, "api_key"),
    ({"service_code": "khong_co"}, 400, "service_code"),
    ({"service_code": None}, 400, "service_code"),
    ({"lat": None, "long": None}, 400, "vị trí"),
    ({"long": None}, 400, "long"),
    ({"lat": "abc"}, 400, "số"),
    ({"lat": "10.77", "long": "106.70"}, 400, "ngoài địa bàn"),
    ({"description": "x" * 4001}, 400, "4000"),
    ({"phone": "12345"}, 400, "điện thoại"),
    ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
    ({"attribute[loai_rac]": "hat_nhan"}, 400, "loai_rac"),
    ({"attribute[khong_co]": "1"}, 400, "khong_co"),
])
async def test_bad_reports_get_open311_errors(client, fields, status, words):
    response = await client.post(f"{BASE}/requests.json", data=report_form(**fields))
    assert response.status == status
    body = await response.json()
    spec.check_error(body, status)
    assert words.lower() in body[0]["description"].lower()


async def test_description_of_exactly_4000_characters_is_accepted(client):
    case_id = await file_report(client, description="ồ" * 4000)
    assert len((await get_report(client, case_id))["description"]) == 4000


async def test_json_body_is_refused_politely(client):
    response = await client.post(f"{BASE}/requests.json", json=report_form())
    assert response.status == 400
    spec.check_error(await response.json(), 400)


async def test_unknown_case_is_404(client):
    response = await client.get(f"{BASE}/requests/PA-2026-999999.json")
    assert response.status == 404
    body = await response.json()
    spec.check_error(body, 404)
    assert "PA-2026-999999" in body[0]["description"]


async def test_unknown_path_and_method_answer_in_open311_form(client):
    response = await client.get(f"{BASE}/requests.xml")
    assert response.status == 404
    spec.check_error(await response.json(), 404)
    response = await client.delete(f"{BASE}/requests.json")
    assert response.status == 405
    spec.check_error(await response.json(), 405)


async def test_retry_with_idempotency_key_files_once(client):
    headers = {"Idempotency-Key": "tg-42-msg-1001"}
    first = await file_report(client, headers=headers)
    response = await client.post(f"{BASE}/requests.json", data=report_form(), headers=headers)
    assert response.status == 200 and response.headers["Idempotent-Replayed"] == "true"
    assert spec.check_post_response(await response.json()) == first
    other = await file_report(client, headers={"Idempotency-Key": "tg-42-msg-1002"})
    assert other != first


async def test_concurrent_retries_file_once(client):
    headers = {"Idempotency-Key": "zalo-7-msg-9"}
    responses = await asyncio.gather(*(
        client.post(f"{BASE}/requests.json", data=report_form(), headers=headers) for _ in range(10)))
    ids = {(await r.json())[0]["service_request_id"] for r in responses}
    assert len(ids) == 1
    assert sorted(r.status for r in responses) == [200] * 9 + [201]


async def test_same_device_and_description_soon_after_is_a_retry(client):
    fields = {"device_id": "web-abc", "account_id": "web:abc", "description": "Cây đổ chắn kiệt"}
    first = await file_report(client, service_code="cay_xanh", **fields)
    response = await client.post(f"{BASE}/requests.json",
                                 data=report_form(service_code="cay_xanh", **fields))
    assert response.status == 200
    assert spec.check_post_response(await response.json()) == first
    changed = await file_report(client, service_code="cay_xanh",
                                **{**fields, "description": "Cây thứ hai cũng đổ"})
    assert changed != first


async def test_list_filters(client):
    trash = await file_report(client, account_id="telegram:1")
    light = await file_report(client, service_code="den_duong", account_id="telegram:2",
                              description="Đèn đường tắt cả tuần")
    noise = await file_report(client, service_code="tieng_on", account_id="telegram:1",
                              description="Karaoke tới khuya")
    assert (await officer_update(client, noise, "resolved", "Đã nhắc nhở hộ gia đình.")).status == 200

    async def ids(**params):
        response = await client.get(f"{BASE}/requests.json", params=params)
        assert response.status == 200, await response.text()
        body = await response.json()
        spec.check_request_list(body)
        return [item["service_request_id"] for item in body]

    assert await ids() == [noise, light, trash]  # newest first
    assert await ids(service_request_id=f"{trash},{noise}") == [noise, trash]
    assert await ids(service_request_id=light, service_code="rac_thai") == [light]  # id overrides
    assert await ids(service_code="den_duong,tieng_on") == [noise, light]
    assert await ids(status="closed") == [noise]
    assert await ids(status="open") == [light, trash]
    assert await ids(account_id="telegram:1", api_key=API_KEY) == [noise, trash]
    now = clock.now()
    assert await ids(start_date=(now - timedelta(hours=1)).isoformat(),
                     end_date=(now + timedelta(hours=1)).isoformat()) == [noise, light, trash]
    assert await ids(end_date=(now - timedelta(hours=1)).isoformat()) == []


@pytest.mark.parametrize("params, status", [
    ({"start_date": "2026-01-01T00:00:00+07:00", "end_date": "2026-05-01T00:00:00+07:00"}, 400),
    ({"start_date": "2026-01-01"}, 400),
    ({"status": "pending"}, 400),
    ({"account_id": "telegram:1"}, 403),
    ({"account_id": "telegram:1", "api_key": "sai-khoa-0000000000000000"}, 403),
])
async def test_list_errors(client, params, status):
    response = await client.get(f"{BASE}/requests.json", params=params)
    assert response.status == status
    spec.check_error(await response.json(), status)


async def test_extensions_show_the_plain_status_and_history(client):
    case_id = await file_report(client)
    await officer_update(client, case_id, "in_progress", "Đã giao tổ vệ sinh phường.")
    item = await get_report(client, case_id, extensions="true")
    spec.check_request(item)
    assert item["extended_attributes"] == {"detailed_status": "in_progress",
                                           "detailed_status_text": "Đang xử lý"}
    assert [n["type"] for n in item["notes"]] == ["received", "in_progress"]
    assert item["notes"][1]["description"] == "Đã giao tổ vệ sinh phường."
    assert "notes" not in await get_report(client, case_id)


async def test_an_internal_failure_is_an_open311_error_without_a_trace(client, monkeypatch):
    from cityapi import open311

    def broken():
        raise RuntimeError("secret internals")

    monkeypatch.setattr(open311, "request_query", broken)
    response = await client.get(f"{BASE}/requests.json")
    assert response.status == 500
    assert "secret internals" not in await response.text()
    spec.check_error(await response.json(), 500)
