"""What handlers share: the engine, the settings and the three kinds of credentials."""
from __future__ import annotations

import hmac

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from .config import Settings
from .responses import ApiError

ENGINE = web.AppKey("engine", AsyncEngine)
SETTINGS = web.AppKey("settings", Settings)


def engine(request: web.Request) -> AsyncEngine:
    return request.app[ENGINE]


def settings(request: web.Request) -> Settings:
    return request.app[SETTINGS]


def _lookup(secrets: dict[str, str], given: str | None) -> str | None:
    """Who holds this secret; every secret compared in constant time, never by a dictionary lookup."""
    if not given:
        return None
    found = None
    for secret, name in secrets.items():
        if hmac.compare_digest(secret.encode(), given.encode()):
            found = name
    return found


def client_for_api_key(request: web.Request, api_key: str | None) -> str:
    """Open311 style: the key travels as a parameter (or, kept out of URLs and their logs, as a Bearer token);
    403 when missing or wrong."""
    client = _lookup(settings(request).api_keys, api_key or bearer(request))
    if client is None:
        raise ApiError(403, "Thiếu hoặc sai khóa API (api_key).")
    return client


def bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def require_client(request: web.Request) -> str:
    """FHIR and the events feed: `Authorization: Bearer <api key>`; 401 otherwise."""
    client = _lookup(settings(request).api_keys, bearer(request))
    if client is None:
        raise ApiError(401, "Thiếu hoặc sai mã xác thực (Authorization: Bearer).", "security")
    return client


def require_officer(request: web.Request) -> str:
    officer = _lookup(settings(request).officer_tokens, bearer(request))
    if officer is None:
        raise ApiError(401, "Chỉ cán bộ có mã xác thực hợp lệ mới được cập nhật phản ánh.", "security")
    return officer


def officer_or_client(request: web.Request, api_key: str | None) -> str:
    """An officer's Bearer token, or a client's key as Open311 takes it; 403 otherwise."""
    return _lookup(settings(request).officer_tokens, bearer(request)) or client_for_api_key(request, api_key)


def require_officer_or_client(request: web.Request) -> str:
    return _lookup(settings(request).officer_tokens, bearer(request)) or require_client(request)
