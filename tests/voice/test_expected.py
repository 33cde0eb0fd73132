"""Expected answers with real audio: short answers spoken by espeak-ng, recognised by viet-asr at 16 kHz and through
the phone band (8 kHz μ-law both ways), picked among the buttons offered by common.expected after
common.choices.match_choice (as bot.replies.LastReplies.understood does).

espeak-ng's Vietnamese is hard for viet-asr ('có' is heard as 'ồ', 'Vỹ Dạ' as 'vì à'), which is what the
rescoring is for. The Huế voice at 110 words a minute, as slowly as elders answer."""
from __future__ import annotations

import pytest

from common.choices import match_choice
from common.expected import pick
from voice.asr import load_recognizer
from voice.codecs import PHONE_RATE, SAMPLE_RATE, mulaw_decode, mulaw_encode, resample
from voice.settings import VoiceSettings

VOICE, SPEED = "vi-vn-x-central", 110
YES_NO = ["Có", "Không"]
WARDS = ["Vỹ Dạ", "Phú Hội", "Thuận Hóa", "Kim Long"]
TIMES = ["8 giờ", "9 giờ", "10 giờ 30"]
ANSWERS = [
    ("có", YES_NO, 0), ("dạ có", YES_NO, 0), ("đúng rồi", YES_NO, 0), ("có ạ", YES_NO, 0),
    ("Vỹ Dạ", WARDS, 0), ("Phú Hội", WARDS, 1), ("Thuận Hóa", WARDS, 2), ("Kim Long", WARDS, 3),
    ("tám giờ", TIMES, 0), ("chín giờ", TIMES, 1), ("mười giờ ba mươi", TIMES, 2),
]
# New requests made where buttons were offered: never a button.
REQUESTS = ["tui muốn gặp cán bộ", "phản ánh của tui tới đâu rồi", "cho tui đặt lịch khám mắt",
            "đèn đường trước nhà tui bị hỏng"]


@pytest.fixture(scope="module")
def recognise(speak):
    recognizer = load_recognizer(VoiceSettings())

    def heard(text: str, rate: int, choices: list[str]):
        pcm = speak(text, SAMPLE_RATE, VOICE, SPEED)
        if rate == PHONE_RATE:
            pcm = mulaw_decode(mulaw_encode(resample(pcm, SAMPLE_RATE, PHONE_RATE)))
        return recognizer.transcribe(pcm, rate, tuple(choices))

    return heard


def answered(transcript, choices: list[str]) -> tuple[int | None, int | None]:
    """(match_choice alone, match_choice then the rescoring)."""
    matched = match_choice(transcript.text, choices)
    return matched, matched if matched is not None else pick([transcript.text, *transcript.alternatives], choices)


def test_spoken_answers_pick_their_button_far_more_often_with_the_rescoring(recognise):
    plain = rescored = wrong = 0
    for rate in (SAMPLE_RATE, PHONE_RATE):
        for said, choices, want in ANSWERS:
            matched, picked = answered(recognise(said, rate, choices), choices)
            plain += matched == want
            rescored += picked == want
            wrong += picked is not None and picked != want
    total = 2 * len(ANSWERS)
    assert rescored > total / 2, (plain, rescored, wrong)  # measured: 14 of 22; match_choice alone: 2
    assert rescored >= plain + 8
    assert wrong <= 1


@pytest.mark.parametrize("rate", [SAMPLE_RATE, PHONE_RATE])
@pytest.mark.parametrize("request_said", REQUESTS)
def test_a_new_request_is_not_forced_into_a_button(recognise, request_said, rate):
    for choices in (YES_NO, WARDS, TIMES):
        transcript = recognise(request_said, rate, choices)
        assert answered(transcript, choices) == (None, None), transcript.text
