"""Gateway settings, read from the environment in one place."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from common.gateway import public_url
from voice.settings import VoiceSettings


@dataclass(frozen=True)
class Settings:
    rasa_url: str
    public_url: str
    domain: Path  # the assistant's answers, whose fixed ones may be spoken by Google
    uploads: Path
    upload_owners: Path
    voice: VoiceSettings
    hotline_token: str | None = None  # the provider's auth token, which signs its WebSocket requests
    hotline_end_silence_ms: int = 600
    hotline_reprompt_seconds: float = 10.0
    rasa_timeout: float = 30.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        var = Path(env.get("TROLYHUE_VAR", "var"))
        return cls(
            rasa_url=env.get("RASA_URL", "http://127.0.0.1:5005").rstrip("/"),
            public_url=public_url(env),
            domain=Path(__file__).resolve().parents[1] / "domain.yml",
            uploads=var / "uploads",
            upload_owners=var / "upload-owners",
            voice=VoiceSettings.from_env(env),
            hotline_token=env.get("HOTLINE_AUTH_TOKEN") or None,
            hotline_end_silence_ms=int(env.get("HOTLINE_END_SILENCE_MS", "600")),
            hotline_reprompt_seconds=float(env.get("HOTLINE_REPROMPT_SECONDS", "10")),
        )
