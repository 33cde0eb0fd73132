"""A citizen's right to be forgotten (Decree 13/2023/NĐ-CP): what links a chat account to a person is erased.

`POST /privacy/forget {"account_id": …}` by a keyed client: the account's reports keep their content (the city still
handles them) but lose the phone, e-mail and name given with them; clinic patients are no longer linked to the
account, so the assistant cannot recall their name and phone (the booked visits themselves stay, for the clinic).
"""
from __future__ import annotations

import sqlalchemy as sa
from aiohttp import web

from . import db
from .context import engine, require_client
from .responses import ApiError, json_response, read_json

MAX_ACCOUNT = 200


def setup(app: web.Application) -> None:
    app.router.add_post("/privacy/forget", forget)


async def forget(request: web.Request) -> web.Response:
    client = require_client(request)
    body = await read_json(request)
    account = body.get("account_id") if isinstance(body, dict) else None
    if not isinstance(account, str) or not account.strip() or len(account) > MAX_ACCOUNT:
        raise ApiError(400, "Cần account_id của người muốn được quên.")
    r, p = db.service_requests, db.patients
    async with engine(request).begin() as conn:
        reports = await conn.execute(sa.update(r).where(r.c.account_id == account).values(
            phone=None, email=None, first_name=None, last_name=None))
        patients = await conn.execute(sa.update(p).where(p.c.account_id == account).values(account_id=None))
        await db.emit_event(conn, "account.forgotten", account[:60], {"client": client})
    return json_response({"account_id": account, "service_requests": reports.rowcount,
                          "patients": patients.rowcount})
