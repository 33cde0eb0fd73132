"""What the gateway promises the other services: its public address, and the shape of the photo URLs it gives."""
from __future__ import annotations

import re
import uuid
from collections.abc import Mapping

UPLOADS = "/uploads/"
_UPLOAD_NAME = re.compile(r"[0-9a-f]{32}\.(?:jpg|png|gif|webp)")


def public_url(env: Mapping[str, str]) -> str:
    """GATEWAY_PUBLIC_URL, or the gateway on loopback."""
    return (env.get("GATEWAY_PUBLIC_URL") or f"http://127.0.0.1:{env.get('GATEWAY_PORT', '8080')}").rstrip("/")


def new_upload_name(extension: str) -> str:
    return f"{uuid.uuid4().hex}.{extension}"


def is_upload(url: str, public: str) -> bool:
    """A photo the gateway itself took in: a typed '/inform{"photo_url": …}' naming any other address is not."""
    prefix = public + UPLOADS
    return url.startswith(prefix) and bool(_UPLOAD_NAME.fullmatch(url[len(prefix):]))
