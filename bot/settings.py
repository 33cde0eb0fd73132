"""Gateway settings, read from the environment in one place."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from common.gateway import public_url
from voice.settings import VoiceSettings
from voice.workers import cores

# Simultaneous calls a core carries with every caller answered within 0.5 s of the end-of-speech silence, even
# when all stop talking at once (bench/voice.py --concurrent, README "The hotline under load").
CALLS_PER_CORE = 2


@dataclass(frozen=True)
class TelegramSettings:
    token: str
    api_base: str = "https://api.telegram.org/bot"  # a self-hosted Bot API server takes larger files
    file_base: str = "https://api.telegram.org/file/bot"
    webhook_url: str | None = None  # unset: long polling
    webhook_secret: str = ""  # X-Telegram-Bot-Api-Secret-Token; derived from the token unless given
    poll_interval: float = 0.0  # Telegram long-polls; an emulator that answers at once wants a pause
    per_chat_interval: float = 1.0  # Telegram: about one message a second per chat…
    overall_per_second: int = 30  # …and 30 a second in all

    @classmethod
    def from_env(cls, env) -> "TelegramSettings | None":
        token = env.get("TELEGRAM_BOT_TOKEN")
        if not token:
            return None
        # 1-256 of A-Za-z0-9_- ; stable across restarts, so Telegram's stored webhook keeps working.
        derived = hashlib.sha256(b"trolyhue telegram webhook " + token.encode()).hexdigest()
        return cls(token=token,
                   api_base=env.get("TELEGRAM_API_BASE_URL", cls.api_base),
                   file_base=env.get("TELEGRAM_FILE_BASE_URL", cls.file_base),
                   webhook_url=env.get("TELEGRAM_WEBHOOK_URL") or None,
                   webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET") or derived,
                   poll_interval=float(env.get("TELEGRAM_POLL_INTERVAL", "0")),
                   per_chat_interval=float(env.get("TELEGRAM_PER_CHAT_INTERVAL", "1")))


@dataclass(frozen=True)
class ZaloSettings:
    app_id: str
    oa_secret: str  # the OA secret key: signs the webhook's events
    app_secret: str  # the app's secret key: refreshes the access token
    first_access_token: str
    first_refresh_token: str  # the current pair, reply windows and waiting replies: bot/zalo_store.py
    api_base: str = "https://openapi.zalo.me"
    oauth_base: str = "https://oauth.zaloapp.com"
    max_event_age: float = 300.0  # seconds: an older event is a replay
    free_replies: int = 8  # Zalo: this many replies within the window after a citizen's message…
    reply_window_hours: float = 48.0  # …of this length; later ones wait for the citizen's next message

    @classmethod
    def from_env(cls, env) -> "ZaloSettings | None":
        if not (env.get("ZALO_APP_ID") and env.get("ZALO_OA_SECRET")):
            return None
        return cls(app_id=env["ZALO_APP_ID"], oa_secret=env["ZALO_OA_SECRET"],
                   app_secret=env.get("ZALO_APP_SECRET", ""),
                   first_access_token=env.get("ZALO_ACCESS_TOKEN", ""),
                   first_refresh_token=env.get("ZALO_REFRESH_TOKEN", ""),
                   api_base=env.get("ZALO_API_BASE_URL", cls.api_base).rstrip("/"),
                   oauth_base=env.get("ZALO_OAUTH_BASE_URL", cls.oauth_base).rstrip("/"))


@dataclass(frozen=True)
class NotifySettings:
    enabled: bool = True  # needs cityapi's client key (CITYAPI_API_KEY) to read its events feed
    poll_seconds: float = 2.0  # how often the events feed is read and due messages sent
    quiet_from: int = 21  # Huế hours: nothing is pushed from 21:00…
    quiet_until: int = 7  # …to 07:00; what falls there waits for the morning
    reminder_hour: int = 8  # a clinic visit is recalled at 08:00 the day before
    retry_seconds: tuple[float, ...] = (30, 120, 600, 3600, 6 * 3600)  # then shown to officers

    @classmethod
    def from_env(cls, env) -> "NotifySettings":
        quiet = env.get("NOTIFY_QUIET_HOURS", "21-7").split("-")
        retries = env.get("NOTIFY_RETRY_SECONDS")
        return cls(enabled=env.get("NOTIFY_ENABLED", "1") != "0",
                   poll_seconds=float(env.get("NOTIFY_POLL_SECONDS", cls.poll_seconds)),
                   quiet_from=int(quiet[0]), quiet_until=int(quiet[1]),
                   reminder_hour=int(env.get("NOTIFY_REMINDER_HOUR", cls.reminder_hour)),
                   retry_seconds=tuple(float(s) for s in retries.split(",")) if retries else cls.retry_seconds)


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
    # Calls this gateway takes at once (HOTLINE_MAX_CALLS, CALLS_PER_CORE per core by default); a caller beyond
    # them hears that the lines are busy and the number to call (HOTLINE_CALLBACK_NUMBER, Huế's 1022 switchboard).
    hotline_max_calls: int = 4
    hotline_callback_number: str = "1022"
    rasa_timeout: float = 30.0
    rasa_in_flight: int = 64  # turns waiting for Rasa at once (RASA_MAX_IN_FLIGHT); more are refused as busy
    rasa_token: str | None = None  # Rasa's HTTP API: officers pause and resume conversations
    # The gateway's own data, shared by its replicas: the console's queue and accounts, linked channels,
    # notifications (GATEWAY_DATABASE_URL).
    database: str = "sqlite:///var/gateway.sqlite3"
    console_recordings: Path = Path("var/console-recordings")  # citizens' voice notes, for officers
    cityapi_url: str = "http://127.0.0.1:8000"  # the citizen's reports beside the transcript
    officer_token: str | None = None  # cityapi's officer token: changing a report's status
    cityapi_key: str | None = None  # cityapi's client key: reading a citizen's clinic visits
    idle_reminder_minutes: float = 10.0  # an officer silent on a held conversation is reminded…
    idle_requeue_minutes: float = 30.0  # …and then relieved of it: back to the queue
    telegram: TelegramSettings | None = None  # started when TELEGRAM_BOT_TOKEN is set
    zalo: ZaloSettings | None = None  # started when ZALO_APP_ID and ZALO_OA_SECRET are set
    notify: NotifySettings = NotifySettings()
    # Redis (REDIS_HOST, REDIS_PORT, REDIS_PASSWORD, as Rasa's locks): with it, several gateways share live
    # events (bot/bus.py) and rate limits (bot/limits.py); without it the gateway keeps them in its process.
    redis_host: str | None = None
    redis_port: int = 6379
    redis_password: str | None = None
    messages_per_minute: int = 30  # per sender (GATEWAY_MESSAGES_PER_MINUTE); a person types or speaks far fewer

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
            hotline_max_calls=int(env.get("HOTLINE_MAX_CALLS") or CALLS_PER_CORE * cores()),
            hotline_callback_number=env.get("HOTLINE_CALLBACK_NUMBER") or "1022",
            rasa_token=env.get("RASA_TOKEN") or None,
            rasa_in_flight=int(env.get("RASA_MAX_IN_FLIGHT", "64")),
            database=env.get("GATEWAY_DATABASE_URL") or f"sqlite:///{var / 'gateway.sqlite3'}",
            console_recordings=var / "console-recordings",
            cityapi_url=env.get("CITYAPI_URL", "http://127.0.0.1:8000").rstrip("/"),
            officer_token=_officer_token(env.get("CITYAPI_OFFICER_TOKENS", "")),
            cityapi_key=env.get("CITYAPI_API_KEY") or None,
            idle_reminder_minutes=float(env.get("CONSOLE_IDLE_REMINDER_MINUTES", "10")),
            idle_requeue_minutes=float(env.get("CONSOLE_IDLE_REQUEUE_MINUTES", "30")),
            telegram=TelegramSettings.from_env(env),
            zalo=ZaloSettings.from_env(env),
            notify=NotifySettings.from_env(env),
            redis_host=env.get("REDIS_HOST") or None,
            redis_port=int(env.get("REDIS_PORT") or 6379),
            redis_password=env.get("REDIS_PASSWORD") or None,
            messages_per_minute=int(env.get("GATEWAY_MESSAGES_PER_MINUTE", "30")),
        )

    def redis_client(self):
        """A new redis.asyncio client, or None when no Redis is configured."""
        if not self.redis_host:
            return None
        import redis.asyncio
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        return redis.asyncio.Redis(host=self.redis_host, port=self.redis_port, password=self.redis_password,
                                   socket_timeout=2.0, socket_connect_timeout=2.0, retry=Retry(NoBackoff(), 1))


def _officer_token(tokens: str) -> str | None:
    """The console's token for cityapi's officer endpoints: the first of CITYAPI_OFFICER_TOKENS ("name:token,…")."""
    first = tokens.split(",")[0]
    return first.split(":", 1)[1] if ":" in first else None
