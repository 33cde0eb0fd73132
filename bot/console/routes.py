"""The console's page and its API under /console/api; who may do what is decided here, what it does in
service.py."""
from __future__ import annotations

import asyncio
import logging
from datetime import timedelta, timezone
from pathlib import Path

import aiohttp
from aiohttp import web

from actions.clients.fhir import ACCOUNT_SYSTEM
from common.clock import LOCAL_TZ

from ..context import CONSOLE, DATABASE, IDENTITIES, SETTINGS, Refused, json_object, json_response, told_first
from ..rasa import RasaUnavailable
from ..webchat import valid_sender
from . import auth
from .service import Console
from .store import ConsoleStore

log = logging.getLogger(__name__)

PAGES = Path(__file__).resolve().parents[1] / "static" / "console"
MAX_BODY = 16 * 1024
MAX_REPLY = 2000
STATUSES = ("received", "in_progress", "resolved", "rejected")
API = "/console/api"


def _console(request: web.Request) -> Console:
    return request.app[CONSOLE]


async def _officer(request: web.Request, write: bool = False) -> auth.Officer:
    """The logged-in officer; 401 without a session, 403 without the CSRF token on a change."""
    officer = await auth.officer_of(request, _console(request).store)
    if officer is None:
        raise Refused(401, "Bác vui lòng đăng nhập lại.", reason="login")
    if write and not auth.csrf_ok(request, officer):
        raise Refused(403, "Phiên làm việc không hợp lệ, vui lòng tải lại trang.", reason="csrf")
    return officer


async def _conversation(request: web.Request, officer: auth.Officer, conversation_id: int | None = None):
    """The conversation named in the path (or by id), if this officer may see it: a volunteer only sees those
    given to them."""
    wanted = conversation_id if conversation_id is not None else int(request.match_info["id"])
    conversation = await _console(request).store.conversation(wanted)
    if conversation is None:
        raise Refused(404, "Không tìm thấy cuộc trò chuyện.")
    if officer.role == "volunteer" and conversation.assigned_to != officer.username:
        await _console(request).store.record(officer.username, "refused", conversation.id, "not assigned")
        raise Refused(403, "Cuộc trò chuyện này không được giao cho bạn.", reason="not_assigned")
    return conversation


async def page(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(PAGES / "index.html", headers={"Cache-Control": "no-store"})


async def login(request: web.Request) -> web.Response:
    body = await json_object(request, MAX_BODY)
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise Refused(400, "Vui lòng nhập tên đăng nhập và mật khẩu.")
    result = await auth.log_in(_console(request).store, username.strip(), password)
    if result == "locked":
        raise Refused(429, "Tài khoản tạm khóa vì nhập sai nhiều lần. Vui lòng thử lại sau 15 phút.",
                      reason="locked")
    if result == "wrong":
        log.info("console: a failed login")
        raise Refused(401, "Sai tên đăng nhập hoặc mật khẩu.", reason="wrong")
    token, officer = result
    await _console(request).store.record(officer.username, "login")
    response = json_response({"name": officer.name, "role": officer.role, "csrf": officer.csrf})
    auth.set_cookie(response, token, request.app[SETTINGS].public_url.startswith("https://"))
    return response


async def logout(request: web.Request) -> web.Response:
    officer = await _officer(request, write=True)
    await _console(request).store.end_session(request.cookies[auth.COOKIE])
    await _console(request).store.record(officer.username, "logout")
    response = json_response({"ok": True})
    response.del_cookie(auth.COOKIE, path="/console")
    return response


async def me(request: web.Request) -> web.Response:
    officer = await _officer(request)
    return json_response({"name": officer.name, "role": officer.role, "csrf": officer.csrf,
                          "username": officer.username})


async def _summary(request: web.Request, row) -> dict:
    holder = await _console(request).store.officer(row.holder) if row.holder else None
    return {"id": row.id, "sender": row.sender, "channel": row.channel, "reason": row.reason, "status": row.status,
            "holder": row.holder, "holder_name": holder.display_name if holder else row.holder,
            "assigned_to": row.assigned_to, "since": row.created_at.isoformat() + "Z", "context": row.context}


async def queue(request: web.Request) -> web.Response:
    officer = await _officer(request)
    rows = await _console(request).store.queue(officer.username if officer.role == "volunteer" else None)
    return json_response({"conversations": [await _summary(request, row) for row in rows]})


async def conversation(request: web.Request) -> web.Response:
    officer = await _officer(request)
    row = await _conversation(request, officer)
    messages = [{"id": m.id, "author": m.author, "officer": m.officer, "text": m.text, "image": m.image,
                 "audio": m.audio, "delivery": m.delivery, "at": m.at.isoformat() + "Z"}
                for m in await _console(request).store.transcript(row.id)]
    reports = await _reports(request, row.sender) if officer.role == "officer" else []
    visits = await _appointments(request, row.sender) if officer.role == "officer" else []
    return json_response({"conversation": await _summary(request, row), "messages": messages, "reports": reports,
                          "appointments": visits})


async def _reports(request: web.Request, sender: str) -> list[dict]:
    """The citizen's reports from cityapi, for an officer; empty when the city cannot be reached."""
    settings = request.app[SETTINGS]
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session, session.get(
                f"{settings.cityapi_url}/open311/v2/requests.json", params={"account_id": sender,
                                                                            "extensions": "true"},
                headers={"Authorization": f"Bearer {settings.officer_token}"}) as response:
            return await response.json() if response.status == 200 else []
    except (aiohttp.ClientError, TimeoutError):
        return []


async def _appointments(request: web.Request, sender: str) -> list[dict]:
    """The citizen's booked clinic visits from cityapi's FHIR service: when, where, what."""
    settings = request.app[SETTINGS]
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session, session.get(
                f"{settings.cityapi_url}/fhir/R4/Appointment",
                params={"patient:identifier": f"{ACCOUNT_SYSTEM}|{sender}", "status": "booked"},
                headers={"Authorization": f"Bearer {settings.cityapi_key}"}) as response:
            bundle = await response.json() if response.status == 200 else {}
    except (aiohttp.ClientError, TimeoutError):
        return []
    visits = []
    for entry in bundle.get("entry") or []:
        visit = entry.get("resource") or {}
        places = [p["actor"].get("display") for p in visit.get("participant") or []
                  if p.get("actor", {}).get("reference", "").startswith("Location/")]
        visits.append({"id": visit.get("id"), "start": visit.get("start"), "what": visit.get("description"),
                       "where": places[0] if places else ""})
    return visits


async def take(request: web.Request) -> web.Response:
    officer = await _officer(request, write=True)
    row = await _conversation(request, officer)
    try:
        holder = await _console(request).take(row.id, officer)
    except RasaUnavailable:
        raise Refused(503, "Trợ lý đang bận, chưa tạm dừng được. Vui lòng thử lại.") from None
    if holder == "":
        raise Refused(409, "Cuộc trò chuyện này đã kết thúc.", reason="closed")
    if holder is not None:
        holder_row = await _console(request).store.officer(holder)
        raise Refused(409, f"{holder_row.display_name if holder_row else holder} đang giữ cuộc trò chuyện này.",
                      reason="held", holder=holder_row.display_name if holder_row else holder)
    return json_response({"ok": True})


async def _held_by(request: web.Request, officer: auth.Officer):
    row = await _conversation(request, officer)
    if row.status != "held" or row.holder != officer.username:
        raise Refused(409, "Bạn cần nhận cuộc trò chuyện này trước.", reason="not_held")
    return row


async def reply(request: web.Request) -> web.Response:
    officer = await _officer(request, write=True)
    body = await json_object(request, MAX_BODY)
    text, choices = body.get("text"), body.get("choices") or []
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_REPLY:
        raise Refused(400, "Vui lòng nhập câu trả lời (tối đa 2000 ký tự).")
    if not isinstance(choices, list) or len(choices) > 5 or not all(isinstance(c, str) and 0 < len(c) <= 40
                                                                   for c in choices):
        raise Refused(400, "Tối đa 5 nút chọn, mỗi nút không quá 40 ký tự.")
    row = await _held_by(request, officer)
    try:
        event = await _console(request).reply(row.id, officer, text.strip(), [c.strip() for c in choices])
    except RasaUnavailable:
        raise Refused(503, "Trợ lý đang bận, chưa ghi được câu trả lời. Vui lòng thử lại.") from None
    return json_response(event)


async def typing(request: web.Request) -> web.Response:
    """The citizen's app shows that a person is writing, where the channel can."""
    officer = await _officer(request, write=True)
    row = await _held_by(request, officer)
    await _console(request).typing(row.sender, officer.name)
    return json_response({"ok": True})


async def retry(request: web.Request) -> web.Response:
    officer = await _officer(request, write=True)
    row = await _held_by(request, officer)
    message = await _console(request).store.message(int(request.match_info["message"]))
    if message is None or message.conversation_id != row.id or message.delivery != "failed":
        raise Refused(404, "Không có tin nhắn cần gửi lại.")
    return json_response(await _console(request).retry(message.id, officer))


async def hand_back(request: web.Request) -> web.Response:
    officer = await _officer(request, write=True)
    row = await _held_by(request, officer)
    try:
        await _console(request).hand_back(row.id, officer)
    except RasaUnavailable:
        raise Refused(503, "Trợ lý đang bận, chưa nhận lại được. Vui lòng thử lại.") from None
    return json_response({"ok": True})


async def assign(request: web.Request) -> web.Response:
    """An officer gives a conversation to a volunteer, who then sees it (and only such)."""
    officer = await _officer(request, write=True)
    if officer.role != "officer":
        raise Refused(403, "Chỉ cán bộ mới giao được cuộc trò chuyện.", reason="role")
    row = await _conversation(request, officer)
    volunteer = (await json_object(request, MAX_BODY)).get("volunteer")
    account = await _console(request).store.officer(volunteer) if isinstance(volunteer, str) else None
    if account is None or account.role != "volunteer":
        raise Refused(400, "Không có tình nguyện viên với tên đăng nhập này.")
    await _console(request).store.assign(row.id, account.username)
    await _console(request).store.record(officer.username, "assign", row.id, account.username)
    return json_response({"ok": True})


async def search(request: web.Request) -> web.Response:
    """By phone number, case code or name, in transcripts and what the assistant knew."""
    officer = await _officer(request)
    words = request.query.get("q", "").strip()
    if not 3 <= len(words) <= 100:
        raise Refused(400, "Nhập từ 3 ký tự để tìm (số điện thoại, mã phản ánh, tên).")
    rows = await _console(request).store.search(words, officer.username if officer.role == "volunteer" else None)
    await _console(request).store.record(officer.username, "search", None, words)
    return json_response({"conversations": [await _summary(request, row) for row in rows]})


async def transcript(request: web.Request) -> web.Response:
    """One conversation as plain text: who said what, when (Huế time)."""
    officer = await _officer(request)
    row = await _conversation(request, officer)
    lines = [f"Cuộc trò chuyện #{row.id} ({row.channel}), bắt đầu {_local(row.created_at)}"]
    for m in await _console(request).store.transcript(row.id):
        who = "Bác" if m.author == "citizen" else f"Cán bộ {m.officer}" if m.author == "officer" else "Trợ lý"
        lines.append(f"[{_local(m.at)}] {who}: {m.text}" + (f" ({m.image})" if m.image else ""))
    await _console(request).store.record(officer.username, "export", row.id)
    return web.Response(text="\n".join(lines) + "\n", content_type="text/plain", charset="utf-8", headers={
        "Content-Disposition": f'attachment; filename="tro-chuyen-{row.id}.txt"', "Cache-Control": "no-store"})


def _local(moment) -> str:
    return moment.replace(tzinfo=timezone.utc).astimezone(LOCAL_TZ).strftime("%H:%M %d/%m/%Y")


async def report_status(request: web.Request) -> web.Response:
    """An officer changes a report's status through cityapi's officer endpoint."""
    officer = await _officer(request, write=True)
    if officer.role != "officer":
        raise Refused(403, "Chỉ cán bộ mới được đổi trạng thái phản ánh.", reason="role")
    body = await json_object(request, MAX_BODY)
    status, notes = body.get("status"), body.get("status_notes")
    if status not in STATUSES or (notes is not None and not isinstance(notes, str)):
        raise Refused(400, "Trạng thái không hợp lệ.")
    case_id = request.match_info["case"]
    settings = request.app[SETTINGS]
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session, session.patch(
                f"{settings.cityapi_url}/officer/requests/{case_id}", json={"status": status, "status_notes": notes},
                headers={"Authorization": f"Bearer {settings.officer_token}"}) as response:
            answer = await response.json(content_type=None)
            if response.status != 200:
                raise Refused(response.status, (answer[0] if isinstance(answer, list) and answer else {})
                              .get("description", "Hệ thống thành phố từ chối."))
    except (aiohttp.ClientError, TimeoutError):
        raise Refused(503, "Chưa kết nối được hệ thống thành phố. Vui lòng thử lại.") from None
    await _console(request).store.record(officer.username, "report_status", None, f"{case_id} {status}")
    return json_response(answer)


async def recording(request: web.Request) -> web.FileResponse:
    """A citizen's voice note, for an officer who may see its conversation."""
    officer = await _officer(request)
    message = await _console(request).store.with_audio(request.match_info["name"])
    if message is None:
        raise Refused(404, "Không tìm thấy bản ghi âm.")
    await _conversation(request, officer, message.conversation_id)
    return web.FileResponse(_console(request).recordings / message.audio,
                            headers={"Content-Type": "audio/ogg", "Cache-Control": "no-store"})


async def events(request: web.Request) -> web.StreamResponse:
    await _officer(request)
    return await _console(request).hub.stream_officer(request)


async def citizen_stream(request: web.Request) -> web.StreamResponse:
    """A web chat's live line: officers' words while a person holds its conversation."""
    sender = request.query.get("sender", "")
    if not valid_sender(sender):
        raise Refused(400, "Dạ, phiên trò chuyện không hợp lệ.")
    console = _console(request)
    # What waited for the page to open again: officers' words, then notifications (bot/notify).
    told = await told_first(request.app, await request.app[IDENTITIES].accounts(sender))
    return await console.hub.stream_citizen(request, sender, await console.waiting_for(sender) + told)


def setup(app: web.Application) -> None:
    settings = app[SETTINGS]
    console = Console(app, ConsoleStore(app[DATABASE]), settings.console_recordings)
    app[CONSOLE] = console
    app.router.add_get("/console", page)
    app.router.add_static("/console/static/", PAGES)
    app.router.add_post(f"{API}/login", login)
    app.router.add_post(f"{API}/logout", logout)
    app.router.add_get(f"{API}/me", me)
    app.router.add_get(f"{API}/queue", queue)
    app.router.add_get(f"{API}/events", events)
    app.router.add_get(rf"{API}/conversations/{{id:\d+}}", conversation)
    app.router.add_post(rf"{API}/conversations/{{id:\d+}}/take", take)
    app.router.add_post(rf"{API}/conversations/{{id:\d+}}/reply", reply)
    app.router.add_post(rf"{API}/conversations/{{id:\d+}}/messages/{{message:\d+}}/retry", retry)
    app.router.add_post(rf"{API}/conversations/{{id:\d+}}/hand-back", hand_back)
    app.router.add_post(rf"{API}/conversations/{{id:\d+}}/typing", typing)
    app.router.add_post(rf"{API}/reports/{{case:PA-\d{{4}}-\d{{6}}}}/status", report_status)
    app.router.add_post(rf"{API}/conversations/{{id:\d+}}/assign", assign)
    app.router.add_get(rf"{API}/conversations/{{id:\d+}}/transcript.txt", transcript)
    app.router.add_get(f"{API}/search", search)
    app.router.add_get(rf"{API}/recordings/{{name:[0-9a-f]{{32}}\.ogg}}", recording)
    app.router.add_get("/api/stream", citizen_stream)

    async def _run(app: web.Application):
        await console.store.create_schema()
        watcher = asyncio.create_task(console.watch_idle(timedelta(minutes=settings.idle_reminder_minutes),
                                                         timedelta(minutes=settings.idle_requeue_minutes)))
        yield
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)

    app.cleanup_ctx.append(_run)
