"""Build var/speech-corpus/ from public recordings of real Vietnamese speech, for bench/voice.py --corpus.

Sources (each read from a bare git mirror, e.g. one the search tool's `fetch` made; nothing is downloaded here):

- --mirror: github.com/undertheseanlp/automatic_speech_recognition, branch `sphinx_lab` (commit ce72658…), licence
  GPL-3.0 (the repository's LICENSE.txt; the recordings carry no licence of their own).
  `data/diadiem/corpus/{test,train}/`: `text` lines `ID|transcript` and `wav/ID.wav`, 16-bit mono 8 kHz (recorded
  or kept at the phone band). 8 short answers said by many people: "không", "đúng", "trở lại", "khách sạn",
  "cà phê", "mát xa", "ka rao ke", "trạm ay têm" (ATM) — 80 test and 4,921 training recordings. We take every test
  recording and the first PER_WORD training recordings of each answer.
- --common-voice: github.com/omnilingo/rsample-100-cv-corpus-6.1-2020-12-11 (commit 6785f86…), a random sample of
  100 validated clips per language of Mozilla Common Voice 6.1; Common Voice recordings and sentences are CC0-1.0
  (public domain). `vi/validated.tsv` (client_id, path, sentence, votes, age, gender, …) and `vi/clips/*.mp3`,
  48 kHz mono MP3: 100 Vietnamese sentences read by 30 volunteers (1 to 14 syllables, most 4 to 11), written out
  as 16 kHz 16-bit WAV. viet-asr's README lists its training data without Common Voice (YouTube, radio, call
  centre, TTS data, VLSP, VIVOS, FPT); the packaged model's is not documented.
- --vivos DIR: a VIVOS-layout split directory (`prompts.txt`, `waves/<speaker>/<id>.wav`), CC BY-NC-SA 4.0, when one
  is at hand (VIVOS, FOSD and VLSP are published outside GitHub; the one repository found with VIVOS in it,
  TPODAvia/Speech_Dataset, is 1.4 GB, over the mirror's limit). viet-asr was trained on VIVOS among others, so its
  figures there would flatter it.

The corpus is not committed (var/ is ignored): the recordings are data of other projects, and our rules keep fetched
data out of the repository. Rebuild it:

    .venv/bin/python bench/speech_corpus.py --mirror /work/.mirror/undertheseanlp+automatic_speech_recognition/repo \\
        --common-voice /work/.mirror/omnilingo+rsample-100-cv-corpus-6.1-2020-12-11/repo

Writes var/speech-corpus/short/<id>.wav, short.tsv (id, transcript, source), sentences/<id>.wav, sentences.tsv
and SOURCES.md.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from voice.codecs import SAMPLE_RATE, decode, encode  # noqa: E402

REPO = "undertheseanlp/automatic_speech_recognition"
REF = "sphinx_lab"
CORPUS = "data/diadiem/corpus"
PER_WORD = 15
CV_REPO = "omnilingo/rsample-100-cv-corpus-6.1-2020-12-11"
CV_LOCALE = "vi"
SOURCES = """# Speech corpus

Built by bench/speech_corpus.py. Not for redistribution with this project.
"""
SHORT_SOURCE = f"""
- short/: github.com/{REPO}, branch {REF}, {CORPUS}/{{test,train}}; licence GPL-3.0 (the repository's
  LICENSE.txt). Real speakers, 16-bit mono 8 kHz.
"""
CV_SOURCE = f"""
- sentences/cv_*: Mozilla Common Voice 6.1 ({CV_LOCALE}), the random sample in github.com/{CV_REPO}
  ({CV_LOCALE}/validated.tsv, {CV_LOCALE}/clips/); licence CC0-1.0. Volunteers reading sentences; MP3 written out
  as 16 kHz 16-bit mono WAV.
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


def common_voice_sentences(mirror: Path, out: Path, most: int) -> list[tuple[str, str]]:
    """Common Voice clips with their sentences, from a mirror of a repository in Common Voice's own layout."""
    lines = git(mirror, "show", f"HEAD:{CV_LOCALE}/validated.tsv").decode("utf-8").splitlines()
    header, rows = lines[0].split("\t"), []
    for line in lines[1:most + 1]:
        clip = dict(zip(header, line.split("\t")))
        text = " ".join(clip.get("sentence", "").split())
        if not text or not clip.get("path"):
            continue
        pcm = decode(git(mirror, "show", f"HEAD:{CV_LOCALE}/clips/{clip['path']}"), SAMPLE_RATE)
        ident = "cv_" + clip["path"].rsplit(".", 1)[0].removeprefix("common_voice_")
        (out / "sentences" / f"{ident}.wav").write_bytes(encode(pcm, SAMPLE_RATE, "wav"))
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


def write_tsv(path: Path, rows: list[tuple[str, str]], source: str | list[str]) -> None:
    sources = source if isinstance(source, list) else [source] * len(rows)
    path.write_text("".join(f"{ident}\t{text}\t{src}\n" for (ident, text), src in zip(rows, sources)),
                    encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirror", type=Path, help=f"bare git mirror of {REPO} (short answers)")
    parser.add_argument("--common-voice", type=Path, help=f"bare git mirror of {CV_REPO} (sentences)")
    parser.add_argument("--vivos", type=Path, help="a VIVOS-layout split directory (prompts.txt, waves/) (sentences)")
    parser.add_argument("--sentences", type=int, default=100, help="at most this many sentences from each source")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "speech-corpus")
    args = parser.parse_args()
    if not (args.mirror or args.common_voice or args.vivos):
        parser.error("give at least one source: --mirror, --common-voice or --vivos")
    args.out.mkdir(parents=True, exist_ok=True)
    sources = SOURCES
    if args.mirror:
        (args.out / "short").mkdir(exist_ok=True)
        rows = short_answers(args.mirror, args.out)
        write_tsv(args.out / "short.tsv", rows, f"{REPO}@{REF}")
        sources += SHORT_SOURCE
        print(f"{len(rows)} short answers: {dict(Counter(text for _, text in rows))}")
    sentences: list[tuple[str, str]] = []
    origins: list[str] = []
    if args.common_voice or args.vivos:
        (args.out / "sentences").mkdir(exist_ok=True)
    if args.common_voice:
        found = common_voice_sentences(args.common_voice, args.out, args.sentences)
        sentences, origins = sentences + found, origins + [f"{CV_REPO} (Common Voice 6.1, CC0-1.0)"] * len(found)
        sources += CV_SOURCE
        print(f"{len(found)} Common Voice sentences")
    if args.vivos:
        found = vivos_sentences(args.vivos, args.out, args.sentences)
        sentences, origins = sentences + found, origins + ["vivos (CC BY-NC-SA 4.0)"] * len(found)
        sources += f"\n- sentences/VIVOS*: VIVOS ({args.vivos}), CC BY-NC-SA 4.0.\n"
        print(f"{len(found)} VIVOS sentences")
    if sentences:
        write_tsv(args.out / "sentences.tsv", sentences, origins)
    (args.out / "SOURCES.md").write_text(sources, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
