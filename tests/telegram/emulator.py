"""The Bot API emulator (npm telegram-test-api, with emulator.js's additions) and a simulated citizen using it."""
from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.conftest import free_port, wait_for

HERE = Path(__file__).resolve().parent


def _post(url: str, body: bytes, content_type: str = "application/json") -> dict:
    request = urllib.request.Request(url, body, {"Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


class TelegramEmulator:
    def __init__(self, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_base, self.file_base = f"{self.url}/bot", f"{self.url}/file/bot"
        self.log = log.open("ab")
        self.process = subprocess.Popen(["node", str(HERE / "emulator.js"), str(self.port)], cwd=HERE,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(f"{self.url}/botprobe/getMe", self.process, "the Telegram emulator (npm ci in tests/telegram?)")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    def put_file(self, data: bytes) -> dict:
        return _post(f"{self.url}/putFile", data, "application/octet-stream")["result"]

    def file(self, file_id: str) -> bytes:
        with urllib.request.urlopen(f"{self.url}/file/{file_id}", timeout=30) as response:
            return response.read()


class Citizen:
    """One person in a private chat with the bot `token`."""

    def __init__(self, emulator: TelegramEmulator, token: str, user_id: int, name: str = "Lan"):
        self.emulator, self.token, self.id = emulator, token, user_id
        self.person = {"id": user_id, "is_bot": False, "first_name": name}
        self.received: list[dict] = []  # every bot message, in order
        self.last: list[dict] = []  # the last whole answer

    def send(self, **message) -> None:
        body = {"botToken": self.token, "date": int(time.time()), "from": self.person,
                "chat": {**self.person, "type": "private"}, **message}
        _post(f"{self.emulator.url}/sendMessage", json.dumps(body).encode())

    def tap(self, data: str) -> None:
        """Tap an inline button whose callback data is `data`."""
        body = {"botToken": self.token, "from": self.person, "data": data,
                "message": {"message_id": 1, "date": int(time.time()), "chat": {**self.person, "type": "private"}}}
        _post(f"{self.emulator.url}/sendCallback", json.dumps(body).encode())

    def poll(self) -> list[dict]:
        body = json.dumps({"token": self.token, "chatId": self.id}).encode()
        fresh = [update["message"] for update in _post(f"{self.emulator.url}/getUpdates", body)["result"]]
        self.received.extend(fresh)
        return fresh

    def answer(self, voice: bool = False, timeout: float = 90) -> list[dict]:
        """The bot's messages up to the one carrying a reply keyboard (every answer ends with one), and its voice
        note after that when `voice`."""
        got: list[dict] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got += self.poll()
            done = next((i for i, m in enumerate(got) if "keyboard" in (m.get("reply_markup") or {})), None)
            if done is not None and (not voice or any("voice" in m for m in got[done:])):
                self.last = got
                return got
            time.sleep(0.1)
        raise AssertionError(f"no whole answer in {timeout} s; got {got}")

    def say(self, text: str, **kwargs) -> str:
        self.send(text=text)
        return text_of(self.answer(**kwargs))

    def press(self, title_part: str) -> str:
        """Tap the reply-keyboard button of the last answer whose title contains `title_part`."""
        titles = [b["text"] for b in keyboard_of(self.last)]
        chosen = [t for t in titles if title_part.lower() in t.lower()]
        assert chosen, f"no button {title_part!r} in {titles}"
        return self.say(chosen[0])


def text_of(messages: list[dict]) -> str:
    return "\n".join(m.get("text") or m.get("caption") or "" for m in messages)


def keyboard_of(messages: list[dict]) -> list[dict]:
    """The reply keyboard's buttons, in order."""
    markup = next(m["reply_markup"] for m in reversed(messages) if "keyboard" in (m.get("reply_markup") or {}))
    return [button for row in markup["keyboard"] for button in row]
