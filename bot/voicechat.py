"""Speech on the web chat: a recording in, the recognised text through Rasa, and the answers spoken."""
from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from voice.asr import load_recognizer
from voice.codecs import CONTENT_TYPES, AudioProblem

from .channel import Incoming, receive
from .context import BAD_SENDER, BUSY, MEMORY, RECOGNIZER, SETTINGS, SPEAKER, Refused, error, form, json_response
from .rasa import RasaUnavailable
from .webchat import valid_sender

log = logging.getLogger(__name__)

WEB_FORMATS = {"mp3", "ogg", "wav"}


async def listen(request: web.Request) -> web.Response:
    """A recording (any format a browser or phone makes) -> what was heard and the assistant's answers."""
    voice = request.app[SETTINGS].voice
    fields = await form(request, voice.max_audio_bytes + 64 * 1024,
                        AudioProblem("too_large", "upload over the size limit").message)
    sender, audio = fields.get("sender"), fields.get("audio")
    if not isinstance(sender, str) or not valid_sender(sender):
        raise Refused(400, BAD_SENDER)
    if not isinstance(audio, web.FileField):
        raise Refused(400, AudioProblem("empty", "no audio field").message, reason="empty")
    try:
        answer = await receive(request.app, Incoming(sender, voice=audio.file.read(voice.max_audio_bytes + 1)))
    except RasaUnavailable as failure:
        log.warning("rasa unavailable: %s", failure)
        return error(503, BUSY)
    return json_response({"heard": answer.heard, "messages": answer.messages})


async def speech(request: web.Request) -> web.StreamResponse:
    """One of the assistant's own replies, spoken; other texts are not synthesised for anyone."""
    fmt = request.match_info["fmt"]
    text = await request.app[MEMORY].text(request.match_info["key"])
    if text is None or fmt not in WEB_FORMATS:
        raise web.HTTPNotFound()
    speaker = request.app[SPEAKER]
    spoken = await speaker.aspeak(text, fmt)
    # A browser keeps the fixed answers a day; speech that may carry a citizen's data it does not keep.
    caching = "private, max-age=86400" if speaker.is_public(text) else "no-store"
    return web.Response(body=spoken.audio, content_type=CONTENT_TYPES[fmt], headers={"Cache-Control": caching})


def setup(app: web.Application) -> None:
    voice = app[SETTINGS].voice
    app.router.add_post("/api/voice", listen)
    app.router.add_get(r"/api/speech/{key:[0-9a-f]{32}}.{fmt:[a-z0-9]+}", speech)

    async def _load(app: web.Application) -> None:
        # Once per process, before the first caller waits for it.
        app[RECOGNIZER] = await asyncio.to_thread(load_recognizer, voice)

    app.on_startup.append(_load)
