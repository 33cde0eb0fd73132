"""voice.codecs through real PyAV encoders and decoders, real espeak-ng speech, and an independent G.711 reference."""
from __future__ import annotations

import io
import subprocess
import tracemalloc
import wave

import av
import numpy as np
import pytest

from voice.codecs import (
    CONTENT_TYPES,
    PHONE_RATE,
    SAMPLE_RATE,
    AudioProblem,
    decode,
    encode,
    is_silent,
    mulaw_decode,
    mulaw_encode,
    resample,
)

ESPEAK_RATE = 22050


def tone(hz: float, seconds: float, rate: int, dbfs: float = -20.0) -> np.ndarray:
    """A sine whose RMS is `dbfs` (0 dBFS = RMS 32768, as in voice.codecs)."""
    t = np.arange(int(seconds * rate)) / rate
    return np.round(32768 * 10 ** (dbfs / 20) * np.sqrt(2) * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def rms_dbfs(pcm: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(pcm.astype(np.float64) ** 2)) / 32768)


def dominant_hz(pcm: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(pcm * np.hanning(len(pcm))))
    return np.fft.rfftfreq(len(pcm), 1 / rate)[np.argmax(spectrum)]


def envelope(pcm: np.ndarray, rate: int) -> np.ndarray:
    size = rate * 30 // 1000
    frames = pcm[: len(pcm) // size * size].astype(np.float64).reshape(-1, size)
    return np.sqrt((frames**2).mean(axis=1))


def wav_bytes(pcm: np.ndarray, rate: int, channels: int = 1) -> bytes:
    """WAV through the stdlib, independently of voice.codecs.encode."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.astype("<i2").tobytes())
    return buffer.getvalue()


def pyav_file(pcm: np.ndarray, rate: int, container_format: str, codec: str, codec_rate: int) -> bytes:
    """A mono file as other apps make it: M4A/AAC (Zalo, iPhone), WebM/Opus (browser MediaRecorder), G.711 WAV."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=codec_rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(resample(pcm, rate, codec_rate).reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = codec_rate
        frame.pts = 0
        for packet in (*stream.encode(frame), *stream.encode(None)):
            container.mux(packet)
    return buffer.getvalue()


# Every way audio reaches us, as (pcm, rate) -> file bytes that decode() reads.
SOURCES = {
    "wav": lambda pcm, rate: encode(pcm, rate, "wav"),
    "ogg": lambda pcm, rate: encode(pcm, rate, "ogg"),
    "mp3": lambda pcm, rate: encode(pcm, rate, "mp3"),
    "m4a": lambda pcm, rate: pyav_file(pcm, rate, "ipod", "aac", 44100),
    "webm": lambda pcm, rate: pyav_file(pcm, rate, "webm", "libopus", 48000),
    "mulaw-wav": lambda pcm, rate: pyav_file(pcm, rate, "wav", "pcm_mulaw", PHONE_RATE),
}


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    """About 3 s of real Vietnamese speech from espeak-ng, at 22050 Hz."""
    text = "Dạ, cháu chào bác. Bác cần cháu giúp gì ạ?"
    out = subprocess.run(["espeak-ng", "-v", "vi", "--stdout", text], capture_output=True, check=True).stdout
    with wave.open(io.BytesIO(out)) as recording:
        assert recording.getframerate() == ESPEAK_RATE
        return np.frombuffer(recording.readframes(recording.getnframes()), dtype="<i2").astype(np.int16)


# --- round trips -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
def test_tone_survives_every_format(source):
    original = tone(440, 1.5, SAMPLE_RATE)
    pcm = decode(SOURCES[source](original, SAMPLE_RATE))
    assert pcm.dtype == np.int16 and pcm.ndim == 1
    assert abs(len(pcm) - len(original)) <= 0.02 * SAMPLE_RATE
    assert abs(dominant_hz(pcm, SAMPLE_RATE) - 440) < 2
    assert abs(rms_dbfs(pcm) - rms_dbfs(original)) < 1.0


@pytest.mark.parametrize("source", SOURCES)
def test_speech_survives_every_format(source, speech):
    reference = resample(speech, ESPEAK_RATE, SAMPLE_RATE)
    pcm = decode(SOURCES[source](speech, ESPEAK_RATE))
    assert abs(len(pcm) - len(reference)) <= 0.02 * SAMPLE_RATE
    n = min(len(pcm), len(reference))
    # Same waveform, in time (lossy codecs keep it to ~0.95 at least), same loudness contour, same level.
    assert np.corrcoef(pcm[:n], reference[:n])[0, 1] > 0.9
    assert np.corrcoef(envelope(pcm[:n], SAMPLE_RATE), envelope(reference[:n], SAMPLE_RATE))[0, 1] > 0.98
    assert abs(rms_dbfs(pcm) - rms_dbfs(reference)) < 1.0


def test_mulaw_stream_round_trip(speech):
    data = encode(speech, ESPEAK_RATE, "mulaw")
    assert len(data) == pytest.approx(len(speech) * PHONE_RATE / ESPEAK_RATE, abs=1)
    pcm = mulaw_decode(data)
    reference = resample(speech, ESPEAK_RATE, PHONE_RATE)[: len(pcm)]
    noise = pcm.astype(np.float64) - reference
    # G.711 gives about 38 dB SNR on speech-level signals.
    assert 10 * np.log10(np.sum(reference.astype(np.float64) ** 2) / np.sum(noise**2)) > 30


def test_stereo_44k_is_downmixed_to_16k_mono():
    left, right = tone(440, 2.0, 44100, dbfs=-20), tone(1000, 2.0, 44100, dbfs=-20)
    interleaved = np.column_stack([left, right]).reshape(-1)
    pcm = decode(wav_bytes(interleaved, 44100, channels=2))
    assert len(pcm) == 2 * SAMPLE_RATE
    spectrum = np.abs(np.fft.rfft(pcm * np.hanning(len(pcm))))
    freqs = np.fft.rfftfreq(len(pcm), 1 / SAMPLE_RATE)
    peaks = sorted(freqs[np.argsort(spectrum)[-2:]])
    assert peaks == [pytest.approx(440, abs=1), pytest.approx(1000, abs=1)]
    # The average of both channels: each tone at half its level (-6 dB), not summed and not one channel dropped.
    only_440 = decode(wav_bytes(np.column_stack([left, np.zeros_like(left)]).reshape(-1), 44100, channels=2))
    assert rms_dbfs(only_440) == pytest.approx(-20 - 6.02, abs=0.2)


def test_decode_to_phone_rate():
    pcm = decode(encode(tone(440, 1.0, SAMPLE_RATE), SAMPLE_RATE, "ogg"), rate=PHONE_RATE)
    assert len(pcm) == PHONE_RATE
    assert abs(dominant_hz(pcm, PHONE_RATE) - 440) < 2


# --- what encode produces ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "codec", "rate"), [("wav", "pcm_s16le", 22050), ("ogg", "opus", 48000), ("mp3", "mp3", 24000)]
)
def test_encoded_files_are_mono_in_the_expected_codec(fmt, codec, rate, speech):
    data = encode(speech, ESPEAK_RATE, fmt)
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        assert container.format.name == fmt
        assert stream.codec_context.codec.id == av.codec.Codec(codec, "r").id  # whichever decoder ffmpeg picks
        assert (stream.rate, stream.channels) == (rate, 1)
    seconds = len(speech) / ESPEAK_RATE
    if fmt == "ogg":  # a voice message, not music: about 24 kbit/s
        assert 16_000 < len(data) * 8 / seconds < 40_000


def test_encode_refuses_unknown_formats_and_nothing():
    assert set(CONTENT_TYPES) == {"wav", "ogg", "mp3", "mulaw"}
    with pytest.raises(ValueError, match="flac"):
        encode(tone(440, 0.1, SAMPLE_RATE), SAMPLE_RATE, "flac")
    with pytest.raises(ValueError, match="no samples"):
        encode(np.zeros(0, np.int16), SAMPLE_RATE, "ogg")


# --- audio we refuse ---------------------------------------------------------------------------------------------


def problem(data: bytes, **limits) -> AudioProblem:
    with pytest.raises(AudioProblem) as caught:
        decode(data, **limits)
    return caught.value


def test_empty_input():
    assert problem(b"").reason == "empty"
    assert problem(wav_bytes(np.zeros(0, np.int16), SAMPLE_RATE)).reason == "empty"


def test_random_bytes_and_text_are_corrupt():
    rng = np.random.default_rng(1)
    assert problem(rng.integers(0, 256, 5000, dtype=np.uint8).tobytes()).reason == "corrupt"
    assert problem("Xin chào bác".encode() * 100).reason == "corrupt"


@pytest.mark.parametrize("fmt", ["ogg", "mp3"])
def test_garbled_file_is_corrupt(fmt):
    data = encode(tone(440, 2.0, SAMPLE_RATE), SAMPLE_RATE, fmt)
    garbage = np.random.default_rng(2).integers(0, 256, len(data) - 200, dtype=np.uint8).tobytes()
    assert problem(data[:200] + garbage).reason == "corrupt"


def test_m4a_cut_before_its_index_is_corrupt():
    # PyAV, like most recorders, writes the MP4 index (moov) at the end: without it nothing is playable.
    data = SOURCES["m4a"](tone(440, 2.0, SAMPLE_RATE), SAMPLE_RATE)
    assert problem(data[: len(data) // 2]).reason == "corrupt"


def test_voice_note_cut_short_keeps_what_arrived():
    data = encode(tone(440, 4.0, SAMPLE_RATE), SAMPLE_RATE, "ogg")
    pcm = decode(data[: len(data) // 2])
    assert 1.5 * SAMPLE_RATE < len(pcm) < 2.5 * SAMPLE_RATE
    assert abs(dominant_hz(pcm, SAMPLE_RATE) - 440) < 2


def test_junk_after_the_end_is_ignored():
    # The MP3 decoder rejects the junk as a packet; one bad packet must not lose the whole message.
    data = encode(tone(440, 2.0, SAMPLE_RATE), SAMPLE_RATE, "mp3")
    pcm = decode(data + b"\x00" * 100 + b"junk")
    assert len(pcm) == 2 * SAMPLE_RATE


def test_video_without_audio_is_corrupt():
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width = stream.height = 32
        stream.pix_fmt = "yuv420p"
        for i in range(5):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 40 * i, np.uint8), format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    found = problem(buffer.getvalue())
    assert found.reason == "corrupt" and "no audio stream" in str(found)


def test_playlist_cannot_make_us_read_other_files(tmp_path):
    target = tmp_path / "secret.wav"
    target.write_bytes(wav_bytes(tone(440, 1.0, SAMPLE_RATE), SAMPLE_RATE))
    for playlist in (
        f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile://{target}\n#EXT-X-ENDLIST\n",
        f"ffconcat version 1.0\nfile {target}\n",
    ):
        assert problem(playlist.encode()).reason == "corrupt"


def test_too_long_from_just_over_the_limit():
    assert decode(wav_bytes(tone(440, 59.5, PHONE_RATE), PHONE_RATE)).size == 59.5 * SAMPLE_RATE
    found = problem(wav_bytes(tone(440, 61.0, PHONE_RATE), PHONE_RATE))
    assert found.reason == "too_long" and "dưới 1 phút" in found.message
    assert "dưới 30 giây" in problem(SOURCES["ogg"](tone(440, 31.0, PHONE_RATE), PHONE_RATE), max_seconds=30).message


def test_long_recording_is_refused_without_decoding_it_all():
    ten_minutes = wav_bytes(tone(440, 600.0, PHONE_RATE), PHONE_RATE)
    assert len(ten_minutes) < 10 * 1024 * 1024
    tracemalloc.start()
    try:
        assert problem(ten_minutes).reason == "too_long"
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Ten decoded minutes would take 19 MB as float32 at 8 kHz (the full decode peaks near 200 MB);
    # stopping after the first minute holds about 2 MB.
    assert peak < 5 * 1024 * 1024


def test_too_large_is_refused_before_decoding():
    data = wav_bytes(tone(440, 1.0, SAMPLE_RATE), SAMPLE_RATE)
    assert problem(data, max_bytes=len(data) - 1).reason == "too_large"
    assert problem(b"\x00" * len(data), max_bytes=100).reason == "too_large"  # not even looked at: no "corrupt"


DIGITAL_SILENCE = np.zeros(3 * SAMPLE_RATE, np.int16)
FAINT_NOISE = np.round(np.random.default_rng(3).normal(0, 32768 * 10 ** (-60 / 20), 3 * SAMPLE_RATE)).astype(np.int16)
DC_OFFSET = np.full(3 * SAMPLE_RATE, 2000, np.int16)  # a microphone's offset, no sound (Opus would filter it out)


@pytest.mark.parametrize(
    ("pcm", "fmt"),
    [
        (DIGITAL_SILENCE, "wav"),
        (DIGITAL_SILENCE, "ogg"),
        (FAINT_NOISE, "wav"),
        (FAINT_NOISE, "ogg"),
        (DC_OFFSET, "wav"),
    ],
    ids=["silence-wav", "silence-ogg", "faint-noise-wav", "faint-noise-ogg", "dc-offset-wav"],
)
def test_silent_recordings(pcm, fmt):
    assert problem(encode(pcm, SAMPLE_RATE, fmt)).reason == "silent"


def test_soft_speech_is_not_silent(speech):
    soft = np.round(speech * (10 ** (-42 / 20) * 32768 / envelope(speech, ESPEAK_RATE).max())).astype(np.int16)
    assert decode(wav_bytes(soft, ESPEAK_RATE)).size > 0


def test_silence_threshold_is_minus_50_dbfs():
    assert not is_silent(tone(440, 1.0, SAMPLE_RATE, dbfs=-45))
    assert is_silent(tone(440, 1.0, SAMPLE_RATE, dbfs=-55))
    # One loud 30 ms word in three quiet seconds is speech.
    pcm = np.zeros(3 * SAMPLE_RATE, np.int16)
    pcm[SAMPLE_RATE : SAMPLE_RATE + 480] = tone(440, 0.03, SAMPLE_RATE, dbfs=-30)
    assert not is_silent(pcm)
    assert is_silent(np.zeros(0, np.int16))


def test_messages_are_polite_vietnamese_and_logs_english():
    found = {
        "empty": problem(b""),
        "corrupt": problem(b"not audio at all, sorry"),
        "too_long": problem(wav_bytes(tone(440, 2.0, SAMPLE_RATE), SAMPLE_RATE), max_seconds=1),
        "too_large": problem(b"xx", max_bytes=1),
        "silent": problem(wav_bytes(np.zeros(SAMPLE_RATE, np.int16), SAMPLE_RATE)),
    }
    for reason, caught in found.items():
        assert caught.reason == reason
        assert caught.message.startswith("Dạ, ") and caught.message.endswith("ạ.")
        assert "bác" in caught.message.lower() and "cháu" in caught.message
        assert str(caught).isascii() and str(caught)
    assert len({caught.message for caught in found.values()}) == 5


# --- resampling --------------------------------------------------------------------------------------------------


def test_resample_8k_16k_8k_keeps_a_tone():
    original = tone(440, 1.0, PHONE_RATE)
    up = resample(original, PHONE_RATE, SAMPLE_RATE)
    assert up.dtype == np.int16 and len(up) == SAMPLE_RATE
    assert abs(dominant_hz(up, SAMPLE_RATE) - 440) < 1
    back = resample(up, SAMPLE_RATE, PHONE_RATE)
    assert len(back) == PHONE_RATE
    middle = slice(400, -400)  # away from the filter's edges
    assert np.corrcoef(back[middle], original[middle])[0, 1] > 0.999
    assert abs(rms_dbfs(back) - rms_dbfs(original)) < 0.1
    assert resample(original, PHONE_RATE, PHONE_RATE) is original


# --- G.711 μ-law -------------------------------------------------------------------------------------------------

SEG_END = [0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF, 0x3FFF, 0x7FFF]


def reference_linear2ulaw(pcm_val: int) -> int:
    """Sun Microsystems' g711.c linear2ulaw, line by line (16-bit input, BIAS 0x84, segment search)."""
    if pcm_val < 0:
        pcm_val = 0x84 - pcm_val
        mask = 0x7F
    else:
        pcm_val += 0x84
        mask = 0xFF
    seg = next((i for i, end in enumerate(SEG_END) if pcm_val <= end), 8)
    if seg >= 8:  # out of range: the largest code
        return 0x7F ^ mask
    return ((seg << 4) | ((pcm_val >> (seg + 3)) & 0xF)) ^ mask


def reference_ulaw2linear(u_val: int) -> int:
    """Sun's g711.c ulaw2linear."""
    u_val = ~u_val & 0xFF
    t = ((u_val & 0x0F) << 3) + 0x84
    t <<= (u_val & 0x70) >> 4
    return 0x84 - t if u_val & 0x80 else t - 0x84


def test_mulaw_encode_is_bit_exact_for_every_int16():
    everything = np.arange(-32768, 32768, dtype=np.int16)
    expected = bytes(reference_linear2ulaw(int(v)) for v in everything)
    assert mulaw_encode(everything) == expected


def test_mulaw_decode_matches_the_table_and_is_stable():
    codes = bytes(range(256))
    linear = mulaw_decode(codes)
    assert linear.dtype == np.int16
    assert linear.tolist() == [reference_ulaw2linear(code) for code in codes]
    assert np.array_equal(mulaw_decode(mulaw_encode(linear)), linear)


def test_mulaw_known_values():
    assert mulaw_encode(np.array([0, 32767, -32768], np.int16)) == bytes([0xFF, 0x80, 0x00])
    assert mulaw_decode(bytes([0xFF, 0x80, 0x00, 0x7F])).tolist() == [0, 32124, -32124, 0]
    # Sign-symmetric, as G.711 is: only the sign bit differs between x and -x.
    positive = np.arange(1, 32768, dtype=np.int16)
    assert np.array_equal(
        np.frombuffer(mulaw_encode(-positive), np.uint8), np.frombuffer(mulaw_encode(positive), np.uint8) ^ 0x80
    )
