"""A citizen forgotten on request: their reports stay, without what says who they are."""
from __future__ import annotations

import sqlalchemy as sa

from cityapi import db
from cityapi.context import ENGINE
from tests.cityapi.helpers import ACCOUNT_SYSTEM, AUTH, book, file_report, free_slots, get_report, search


async def test_forgetting_an_account(client):
    mine = await file_report(client, account_id="web-00000001", phone="0905 123 456", first_name="Lan",
                             email="lan@example.vn")
    other = await file_report(client, account_id="web-00000002", phone="0914 000 111",
                              description="Đèn đường tắt cả tuần nay.")
    slot = (await free_slots(client, count=1))[0]
    assert (await book(client, slot["id"], account="web-00000001")).status == 201

    response = await client.post("/privacy/forget", json={"account_id": "web-00000001"}, headers=AUTH)
    assert response.status == 200
    assert await response.json() == {"account_id": "web-00000001", "service_requests": 1, "patients": 1}

    body = await (await client.get("/open311/v2/requests.json", params={"account_id": "web-00000001"},
                                   headers=AUTH)).json()
    assert [r["service_request_id"] for r in body] == [mine]  # the report is still the citizen's and the city's
    assert (await get_report(client, mine))["description"] == "Rác đổ ba ngày chưa ai dọn ở đầu kiệt."
    patients = await search(client, "Patient", {"identifier": f"{ACCOUNT_SYSTEM}|web-00000001"}, headers=AUTH)
    assert patients["total"] == 0  # the assistant can no longer recall the name and phone
    visits = await search(client, "Appointment", {"patient:identifier": "0905123456"}, headers=AUTH)
    assert visits["total"] == 1  # the clinic keeps the visit


    async with client.app[ENGINE].connect() as conn:
        rows = {r.id: r for r in await conn.execute(sa.select(db.service_requests))}
    assert (rows[mine].phone, rows[mine].first_name, rows[mine].email) == (None, None, None)
    assert rows[other].phone == "0914000111"  # nobody else's


async def test_forgetting_needs_a_key_and_an_account(client):
    assert (await client.post("/privacy/forget", json={"account_id": "web-1"})).status == 401
    for body in ({}, {"account_id": ""}, {"account_id": 42}, ["web-1"]):
        response = await client.post("/privacy/forget", json=body, headers=AUTH)
        assert response.status == 400
        assert "account_id" in (await response.json())["error"]["description"]
