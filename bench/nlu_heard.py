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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common.text import strip_diacritics  # noqa: E402
from tests.nlu.test_heldout_set import examples  # noqa: E402
from voice.asr import VietAsrRecognizer  # noqa: E402
from voice.codecs import SAMPLE_RATE, decode  # noqa: E402
from voice.tts import Espeak  # noqa: E402


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
    speaker, recognizer = Espeak(args.voice, args.rate), None
    for name in args.sets:
        heard = []
        spoken = [(text, intent) for intent, texts in examples(Path(name)).items() for text in texts
                  if strip_diacritics(text) != text]
        for text, intent in sample(spoken, args.sample):
            key = hashlib.sha256(f"{args.voice}|{args.rate}|{text}".encode()).hexdigest()[:24]
            if key not in cache:
                recognizer = recognizer or VietAsrRecognizer()
                pcm = decode(speaker.synthesize(text), SAMPLE_RATE)
                cache[key] = recognizer.transcribe(pcm, SAMPLE_RATE).text.strip()
            heard.append({"text": text, "intent": intent, "heard": cache[key]})
        (out / f"{Path(name).stem}.json").write_text(json.dumps(heard, ensure_ascii=False, indent=0), "utf-8")
    cache_file.write_text(json.dumps(cache, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
