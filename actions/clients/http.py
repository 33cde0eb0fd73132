"""JSON over HTTP with a timeout on every call and a few retries."""
from __future__ import annotations

import asyncio
import logging

import aiohttp

from common.observability import outgoing_headers

log = logging.getLogger(__name__)

_RETRY_STATUSES = {502, 503, 504}


class CityUnavailable(Exception):
    """The service is down, too slow or failing: the caller may keep the work for later."""


class CityRefused(Exception):
    """The service answered with an error about the request itself (4xx)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _error_text(body) -> str:
    """The human message of an Open311 error list or a FHIR OperationOutcome."""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return str(body[0].get("description", ""))
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        return str(body["issue"][0].get("diagnostics", ""))
    return ""


class JsonHttp:
    def __init__(self, base_url: str, timeout: float, retries: int, headers: dict | None = None):
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.retries = max(1, retries)
        self.headers = headers or {}
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout, headers=self.headers)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def request(self, method: str, path: str, *, ok: tuple[int, ...] = (200, 201),
                      missing_is_none: bool = False, **kwargs):
        """The decoded JSON body; None for a 404 when `missing_is_none`.

        Raises CityUnavailable after the last failed attempt and CityRefused on a 4xx.
        """
        url = f"{self.base_url}{path}"
        kwargs["headers"] = {**outgoing_headers(), **(kwargs.get("headers") or {})}
        for attempt in range(1, self.retries + 1):
            try:
                async with self._client().request(method, url, **kwargs) as response:
                    body = await response.json(content_type=None)
                    if response.status in ok:
                        return body
                    if response.status == 404 and missing_is_none:
                        return None
                    if response.status < 500:
                        raise CityRefused(response.status, _error_text(body))
                    if response.status not in _RETRY_STATUSES:
                        raise CityUnavailable(f"{method} {path}: HTTP {response.status}")
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
                log.warning("%s %s failed (attempt %d/%d): %r", method, path, attempt,
                            self.retries, error)
            if attempt < self.retries:
                await asyncio.sleep(0.25 * 2 ** (attempt - 1))
        raise CityUnavailable(f"{method} {path}: no answer after {self.retries} attempts")
