from __future__ import annotations

from tests.conftest import API_KEY, OFFICER_TOKEN

BASE = "/open311/v2"


def report_form(**fields) -> dict:
    form = {"api_key": API_KEY, "service_code": "rac_thai", "lat": "16.4637",
            "long": "107.5909", "description": "Rác đổ ba ngày chưa ai dọn ở đầu kiệt."}
    form.update(fields)
    return {k: v for k, v in form.items() if v is not None}


async def file_report(client, headers=None, **fields) -> str:
    response = await client.post(f"{BASE}/requests.json", data=report_form(**fields), headers=headers)
    assert response.status == 201, await response.text()
    return (await response.json())[0]["service_request_id"]


async def get_report(client, case_id: str, **params) -> dict:
    response = await client.get(f"{BASE}/requests/{case_id}.json", params=params)
    assert response.status == 200, await response.text()
    body = await response.json()
    assert len(body) == 1
    return body[0]


async def officer_update(client, case_id: str, status: str, notes: str | None = None,
                         token: str = OFFICER_TOKEN):
    return await client.patch(f"/officer/requests/{case_id}",
                              json={"status": status, "status_notes": notes},
                              headers={"Authorization": f"Bearer {token}"})
