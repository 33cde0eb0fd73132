"""All cityapi settings, read from the environment in one place."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from common.database import async_url

DEFAULT_DATABASE_URL = f"sqlite:///{Path('var') / 'cityapi.sqlite3'}"


class ConfigError(Exception):
    pass


def parse_secrets(value: str, variable: str) -> dict[str, str]:
    """`name:secret,name:secret` -> {secret: name}; the name says who acted."""
    secrets: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        name, sep, secret = item.partition(":")
        if not sep or not name or len(secret) < 16:
            raise ConfigError(
                f"{variable}: each entry must be name:secret with a secret of 16+ characters"
            )
        secrets[secret] = name
    return secrets


@dataclass(frozen=True)
class Settings:
    database_url: str
    api_keys: dict[str, str]
    officer_tokens: dict[str, str]
    slot_days: int = 14
    # A repeat of the same device_id/account_id + description within this window is a retry.
    duplicate_window: timedelta = timedelta(minutes=10)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        api_keys = parse_secrets(env.get("CITYAPI_API_KEYS", ""), "CITYAPI_API_KEYS")
        officers = parse_secrets(env.get("CITYAPI_OFFICER_TOKENS", ""), "CITYAPI_OFFICER_TOKENS")
        if not api_keys:
            raise ConfigError(
                "CITYAPI_API_KEYS is not set: give at least one client as name:secret "
                "(scripts/start creates var/secrets.env for local use)"
            )
        database_url = env.get("DATABASE_URL", DEFAULT_DATABASE_URL)
        try:
            async_url(database_url)
        except ValueError as error:
            raise ConfigError(f"DATABASE_URL: {error}") from None
        return cls(
            database_url=database_url,
            api_keys=api_keys,
            officer_tokens=officers,
        )
