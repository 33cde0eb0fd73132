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

FHIR = "/fhir/R4"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
PHONE_SYSTEM = "https://hue.gov.vn/fhir/sid/phone"
ACCOUNT_SYSTEM = "https://hue.gov.vn/fhir/sid/chat-account"


def appointment(slot_id: str, name: str = "Nguyễn Thị Lan", phone: str = "0905 123 456",
                account: str | None = "telegram:42") -> dict:
    patient = {"resourceType": "Patient", "id": "p", "name": [{"text": name}],
               "telecom": [{"system": "phone", "value": phone}]}
    if account:
        patient["identifier"] = [{"system": ACCOUNT_SYSTEM, "value": account}]
    return {
        "resourceType": "Appointment",
        "status": "booked",
        "contained": [patient],
        "slot": [{"reference": f"Slot/{slot_id}"}],
        "participant": [{"actor": {"reference": "#p"}, "status": "accepted"}],
    }


async def search(client, resource: str, params, headers=None) -> dict:
    response = await client.get(f"{FHIR}/{resource}", params=params, headers=headers)
    assert response.status == 200, await response.text()
    assert response.content_type == "application/fhir+json"
    body = await response.json()
    assert body["resourceType"] == "Bundle" and body["type"] == "searchset"
    return body


async def free_slots(client, schedule: str = "bv-trung-uong-hue-tim-mach", count: int = 5) -> list[dict]:
    body = await search(client, "Slot", {"schedule": f"Schedule/{schedule}", "status": "free",
                                         "_count": str(count)})
    return [entry["resource"] for entry in body["entry"]]


async def book(client, slot_id: str, **patient):
    return await client.post(f"{FHIR}/Appointment", json=appointment(slot_id, **patient),
                             headers={**AUTH, "Content-Type": "application/fhir+json"})
