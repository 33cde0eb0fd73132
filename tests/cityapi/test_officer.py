"""Officer updates, their history, and the events feed that publishes them."""
from __future__ import annotations

import hmac
from datetime import datetime

import pytest

from tests.cityapi.helpers import AUTH, BASE, book, file_report, free_slots, get_report, officer_update
from tests.conftest import API_KEY, OFFICER_TOKEN, OTHER_OFFICER_TOKEN

pytestmark = pytest.mark.clock  # also run at fixed instants (scripts/test)


async def test_officer_changes_status_and_notes(client):
    case_id = await file_report(client, account_id="telegram:42")
    before = await get_report(client, case_id)
    response = await officer_update(client, case_id, "in_progress", "Tổ vệ sinh sẽ đến trong chiều nay.")
    assert response.status == 200
    updated = await response.json()
    assert updated["status"] == "open"
    assert updated["extended_attributes"]["detailed_status_text"] == "Đang xử lý"
    response = await officer_update(client, case_id, "resolved", "Đã thu gom xong.", OTHER_OFFICER_TOKEN)
    assert response.status == 200
    item = await get_report(client, case_id)
    assert item["status"] == "closed" and item["status_notes"] == "Đã thu gom xong."
    updated, requested = (datetime.fromisoformat(item[k]) for k in ("updated_datetime", "requested_datetime"))
    assert updated >= requested == datetime.fromisoformat(before["requested_datetime"])

    response = await client.get(f"/officer/requests/{case_id.lower()}/history",
                                headers={"Authorization": f"Bearer {OTHER_OFFICER_TOKEN}"})
    history = (await response.json())["history"]
    assert [(h["status"], h["changed_by"]) for h in history] == [
        ("received", "assistant"), ("in_progress", "lan"), ("resolved", "minh")]
    assert all(h["changed_at"].endswith("+07:00") for h in history)


async def test_officer_errors(client):
    case_id = await file_report(client)
    response = await client.patch(f"/officer/requests/{case_id}", json={"status": "resolved"})
    assert response.status == 401
    assert "cán bộ" in (await response.json())["error"]["description"]
    response = await client.patch(f"/officer/requests/{case_id}", json={"status": "resolved"},
                                  headers=AUTH)  # a client key is not an officer token
    assert response.status == 401
    assert (await officer_update(client, case_id, "xong roi")).status == 400
    assert (await officer_update(client, "PA-2026-999999", "resolved")).status == 404
    assert (await officer_update(client, case_id, "resolved", "x" * 2001)).status == 400
    response = await client.get(f"/officer/requests/{case_id}/history")
    assert response.status == 401
    assert (await get_report(client, case_id))["status"] == "open"


async def test_events_feed_publishes_changes_in_order(client):
    first = await file_report(client, account_id="zalo:9")
    second = await file_report(client, account_id="zalo:9", description="Rác lại đầy")
    await officer_update(client, first, "resolved", "Đã dọn.")
    slot = (await free_slots(client))[0]
    booking = await (await book(client, slot["id"])).json()

    response = await client.get("/events", headers=AUTH)
    assert response.status == 200
    feed = await response.json()
    kinds = [(e["type"], e["subject"]) for e in feed["events"]]
    assert kinds == [("service_request.created", first), ("service_request.created", second),
                     ("service_request.updated", first), ("appointment.booked", booking["id"])]
    update = feed["events"][2]["data"]
    assert update == {"service_request_id": first, "service_code": "rac_thai", "status": "resolved",
                      "status_notes": "Đã dọn.", "account_id": "zalo:9", "changed_by": "lan"}
    ids = [e["id"] for e in feed["events"]]
    assert ids == sorted(ids) and feed["next"] == ids[-1]

    page = await (await client.get("/events", params={"since": str(ids[1]), "limit": "1"},
                                   headers=AUTH)).json()
    assert [e["id"] for e in page["events"]] == [ids[2]] and page["next"] == ids[2]
    empty = await (await client.get("/events", params={"since": str(ids[-1])}, headers=AUTH)).json()
    assert empty == {"events": [], "next": ids[-1]}


async def test_events_feed_needs_credentials(client):
    assert (await client.get("/events")).status == 401
    assert (await client.get("/events", params={"since": "abc"}, headers=AUTH)).status == 400
    response = await client.get(f"{BASE}/requests.json")  # the public Open311 list needs none
    assert response.status == 200


async def test_every_secret_is_compared_in_constant_time(client, monkeypatch):
    import cityapi.context

    compared, original = [], hmac.compare_digest

    def compare_digest(a, b):
        compared.append(a)
        return original(a, b)

    monkeypatch.setattr(cityapi.context.hmac, "compare_digest", compare_digest)
    for token, status in ((OFFICER_TOKEN, 200), (API_KEY, 200), (OFFICER_TOKEN[:-1], 401), ("x" * 32, 401)):
        compared.clear()
        response = await client.get("/events", headers={"Authorization": f"Bearer {token}"})
        assert response.status == status
        # Each officer's token (and for a non-officer, each client key) is compared, whoever matches.
        assert len(compared) >= 2
    assert (await client.get("/health")).status == 200
