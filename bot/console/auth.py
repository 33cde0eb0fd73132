"""Officers' logins: scrypt password hashes (hashlib, OpenSSL's), sessions in an HttpOnly SameSite cookie whose
token is stored only hashed, a CSRF token for every state-changing request, and a lock-out after repeated
failures."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web

from common.clock import utcnow

from .store import ConsoleStore

COOKIE = "trolyhue_console"
SESSION_LIFETIME = timedelta(hours=10)  # a working day
MAX_FAILURES = 5
LOCK = timedelta(minutes=15)
ROLES = ("officer", "volunteer")
# scrypt cost: 2^15 x 8 x 1 uses 32 MB and about 0.1 s here; OWASP's minimum is 2^17 x 8 x 1 at 128 MB, too
# much memory for a small gateway, so we keep 2^15 with a 16-byte salt and a 64-byte key.
_N, _R, _P = 2 ** 15, 8, 1


@dataclass(frozen=True)
class Officer:
    username: str
    name: str
    role: str
    csrf: str


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = _scrypt(password, salt, _N, _R, _P)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(key)}"


def password_ok(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        return hmac.compare_digest(_scrypt(password, base64.b64decode(salt), int(n), int(r), int(p)), expected)
    except (ValueError, TypeError):
        return False


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=64)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# A hash to check wrong usernames against, so a login takes as long whether the user exists or not.
_DUMMY = hash_password(secrets.token_hex(8))


async def log_in(store: ConsoleStore, username: str, password: str) -> tuple[str, Officer] | str:
    """(the session token, the officer), or why not: "locked" or "wrong"."""
    row = await store.officer(username)
    if row is not None and row.locked_until is not None and row.locked_until > utcnow():
        return "locked"
    if not password_ok(password, row.password_hash if row is not None else _DUMMY) or row is None:
        await store.login_failed(username, MAX_FAILURES, LOCK)
        return "wrong"
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    await store.login_succeeded(username, token, csrf, SESSION_LIFETIME)
    return token, Officer(row.username, row.display_name, row.role, csrf)


async def officer_of(request: web.Request, store: ConsoleStore) -> Officer | None:
    token = request.cookies.get(COOKIE)
    row = await store.session(token) if token else None
    return Officer(row.username, row.display_name, row.role, row.csrf) if row else None


def set_cookie(response: web.StreamResponse, token: str, secure: bool) -> None:
    response.set_cookie(COOKIE, token, max_age=int(SESSION_LIFETIME.total_seconds()), path="/console",
                        httponly=True, samesite="Strict", secure=secure)


def csrf_ok(request: web.Request, officer: Officer) -> bool:
    return hmac.compare_digest(request.headers.get("X-CSRF-Token", "").encode(), officer.csrf.encode())
