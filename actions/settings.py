"""Action server settings, read from the environment in one place."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from common.gateway import public_url


@dataclass(frozen=True)
class Settings:
    cityapi_url: str
    api_key: str
    database_url: str
    gateway_url: str  # photos are taken only from under its /uploads/
    timeout: float = 5.0          # seconds per HTTP attempt
    retries: int = 3              # attempts per call, same idempotency key each time
    outbox_interval: float = 15.0  # seconds between attempts to send kept reports
    # Where to send questions about services the assistant does not handle, and the city's hotline.
    public_services: Path = Path(__file__).with_name("public_services.yml")
    city_hotline: str = "1022"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        api_key = env.get("CITYAPI_API_KEY", "")
        if not api_key:
            raise RuntimeError("CITYAPI_API_KEY is not set: the assistant's key for the city services")
        var = Path(env.get("TROLYHUE_VAR", "var"))
        return cls(
            cityapi_url=env.get("CITYAPI_URL", "http://127.0.0.1:8000").rstrip("/"),
            api_key=api_key,
            database_url=env.get("ACTIONS_DATABASE_URL", f"sqlite:///{var / 'actions.sqlite3'}"),
            gateway_url=public_url(env),
            timeout=float(env.get("CITYAPI_TIMEOUT", "5")),
            retries=int(env.get("CITYAPI_RETRIES", "3")),
            outbox_interval=float(env.get("OUTBOX_INTERVAL", "15")),
            public_services=Path(env.get("PUBLIC_SERVICES_FILE") or Path(__file__).with_name("public_services.yml")),
            city_hotline=env.get("CITY_HOTLINE", "1022"),
        )
