"""Channel latency: from a citizen's message reaching the gateway to the assistant's reply leaving it, on the web
chat, Telegram (webhook mode, as Telegram pushes updates) and Zalo, through the whole stack.

Run in the application environment:  .venv/bin/python bench/channels.py [--messages 20]
It starts its own stack (scripts/start, on a temporary TROLYHUE_VAR) with the Telegram emulator and the Zalo OA
server of the tests on loopback. Prints one table: medians and 95th percentiles, as these machines are noisy.
Each message opens a new chat (one turn: the assistant's first answer), so Telegram's per-chat pace does not count.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.voice import SENTENCES, print_table, row  # noqa: E402
from tests.e2e.conftest import TELEGRAM_TOKEN, ZALO_APP, Stack, channels, post_json  # noqa: E402
from tests.telegram.emulator import Citizen, TelegramEmulator  # noqa: E402
from tests.zalo.oa_server import ZaloServer  # noqa: E402


def web_chat(stack: Stack, n: int) -> list[str]:
    waits = []
    for i in range(n):
        started = time.perf_counter()
        status, _ = post_json(f"{stack.gateway}/api/chat", {"sender": f"web-bench-{i:08d}",
                                                             "text": SENTENCES[i % len(SENTENCES)]})
        waits.append(time.perf_counter() - started)
        assert status == 200
    return [row("web chat: request -> answer", waits)]


def telegram(emulator: TelegramEmulator, n: int) -> list[str]:
    first, whole = [], []
    for i in range(n):
        citizen = Citizen(emulator, TELEGRAM_TOKEN, 900000 + i)
        asked = time.time()  # the emulator posts the update to the webhook before it answers this
        citizen.send(text=SENTENCES[i % len(SENTENCES)])
        citizen.answer()
        # The emulator stamps each message the bot sends (ms; the same machine's clock).
        body = json.dumps({"token": TELEGRAM_TOKEN}).encode()
        request = urllib.request.Request(f"{emulator.url}/getUpdatesHistory", body,
                                         {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            history = json.loads(response.read())["result"]
        answered = [u["time"] / 1000 for u in history
                    if str((u.get("message") or {}).get("chat_id")) == str(citizen.id)]
        first.append(min(answered) - asked)
        whole.append(max(answered) - asked)
    return [row("telegram (webhook): message -> first reply sent", first),
            row("telegram (webhook): message -> whole answer sent", whole)]


def zalo(stack: Stack, server: ZaloServer, n: int) -> list[str]:
    acks, first, whole = [], [], []
    for i in range(n):
        user = f"bench{i:06d}"
        raw, headers = server.event("user_send_text", user, {"msg_id": f"bench-{i}-{time.time()}",
                                                              "text": SENTENCES[i % len(SENTENCES)]})
        sent = time.time()
        with urllib.request.urlopen(urllib.request.Request(f"{stack.gateway}/zalo/webhook", raw, headers),
                                    timeout=10) as response:
            assert response.status == 200
        acks.append(time.time() - sent)
        deadline, count, settled = time.monotonic() + 60, 0, time.monotonic()
        while time.monotonic() < deadline:
            times = server.times_to(user)
            if len(times) != count:
                count, settled = len(times), time.monotonic()
            elif count and time.monotonic() - settled > 1.0:
                break
            time.sleep(0.02)
        first.append(min(times) - sent)
        whole.append(max(times) - sent)
    return [row("zalo: event -> webhook's 200", acks), row("zalo: event -> first reply sent", first),
            row("zalo: event -> whole answer sent", whole)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as var:
        emulator = TelegramEmulator(Path(var) / "emulator.log")
        server = ZaloServer(ZALO_APP["ZALO_APP_ID"], ZALO_APP["ZALO_APP_SECRET"], ZALO_APP["ZALO_OA_SECRET"])
        stack = Stack(Path(var))
        stack.env.update(channels(emulator, server))
        stack.env["TELEGRAM_WEBHOOK_URL"] = f"{stack.gateway}/telegram/webhook"
        try:
            stack.start()
            time.sleep(2)  # the gateway sets its webhook as it starts
            lines = web_chat(stack, args.messages) + telegram(emulator, args.messages) + zalo(
                stack, server, args.messages)
        finally:
            stack.stop()
            server.stop()
            emulator.stop()
    print_table(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
