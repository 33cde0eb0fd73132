"""What speech recognition makes of the held-out sentences: espeak-ng speaks each one, viet-asr hears it.

Run in the application environment (bench/nlu.py calls it):
    .venv/bin/python bench/nlu_heard.py tests/nlu/fresh.yml [...] [--sample 60] [--out var/nlu-heard]
        [--voice vi] [--rate 110]
Writes, per set, <out>/<set>.json: [{"text", "intent", "heard"}] for an evenly spaced sample of its sentences
written with diacritics (the same sample every run): people speak with their tones even when they type
without them, and espeak-ng reads a sentence without diacritics as flat, wrong syllables.
Heard texts are cached by sentence, voice and rate, so a second run costs nothing.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common.text import strip_diacritics  # noqa: E402
from tests.nlu.test_heldout_set import examples  # noqa: E402
from voice.asr import VietAsrRecognizer  # noqa: E402
from voice.codecs import SAMPLE_RATE, decode  # noqa: E402
from voice.tts import Espeak  # noqa: E402
from voice.workers import cores  # noqa: E402


def sample(items: list, size: int) -> list:
    """An evenly spaced sample: every intent block is visited, and the same one every run."""
    if size >= len(items):
        return items
    step = len(items) / size
    return [items[int(k * step)] for k in range(size)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", nargs="+")
    parser.add_argument("--sample", type=int, default=60)
    parser.add_argument("--out", default=str(ROOT / "var" / "nlu-heard"))
    parser.add_argument("--voice", default="vi")
    parser.add_argument("--rate", type=int, default=110, help="words per minute (slow speech is heard best)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cache_file = out / "cache.json"
    cache = json.loads(cache_file.read_text(encoding="utf-8")) if cache_file.exists() else {}
    speaker = Espeak(args.voice, args.rate)
    chosen = {}
    for name in args.sets:
        spoken = [(text, intent) for intent, texts in examples(Path(name)).items() for text in texts
                  if strip_diacritics(text) != text]
        chosen[name] = [(hashlib.sha256(f"{args.voice}|{args.rate}|{text}".encode()).hexdigest()[:24], text, intent)
                        for text, intent in sample(spoken, args.sample)]
    missing = {key: text for picked in chosen.values() for key, text, _ in picked if key not in cache}
    if missing:
        recognizer = VietAsrRecognizer()  # one model, shared by the threads: each core hears a sentence at once

        def hear(text: str) -> str:
            return recognizer.transcribe(decode(speaker.synthesize(text), SAMPLE_RATE), SAMPLE_RATE).text.strip()

        with ThreadPoolExecutor(cores()) as pool:
            cache.update(zip(missing, pool.map(hear, missing.values())))
    for name, picked in chosen.items():
        heard = [{"text": text, "intent": intent, "heard": cache[key]} for key, text, intent in picked]
        (out / f"{Path(name).stem}.json").write_text(json.dumps(heard, ensure_ascii=False, indent=0), "utf-8")
    cache_file.write_text(json.dumps(cache, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
