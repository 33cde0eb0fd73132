"""The whole stack, started the way the README says (scripts/start), on free loopback ports."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import API_KEY, OFFICER_TOKEN, REPORTS, free_port, wait_for
from tests.e2e import accessibility
from tests.telegram.emulator import TelegramEmulator
from tests.zalo.oa_server import ZaloServer

HOTLINE_TOKEN = "e2e-hotline-" + API_KEY
TELEGRAM_TOKEN = "424242:e2e-" + API_KEY[:16]
ZALO_APP = {"ZALO_APP_ID": "1234567890", "ZALO_APP_SECRET": "e2e-app-secret", "ZALO_OA_SECRET": "e2e-oa-secret"}

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 300
# Where the stack keeps its data: unset, scripts/start picks SQLite files and in-memory locks.
STORES = ("DATABASE_URL", "ACTIONS_DATABASE_URL", "RASA_TRACKER_URL", "GATEWAY_DATABASE_URL", "REDIS_HOST",
          "REDIS_PORT", "REDIS_PASSWORD")


def post_json(url: str, body: dict, timeout: float = 60) -> tuple[int, dict]:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


class Stack:
    def __init__(self, var: Path, stores: dict[str, str] | None = None):
        """`stores`: where the data lives (DATABASE_URL, RASA_TRACKER_URL…); the embedded defaults if None."""
        self.var = var
        self.ports = {name: free_port() for name in ("CITYAPI_PORT", "ACTIONS_PORT", "RASA_PORT", "GATEWAY_PORT")}
        self.env = {**os.environ, **{k: str(v) for k, v in self.ports.items()},
                    "TROLYHUE_VAR": str(var), "CITYAPI_API_KEY": API_KEY,
                    "CITYAPI_API_KEYS": f"assistant:{API_KEY}", "CITYAPI_OFFICER_TOKENS": f"lan:{OFFICER_TOKEN}",
                    "RASA_TOKEN": "e2e-" + API_KEY, "OUTBOX_INTERVAL": "1", "CITYAPI_TIMEOUT": "2",
                    # Google is out of reach here: speak with espeak-ng from the start.
                    "GTTS_ENABLED": "0", "HOTLINE_AUTH_TOKEN": HOTLINE_TOKEN,
                    "HOTLINE_REPROMPT_SECONDS": "3",
                    # Notifications at once and at any hour: quiet hours are tested with the clock set.
                    "NOTIFY_POLL_SECONDS": "0.5", "NOTIFY_QUIET_HOURS": "0-0"}
        for name in STORES:
            self.env.pop(name, None)
        self.env.update(stores or {})
        self.gateway = f"http://127.0.0.1:{self.ports['GATEWAY_PORT']}"
        self.city = f"http://127.0.0.1:{self.ports['CITYAPI_PORT']}"
        self.rasa = f"http://127.0.0.1:{self.ports['RASA_PORT']}"
        self.log = (var / "stack.log").open("ab")
        self.extra: list[subprocess.Popen] = []
        self.cityapi: subprocess.Popen | None = None  # once restarted by a test; before, scripts/start's
        self.gateway_process: subprocess.Popen | None = None  # likewise

    def another_rasa(self, var: Path) -> Stack:
        """One more Rasa server beside this stack's, on its stores and its action server."""
        other = Stack(var)
        other.ports = {**self.ports, "RASA_PORT": other.ports["RASA_PORT"]}
        other.env = {**self.env, "RASA_PORT": str(other.ports["RASA_PORT"]), "TROLYHUE_VAR": str(var)}
        other.rasa = f"http://127.0.0.1:{other.ports['RASA_PORT']}"
        return other

    def launch(self, *services: str) -> None:
        """scripts/start as the README says, all services unless some are named; wait_ready() next."""
        self.services = services
        self.process = subprocess.Popen([str(ROOT / "scripts" / "start"), *services], cwd=ROOT, env=self.env,
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def ready(self) -> bool:
        try:
            if self.services and "gateway" not in self.services:
                status = f"{self.rasa}/status?token={self.env['RASA_TOKEN']}"
                with urllib.request.urlopen(status, timeout=5) as response:
                    return bool(json.loads(response.read()).get("model_file"))
            status, body = post_json(f"{self.gateway}/api/chat", {"sender": "web-probe-0000", "text": "/help"})
            return status == 200 and bool(body["messages"])
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.tail()
            if self.ready():
                return
            time.sleep(2)
        raise AssertionError("the stack did not answer in time:\n" + self.tail())

    def start(self, *services: str) -> None:
        self.launch(*services)
        self.wait_ready()

    def tail(self) -> str:
        return (self.var / "stack.log").read_text(errors="replace")[-6000:]

    def stop(self) -> None:
        for process in self.extra:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=20)
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)

    def stop_cityapi(self) -> None:
        if self.cityapi is None:
            os.kill(int((self.var / "run" / "cityapi.pid").read_text()), signal.SIGTERM)
        else:
            self.cityapi.terminate()
            self.cityapi.wait(timeout=20)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.city}/health", timeout=1)
            except (urllib.error.URLError, ConnectionError):
                return
            time.sleep(0.2)
        raise AssertionError("cityapi did not stop")

    def stop_gateway(self) -> None:
        """Stop the gateway (scripts/start's, or the one a test started) and wait until its port is free."""
        if self.gateway_process is None:
            os.kill(int((self.var / "run" / "gateway.pid").read_text()), signal.SIGTERM)
        else:
            self.gateway_process.terminate()
            self.gateway_process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.gateway}/health", timeout=1)
            except (urllib.error.URLError, ConnectionError):
                return
            time.sleep(0.2)
        raise AssertionError("the gateway did not stop")

    def gateway_on(self, port: int) -> subprocess.Popen:
        """A gateway process on `port`, as scripts/start runs it (on this stack's services and data)."""
        env = {**self.env, "CITYAPI_URL": self.city, "RASA_URL": self.rasa, "GATEWAY_PORT": str(port)}
        process = subprocess.Popen([str(ROOT / ".venv" / "bin" / "python"), "-m", "bot", "--port", str(port)],
                                   cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.extra.append(process)
        wait_for(f"http://127.0.0.1:{port}/health", process, "gateway", timeout=60)
        return process

    def start_gateway(self) -> None:
        """The gateway again, on its port."""
        self.gateway_process = self.gateway_on(self.ports["GATEWAY_PORT"])

    def restart_cityapi(self) -> None:
        env = {"DATABASE_URL": f"sqlite:///{self.var / 'cityapi.sqlite3'}", **self.env}
        process = subprocess.Popen([str(ROOT / ".venv" / "bin" / "python"), "-m", "cityapi", "--port",
                                    str(self.ports["CITYAPI_PORT"])], cwd=ROOT, env=env,
                                   stdout=self.log, stderr=subprocess.STDOUT)
        self.extra.append(process)
        self.cityapi = process
        wait_for(f"{self.city}/health", process, "cityapi", timeout=30)


def channels(telegram: TelegramEmulator, zalo: ZaloServer) -> dict[str, str]:
    """The environment that starts the Telegram and Zalo channels, pointed at the servers on loopback."""
    return {"TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_API_BASE_URL": telegram.api_base,
            "TELEGRAM_FILE_BASE_URL": telegram.file_base, "TELEGRAM_POLL_INTERVAL": "0.1",
            "TELEGRAM_PER_CHAT_INTERVAL": "0.3", **ZALO_APP, "ZALO_ACCESS_TOKEN": zalo.access,
            "ZALO_REFRESH_TOKEN": zalo.refresh, "ZALO_API_BASE_URL": zalo.url, "ZALO_OAUTH_BASE_URL": zalo.url}


@pytest.fixture(scope="session")
def telegram(tmp_path_factory):
    emulator = TelegramEmulator(tmp_path_factory.mktemp("telegram") / "emulator.log")
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session")
def zalo():
    server = ZaloServer(ZALO_APP["ZALO_APP_ID"], ZALO_APP["ZALO_APP_SECRET"], ZALO_APP["ZALO_OA_SECRET"])
    yield server
    server.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory, telegram, zalo):
    """The whole stack, with every channel: Telegram and Zalo pointed at their servers on loopback."""
    running = Stack(tmp_path_factory.mktemp("stack"))
    running.env.update(channels(telegram, zalo))
    running.start()
    yield running
    running.stop()
    if accessibility.TRANSCRIPTS:
        REPORTS.append(accessibility.report(list(accessibility.TRANSCRIPTS.values())))
