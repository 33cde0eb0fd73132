"""A Zalo OA OpenAPI server on loopback: it records what the gateway sends, keeps Zalo's token rules (an access
token until refreshed or expired, a refresh token used once) and serves citizens' attachments. Zalo itself cannot
be reached from here; everything else the tests use is real."""
from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import threading
import time

from aiohttp import web

from tests.conftest import free_port


class ZaloServer:
    def __init__(self, app_id: str, app_secret: str, oa_secret: str):
        self.app_id, self.app_secret, self.oa_secret = app_id, app_secret, oa_secret
        self.access, self.refresh = "access-" + secrets.token_hex(8), "refresh-" + secrets.token_hex(8)
        self.sent: list[dict] = []  # {"recipient", "message"} of each message the OA sent
        self.sent_at: list[float] = []  # when each arrived (Unix time)
        self.uploads: list[dict] = []
        self.refreshes = 0
        self.media: dict[str, bytes] = {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._runner = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)

    async def _start(self) -> web.AppRunner:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_post("/v4/oa/access_token", self._refresh)
        app.router.add_post("/v3.0/oa/message/cs", self._send)
        app.router.add_post("/v2.0/oa/upload/{kind}", self._upload)
        app.router.add_get("/media/{name}", self._media)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        return runner

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)

    def expire_access_token(self) -> None:
        """Zalo will answer -216 to the current access token."""
        with self._lock:
            self.access = "expired-" + secrets.token_hex(8)

    def host(self, data: bytes, name: str) -> str:
        """An attachment a citizen sent, where Zalo's CDN would keep it."""
        self.media[name] = data
        return f"{self.url}/media/{name}"

    def sent_to(self, user_id: str) -> list[dict]:
        with self._lock:
            return [s["message"] for s in self.sent if s["recipient"].get("user_id") == user_id]

    def times_to(self, user_id: str) -> list[float]:
        with self._lock:
            return [at for s, at in zip(self.sent, self.sent_at) if s["recipient"].get("user_id") == user_id]

    def event(self, name: str, user_id: str, message: dict | None = None, timestamp_ms: int | None = None,
              **extra) -> tuple[bytes, dict]:
        """A webhook event as Zalo posts it, and its signed headers."""
        stamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
        body = {"app_id": self.app_id, "user_id_by_app": "app-" + user_id, "event_name": name, "timestamp": stamp,
                "sender": {"id": user_id}, "recipient": {"id": "oa-1"}, **extra}
        if message is not None:
            body["message"] = message
        raw = json.dumps(body, ensure_ascii=False).encode()
        return raw, {"Content-Type": "application/json", "X-ZEvent-Signature": "mac=" + self.sign(raw, stamp)}

    def sign(self, raw: bytes, timestamp: str) -> str:
        return hashlib.sha256(self.app_id.encode() + raw + timestamp.encode() + self.oa_secret.encode()).hexdigest()

    async def _refresh(self, request: web.Request) -> web.Response:
        form = await request.post()
        await asyncio.sleep(0.2)  # Zalo takes a while: room for a second refresh to race the first
        with self._lock:
            if request.headers.get("secret_key") != self.app_secret or form.get("app_id") != self.app_id:
                return web.json_response({"error": -14002, "error_description": "invalid app"})
            if form.get("refresh_token") != self.refresh:
                return web.json_response({"error": -14014, "error_description": "Invalid refresh token"})
            self.refreshes += 1
            self.access, self.refresh = "access-" + secrets.token_hex(8), "refresh-" + secrets.token_hex(8)
            return web.json_response({"access_token": self.access, "refresh_token": self.refresh,
                                      "expires_in": "90000"})

    def _authorised(self, request: web.Request) -> bool:
        with self._lock:
            return request.headers.get("access_token") == self.access

    async def _send(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"error": -216, "message": "Access token is invalid"})
        body = await request.json()
        with self._lock:
            self.sent.append(body)
            self.sent_at.append(time.time())
        return web.json_response({"error": 0, "message": "Success",
                                  "data": {"message_id": secrets.token_hex(8), "user_id": body["recipient"]}})

    async def _upload(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"error": -216, "message": "Access token is invalid"})
        form = await request.post()
        data = form["file"].file.read()
        key = "attachment_id" if request.match_info["kind"] == "image" else "token"
        upload = {"kind": request.match_info["kind"], "filename": form["file"].filename, "data": data,
                  key: secrets.token_hex(8)}
        with self._lock:
            self.uploads.append(upload)
        return web.json_response({"error": 0, "message": "Success", "data": {key: upload[key]}})

    async def _media(self, request: web.Request) -> web.Response:
        data = self.media.get(request.match_info["name"])
        return web.Response(body=data) if data is not None else web.Response(status=404)
