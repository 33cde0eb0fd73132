"""Voice settings, read from the environment in one place."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

VOICES = ("vi", "vi-vn-x-central", "vi-vn-x-south")


@dataclass(frozen=True)
class VoiceSettings:
    # Speech in. No model path: viet-asr, whose model ships inside its wheel.
    vosk_model_path: Path | None = None
    max_audio_seconds: float = 60.0
    max_audio_bytes: int = 10 * 1024 * 1024
    # Speech out. espeak-ng voice (vi-vn-x-central is the Huế accent) and words per minute:
    # elders follow about 150-200 wpm best, slower than espeak's default 175 for Vietnamese syllables.
    voice: str = "vi-vn-x-central"
    rate_wpm: int = 140
    gtts_enabled: bool = True
    gtts_timeout: float = 0.8
    gtts_retry_after: float = 300.0
    cache_dir: Path = Path("var/tts-cache")
    # Speech of a text that is not one of the assistant's fixed answers may carry a citizen's data: kept this long.
    personal_cache_seconds: float = 6 * 3600

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "VoiceSettings":
        env = os.environ if env is None else env
        var = Path(env.get("TROLYHUE_VAR", "var"))
        voice = env.get("TTS_VOICE", cls.voice)
        if voice not in VOICES:
            raise ValueError(f"TTS_VOICE must be one of {', '.join(VOICES)}, not {voice!r}")
        model = env.get("VOSK_MODEL_PATH", "").strip()
        return cls(
            vosk_model_path=Path(model) if model else None,
            max_audio_seconds=float(env.get("VOICE_MAX_SECONDS", cls.max_audio_seconds)),
            max_audio_bytes=int(env.get("VOICE_MAX_BYTES", cls.max_audio_bytes)),
            voice=voice,
            rate_wpm=int(env.get("TTS_RATE_WPM", cls.rate_wpm)),
            gtts_enabled=env.get("GTTS_ENABLED", "1") not in ("0", "false", "no"),
            gtts_timeout=float(env.get("GTTS_TIMEOUT", cls.gtts_timeout)),
            gtts_retry_after=float(env.get("GTTS_RETRY_AFTER", cls.gtts_retry_after)),
            cache_dir=Path(env["TTS_CACHE_DIR"]) if env.get("TTS_CACHE_DIR") else var / "tts-cache",
            personal_cache_seconds=float(env.get("TTS_PERSONAL_CACHE_SECONDS", cls.personal_cache_seconds)),
        )
