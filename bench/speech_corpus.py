"""Build var/speech-corpus/ from public recordings of real Vietnamese speech, for bench/voice.py --corpus.

Source (read from a bare git mirror, e.g. one the search tool's `fetch` made; nothing is downloaded here):

- github.com/undertheseanlp/automatic_speech_recognition, branch `sphinx_lab` (commit ce72658…), licence GPL-3.0
  (the repository's LICENSE.txt; the recordings carry no licence of their own). `data/diadiem/corpus/{test,train}/`:
  `text` lines `ID|transcript` and `wav/ID.wav`, 16-bit mono 8 kHz (recorded or kept at the phone band). 8 short
  answers said by many people: "không", "đúng", "trở lại", "khách sạn", "cà phê", "mát xa", "ka rao ke",
  "trạm ay têm" (ATM) — 80 test and 4,921 training recordings. We take every test recording and the first
  PER_WORD training recordings of each answer.

No public repository we could find holds Vietnamese *sentences* with transcripts and a licence (VIVOS, Common Voice,
FOSD and VLSP are published outside GitHub; repositories that use them commit a file or two). sentences.tsv is
written only when a VIVOS-layout directory (`prompts.txt`, `waves/<speaker>/<id>.wav`) is given with --vivos.

The corpus is not committed (var/ is ignored): the recordings are GPL-3.0 data of another project, and our
rules keep fetched data out of the repository. Rebuild it:

    .venv/bin/python bench/speech_corpus.py --mirror /work/.mirror/undertheseanlp+automatic_speech_recognition/repo

Writes var/speech-corpus/short/<id>.wav, short.tsv (id, transcript, source) and SOURCES.md.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPO = "undertheseanlp/automatic_speech_recognition"
REF = "sphinx_lab"
CORPUS = "data/diadiem/corpus"
PER_WORD = 15
SOURCES = f"""# Speech corpus

Built by bench/speech_corpus.py. Not for redistribution with this project.

- short/: github.com/{REPO}, branch {REF}, {CORPUS}/{{test,train}}; licence GPL-3.0 (the repository's
  LICENSE.txt). Real speakers, 16-bit mono 8 kHz.
"""


def git(mirror: Path, *args: str) -> bytes:
    return subprocess.run(["git", f"--git-dir={mirror}", *args], capture_output=True, check=True).stdout


def short_answers(mirror: Path, out: Path) -> list[tuple[str, str]]:
    rows, taken = [], Counter()
    for split in ("test", "train"):
        for line in git(mirror, "show", f"{REF}:{CORPUS}/{split}/text").decode("utf-8").splitlines():
            ident, _, text = line.strip().partition("|")
            if not ident or not text or (split == "train" and taken[text] >= PER_WORD):
                continue
            taken[text] += split == "train"
            (out / "short" / f"{ident}.wav").write_bytes(git(mirror, "show", f"{REF}:{CORPUS}/{split}/wav/{ident}.wav"))
            rows.append((ident, text))
    return rows


def vivos_sentences(vivos: Path, out: Path, most: int) -> list[tuple[str, str]]:
    rows = []
    for line in (vivos / "prompts.txt").read_text(encoding="utf-8").splitlines()[:most]:
        ident, _, text = line.strip().partition(" ")
        wav = vivos / "waves" / ident.split("_")[0] / f"{ident}.wav"
        if wav.exists():
            (out / "sentences" / f"{ident}.wav").write_bytes(wav.read_bytes())
            rows.append((ident, text.lower()))
    return rows


def write_tsv(path: Path, rows: list[tuple[str, str]], source: str) -> None:
    path.write_text("".join(f"{ident}\t{text}\t{source}\n" for ident, text in rows), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirror", type=Path, required=True, help=f"bare git mirror of {REPO}")
    parser.add_argument("--vivos", type=Path, help="a VIVOS-layout split directory (prompts.txt, waves/)")
    parser.add_argument("--sentences", type=int, default=100)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "speech-corpus")
    args = parser.parse_args()
    (args.out / "short").mkdir(parents=True, exist_ok=True)
    rows = short_answers(args.mirror, args.out)
    write_tsv(args.out / "short.tsv", rows, f"{REPO}@{REF}")
    sources = SOURCES
    print(f"{len(rows)} short answers: {dict(Counter(text for _, text in rows))}")
    if args.vivos:
        (args.out / "sentences").mkdir(exist_ok=True)
        sentences = vivos_sentences(args.vivos, args.out, args.sentences)
        write_tsv(args.out / "sentences.tsv", sentences, "vivos")
        sources += f"- sentences/: VIVOS ({args.vivos}), CC BY-NC-SA 4.0.\n"
        print(f"{len(sentences)} sentences")
    (args.out / "SOURCES.md").write_text(sources, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
