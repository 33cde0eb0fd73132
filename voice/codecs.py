"""Audio in and out: decode what citizens send (voice notes, browser recordings, calls) to 16 kHz mono int16 PCM,
and encode spoken answers for each channel. PyAV (its own bundled ffmpeg) and soxr only; no ffmpeg binary, no audioop.
"""
from __future__ import annotations

import io
import wave

import av
import numpy as np
import soxr

SAMPLE_RATE = 16000  # what the recognisers get
PHONE_RATE = 8000  # G.711 telephony

# Silence: a recording is "silent" when even its loudest 30 ms frame stays below -50 dBFS RMS (0 dBFS = full-scale
# square wave, RMS 32768; a full-scale sine is -3 dBFS). Speech into a phone typically peaks between -35 and -10 dBFS
# per frame, a quiet room's background noise sits near -60 to -70 dBFS: -50 rejects empty or muted recordings
# without rejecting a soft voice.
FRAME_MS = 30
SILENCE_DBFS = -50.0
_SILENCE_RMS = 32768 * 10 ** (SILENCE_DBFS / 20)

CONTENT_TYPES = {"wav": "audio/wav", "ogg": "audio/ogg", "mp3": "audio/mpeg", "mulaw": "audio/basic"}

# fmt -> (container, encoder, sample rate, bit rate, encoder options). Opus in Ogg at 48 kHz is a Telegram voice
# message; libopus' "voip" mode favours speech intelligibility. MP3 at 24 kHz keeps all of speech, for the web.
_ENCODERS = {
    "ogg": ("ogg", "libopus", 48000, 24000, {"application": "voip"}),
    "mp3": ("mp3", "libmp3lame", 24000, 64000, {}),
}

_MESSAGES = {
    "empty": "Dạ, cháu chưa nhận được tiếng nào trong đoạn ghi âm ạ. Bác ghi âm lại giúp cháu với ạ.",
    "corrupt": "Dạ, cháu không mở được đoạn ghi âm này ạ. Bác ghi âm lại rồi gửi giúp cháu với ạ.",
    "too_long": "Dạ, đoạn ghi âm dài quá ạ. Bác nói ngắn lại, dưới {limit}, giúp cháu với ạ.",
    "too_large": "Dạ, tệp ghi âm của bác lớn quá, cháu không nhận được ạ. Bác gửi đoạn ngắn hơn giúp cháu với ạ.",
    "silent": "Dạ, cháu không nghe thấy tiếng của bác ạ. Bác nói gần máy hơn và to hơn một chút giúp cháu với ạ.",
}


class AudioProblem(Exception):
    """Audio we cannot use. `reason` is one of _MESSAGES' keys, `message` the Vietnamese sentence for the citizen,
    str() the English detail for logs."""

    def __init__(self, reason: str, detail: str, limit: str = ""):
        super().__init__(detail)
        self.reason = reason
        self.message = _MESSAGES[reason].format(limit=limit)


def _spoken_limit(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60} phút" if whole >= 60 and whole % 60 == 0 else f"{whole} giây"


def decode(
    data: bytes,
    rate: int = SAMPLE_RATE,
    max_seconds: float = 60.0,
    max_bytes: int = 10 * 1024 * 1024,
) -> np.ndarray:
    """Any audio PyAV can read (WAV, OGG/Opus, M4A/AAC, MP3, WebM/Opus...), from memory, as mono int16 PCM at `rate`,
    channels averaged. Raises AudioProblem, and only that, for input we cannot use."""
    if not data:
        raise AudioProblem("empty", "no bytes")
    if len(data) > max_bytes:
        raise AudioProblem("too_large", f"{len(data)} bytes, limit {max_bytes}")
    chunks: list[np.ndarray] = []
    source_rate = total = 0
    damage: Exception | None = None
    try:
        with av.open(io.BytesIO(data)) as container:
            if not container.streams.audio:
                raise AudioProblem("corrupt", f"no audio stream in {container.format.name}")
            # Planar float whatever the codec gives (s16, s32, fltp...), so every channel is a row to average.
            resampler = av.AudioResampler(format="fltp")
            for packet in container.demux(container.streams.audio[0]):
                try:
                    frames = packet.decode()
                except av.FFmpegError as exc:
                    # A damaged or cut-off packet (an upload cut short, junk after the end): skip it, as ffmpeg does.
                    damage = exc
                    continue
                for planar in (out for frame in frames for out in resampler.resample(frame)):
                    source_rate, total = planar.sample_rate, total + planar.samples
                    chunks.append(planar.to_ndarray().mean(axis=0))
                # Stop here rather than decode an hour of audio only to refuse it.
                if total > max_seconds * source_rate:
                    raise AudioProblem("too_long", f"more than {max_seconds:g} s", _spoken_limit(max_seconds))
    except AudioProblem:
        raise
    except Exception as exc:  # hostile input makes PyAV raise FFmpegError, ValueError, UnicodeDecodeError...
        raise AudioProblem("corrupt", f"cannot decode: {exc}") from exc
    if not total:
        raise AudioProblem("corrupt", f"no packet decodes: {damage}") if damage else AudioProblem("empty", "no samples")
    samples = np.concatenate(chunks)
    pcm = resample(np.clip(np.round(samples * 32768), -32768, 32767).astype(np.int16), source_rate, rate)
    if is_silent(pcm, rate):
        raise AudioProblem("silent", f"loudest {FRAME_MS} ms frame below {SILENCE_DBFS:g} dBFS")
    return pcm


def is_silent(pcm: np.ndarray, rate: int = SAMPLE_RATE) -> bool:
    """True when no 30 ms frame reaches speech-level energy (see SILENCE_DBFS)."""
    size = rate * FRAME_MS // 1000
    frames = np.pad(pcm.astype(np.float64), (0, -len(pcm) % size)).reshape(-1, size)
    # A microphone's DC offset is not sound: measure each frame around its own mean.
    frames -= frames.mean(axis=1, keepdims=True)
    return bool(np.sqrt((frames**2).mean(axis=1)).max(initial=0.0) < _SILENCE_RMS)


def resample(pcm: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """int16 PCM from one sample rate to another (soxr, high quality)."""
    pcm = np.asarray(pcm, dtype=np.int16)
    return pcm if from_rate == to_rate else soxr.resample(pcm, from_rate, to_rate)


# G.711 μ-law, as the classic Sun g711.c linear2ulaw: 16-bit magnitude clipped to CLIP, plus BIAS, then the
# segment is the position of the top bit above bit 7 and the mantissa the next 4 bits, all bits inverted.
_BIAS = 0x84
_CLIP = 32635
_SEG_END = np.array([0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF, 0x3FFF, 0x7FFF])


def mulaw_encode(pcm: np.ndarray) -> bytes:
    """int16 PCM as G.711 μ-law bytes, one per sample (the rate is the caller's: 8 kHz on a phone line)."""
    samples = pcm.astype(np.int32)
    magnitude = np.minimum(np.abs(samples), _CLIP) + _BIAS
    segment = np.searchsorted(_SEG_END, magnitude)
    code = (segment << 4) | ((magnitude >> (segment + 3)) & 0x0F)
    mask = np.where(samples < 0, 0x7F, 0xFF)
    return (code ^ mask).astype(np.uint8).tobytes()


def _ulaw_table() -> np.ndarray:
    code = ~np.arange(256) & 0xFF
    magnitude = (((code & 0x0F) << 3) + _BIAS) << ((code & 0x70) >> 4)
    return np.where(code & 0x80, _BIAS - magnitude, magnitude - _BIAS).astype(np.int16)


_ULAW_TO_LINEAR = _ulaw_table()


def mulaw_decode(data: bytes) -> np.ndarray:
    """G.711 μ-law bytes as int16 PCM."""
    return _ULAW_TO_LINEAR[np.frombuffer(data, dtype=np.uint8)]


def encode(pcm: np.ndarray, rate: int, fmt: str) -> bytes:
    """Mono int16 PCM at `rate` as a file (or raw 8 kHz μ-law stream) in `fmt`, one of CONTENT_TYPES' keys."""
    if not len(pcm):
        raise ValueError("no samples to encode")
    if fmt == "wav":
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(pcm.astype("<i2").tobytes())
        return buffer.getvalue()
    if fmt == "mulaw":
        return mulaw_encode(resample(pcm, rate, PHONE_RATE))
    if fmt not in _ENCODERS:
        raise ValueError(f"unknown audio format {fmt!r}; expected one of {', '.join(CONTENT_TYPES)}")
    container_format, codec, codec_rate, bit_rate, options = _ENCODERS[fmt]
    samples = resample(pcm, rate, codec_rate)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=codec_rate, layout="mono", bit_rate=bit_rate, options=options)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = codec_rate
        frame.pts = 0
        # PyAV cuts the frame into the encoder's frame size; None flushes the encoder's look-ahead.
        for packet in (*stream.encode(frame), *stream.encode(None)):
            container.mux(packet)
    return buffer.getvalue()
