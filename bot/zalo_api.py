"""Zalo Official Account OpenAPI v3, the part the gateway uses: send a message, upload a photo or a file, and keep
the access token alive. No maintained Python SDK exists; this is a small aiohttp client of our own.

Tokens: the access token lives about 25 h; the refresh token is single-use and lives three months. A refresh's new
pair is saved (atomically) before it is used, and only one process refreshes at a time (a file lock), so no crash
or race can spend the only valid refresh token without keeping its successor.
"""
from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import aiohttp

from common import clock

from .settings import ZaloSettings

log = logging.getLogger(__name__)

TOKEN_EXPIRED = -216  # "access token is invalid or expired"
REFRESH_MARGIN = 3600.0  # seconds before expiry at which a token is renewed
TIMEOUT = aiohttp.ClientTimeout(total=20)


class ZaloError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(f"zalo error {code}: {message}")
        self.code = code


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_at: float  # Unix time


class TokenStore:
    """The current pair in a file (mode 0600); a lock file beside it serialises refreshes across processes."""

    def __init__(self, settings: ZaloSettings, path: Path):
        self.settings, self.path = settings, path
        self.lock_path = path.with_suffix(".lock")
        self._local = asyncio.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def read(self) -> TokenPair:
        """The stored pair; before the first refresh, the configured first values."""
        try:
            return TokenPair(**json.loads(self.path.read_text()))
        except FileNotFoundError:
            # Unknown age: treat the configured token as fresh; Zalo's -216 says when it is not.
            return TokenPair(self.settings.first_access_token, self.settings.first_refresh_token,
                             clock.now().timestamp() + 3600 * 24)

    def save(self, pair: TokenPair) -> None:
        """Write, flush to disk, then rename over the old file: a crash leaves the old pair or the new, whole."""
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            json.dump(asdict(pair), file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    @asynccontextmanager
    async def exclusive(self):
        """This process's refreshes one at a time, and other processes' waiting for ours."""
        async with self._local:
            descriptor = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                await asyncio.to_thread(fcntl.flock, descriptor, fcntl.LOCK_EX)
                yield
            finally:
                os.close(descriptor)  # releases the lock


class ZaloClient:
    def __init__(self, settings: ZaloSettings, tokens: TokenStore):
        self.settings, self.tokens = settings, tokens
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def access_token(self) -> str:
        pair = self.tokens.read()
        if pair.expires_at - clock.now().timestamp() < REFRESH_MARGIN:
            return await self.refresh(pair.access_token)
        return pair.access_token

    async def refresh(self, stale: str) -> str:
        """A valid access token in place of `stale`: renewed unless another refresh already replaced it."""
        async with self.tokens.exclusive():
            pair = self.tokens.read()
            if pair.access_token != stale and pair.expires_at - clock.now().timestamp() >= REFRESH_MARGIN:
                return pair.access_token  # someone else refreshed while we waited
            form = {"refresh_token": pair.refresh_token, "app_id": self.settings.app_id,
                    "grant_type": "refresh_token"}
            async with self.session.post(f"{self.settings.oauth_base}/v4/oa/access_token", data=form,
                                         headers={"secret_key": self.settings.app_secret}) as response:
                body = await response.json(content_type=None)
            if not isinstance(body, dict) or not body.get("access_token") or not body.get("refresh_token"):
                code = body.get("error", -1) if isinstance(body, dict) else -1
                raise ZaloError(int(code), "refresh refused: " + str(
                    (body or {}).get("error_description") if isinstance(body, dict) else body))
            fresh = TokenPair(body["access_token"], body["refresh_token"],
                              clock.now().timestamp() + float(body.get("expires_in") or 90000))
            self.tokens.save(fresh)  # before anything uses it: the old refresh token is spent now
            log.info("zalo: access token renewed")
            return fresh.access_token

    async def call(self, path: str, body: dict | None = None, file: tuple[bytes, str, str] | None = None) -> dict:
        """An OA API call (a JSON body, or a file as `(data, filename, content type)`) with the current token,
        renewed once if Zalo says it expired. The answer's data."""
        for attempt in (1, 2):
            token = await self.access_token()
            request = {"json": body} if file is None else {"data": _form(*file)}
            async with self.session.post(f"{self.settings.api_base}{path}", headers={"access_token": token},
                                         **request) as response:
                answer = await response.json(content_type=None)
            code = int(answer.get("error", 0)) if isinstance(answer, dict) else -1
            if code == TOKEN_EXPIRED and attempt == 1:
                await self.refresh(token)
                continue
            if code != 0:
                raise ZaloError(code, str(answer.get("message") if isinstance(answer, dict) else answer))
            return answer.get("data") or {}
        raise AssertionError("unreachable")

    async def send(self, recipient: dict, message: dict) -> dict:
        return await self.call("/v3.0/oa/message/cs", {"recipient": recipient, "message": message})

    async def upload(self, kind: str, data: bytes, filename: str, content_type: str) -> dict:
        """`kind` "image" (an attachment_id comes back) or "file" (a token)."""
        return await self.call(f"/v2.0/oa/upload/{kind}", file=(data, filename, content_type))

    async def download(self, url: str, limit: int) -> bytes:
        """A citizen's attachment, of at most `limit` bytes."""
        if not url.startswith(("https://", "http://")):
            raise ValueError("not a web address")
        async with self.session.get(url) as response:
            response.raise_for_status()
            data = await response.content.read(limit + 1)
        if len(data) > limit:
            raise OverflowError("attachment over the limit")
        return data


def _form(data: bytes, filename: str, content_type: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("file", data, filename=filename, content_type=content_type)
    return form
