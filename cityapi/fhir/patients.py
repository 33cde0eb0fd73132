"""Patients: found by phone or chat account, created on first booking."""
from __future__ import annotations

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from common.database import insert_missing
from common.text import fold, normalize_phone

from .. import db
from ..catalog import ACCOUNT_SYSTEM, PHONE_SYSTEM
from ..context import engine, require_client
from ..responses import ApiError
from .common import bundle, not_found, one_row, paging, query, reference_id, resource_response, token


def _patient_json(row: sa.Row) -> dict:
    identifiers = [{"system": PHONE_SYSTEM, "value": row.phone}]
    if row.account_id:
        identifiers.append({"system": ACCOUNT_SYSTEM, "value": row.account_id})
    return {
        "resourceType": "Patient",
        "id": str(row.id),
        "identifier": identifiers,
        "name": [{"text": row.name}],
        "telecom": [{"system": "phone", "value": row.phone, "use": "mobile"}],
    }


def patient_filter(value: str):
    """`system|value` on phone or chat account -> a condition on the patients table."""
    system, ident = token(value)
    p = db.patients
    if system == PHONE_SYSTEM or (system is None and normalize_phone(ident)):
        return p.c.phone == (normalize_phone(ident) or ident)
    if system == ACCOUNT_SYSTEM or system is None:
        return p.c.account_id == ident
    raise ApiError(400, f"Hệ định danh không được hỗ trợ: {system}.")


async def search_patients(request: web.Request) -> web.Response:
    require_client(request)
    params = query(request, {"identifier"})
    count, offset = paging(params)
    p = db.patients
    stmt = sa.select(p).where(*[patient_filter(v) for v in params.getall("identifier", [])])
    async with engine(request).connect() as conn:
        rows = list(await conn.execute(stmt.order_by(p.c.id)))
    return bundle(request, [_patient_json(r) for r in rows[offset:offset + count]],
                  len(rows), count, offset)


async def read_patient(request: web.Request) -> web.Response:
    require_client(request)
    ident = request.match_info["id"]
    if not ident.isdigit():
        raise not_found("Patient", ident)
    async with engine(request).connect() as conn:
        row = await one_row(conn, sa.select(db.patients).where(db.patients.c.id == int(ident)),
                         "Patient", ident)
    return resource_response(request, _patient_json(row))


def patient_details(body: dict) -> dict:
    """The Patient participant, validated: `{"id"}` of a known one, or name, phone, account."""
    try:
        details = _participant_patient(body)
    except (AttributeError, TypeError, IndexError):
        raise ApiError(400, "Thông tin người bệnh không đúng cấu trúc FHIR.", "structure") from None
    if "id" in details:
        return details
    name = " ".join(str(details.get("name") or "").split())
    if not name or len(name) > 200:
        raise ApiError(400, "Cần họ tên người đi khám.", "required")
    phone = normalize_phone(str(details.get("phone") or ""))
    if phone is None:
        raise ApiError(400, "Số điện thoại không hợp lệ.", "value")
    return {"name": name, "phone": phone, "account_id": details.get("account_id")}


def _participant_patient(body: dict) -> dict:
    """A contained Patient (`#id`), `Patient/n`, or a phone identifier with a display name."""
    for participant in body.get("participant") or []:
        actor = participant.get("actor") if isinstance(participant, dict) else None
        if not isinstance(actor, dict):
            continue
        reference = str(actor.get("reference", ""))
        if reference.startswith("Patient/"):
            return {"id": reference_id(reference, "Patient")}
        if reference.startswith("#"):
            contained = [r for r in body.get("contained") or []
                         if isinstance(r, dict) and r.get("id") == reference[1:]]
            if not contained or contained[0].get("resourceType") != "Patient":
                raise ApiError(400, f"Không thấy Patient {reference} trong contained.", "structure")
            return _contained_patient(contained[0])
        identifier = actor.get("identifier")
        if isinstance(identifier, dict) and identifier.get("system") == PHONE_SYSTEM:
            return {"name": actor.get("display"), "phone": identifier.get("value"),
                    "account_id": None}
    raise ApiError(400, "Lịch hẹn cần một người bệnh (participant.actor là Patient).", "required")


def _contained_patient(patient: dict) -> dict:
    names = patient.get("name") or [{}]
    name = names[0].get("text") or " ".join(
        [names[0].get("family", ""), *names[0].get("given", [])]).strip()
    phone = next((t.get("value") for t in patient.get("telecom") or []
                  if isinstance(t, dict) and t.get("system") == "phone"), None)
    account = None
    for identifier in patient.get("identifier") or []:
        if identifier.get("system") == PHONE_SYSTEM and not phone:
            phone = identifier.get("value")
        if identifier.get("system") == ACCOUNT_SYSTEM:
            account = identifier.get("value")
    return {"name": name, "phone": phone, "account_id": account}


async def patient_id_for(conn: AsyncConnection, details: dict) -> int:
    """The id of a known patient, or of the one these details describe (created if new)."""
    p = db.patients
    if "id" in details:
        ident = details["id"]
        found = ident.isdigit() and await conn.scalar(sa.select(p.c.id).where(p.c.id == int(ident)))
        if not found:
            raise ApiError(422, f"Không tìm thấy Patient/{ident}.", "not-found")
        return int(ident)
    name, phone = details["name"], details["phone"]
    key = fold(name)
    await insert_missing(conn, p, [{"name": name, "name_key": key, "phone": phone,
                                       "account_id": details["account_id"]}])
    if details["account_id"]:
        await conn.execute(sa.update(p).where(p.c.phone == phone, p.c.name_key == key)
                           .values(account_id=details["account_id"]))
    return await conn.scalar(sa.select(p.c.id).where(p.c.phone == phone, p.c.name_key == key))
