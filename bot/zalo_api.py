"""Zalo Official Account OpenAPI v3, the part the gateway uses: send a message, upload a photo or a file, and keep
the access token alive. No maintained Python SDK exists; this is a small aiohttp client of our own.

Tokens: the access token lives about 25 h; the refresh token is single-use and lives three months. A refresh's new
pair is saved (committed) before it is used, and only one gateway refreshes at a time (a lease in the gateway's
database, bot/zalo_store.py), so no crash or race can spend the only valid refresh token without keeping its
successor.
"""
from __future__ import annotations

import logging

import aiohttp

from common import clock

from .settings import ZaloSettings
from .zalo_store import TokenPair, TokenStore

log = logging.getLogger(__name__)

TOKEN_EXPIRED = -216  # "access token is invalid or expired"
REFRESH_MARGIN = 3600.0  # seconds before expiry at which a token is renewed
TIMEOUT = aiohttp.ClientTimeout(total=20)


class ZaloError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(f"zalo error {code}: {message}")
        self.code = code


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
        pair = await self.tokens.read()
        if pair.expires_at - clock.now().timestamp() < REFRESH_MARGIN:
            return await self.refresh(pair.access_token)
        return pair.access_token

    async def refresh(self, stale: str) -> str:
        """A valid access token in place of `stale`: renewed unless another refresh already replaced it."""
        async with self.tokens.exclusive():
            pair = await self.tokens.read()
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
            await self.tokens.save(fresh)  # before anything uses it: the old refresh token is spent now
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
