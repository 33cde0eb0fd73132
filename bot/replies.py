"""What the assistant last said to each sender: the buttons a spoken answer may pick, the texts it may speak."""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence

from common.choices import match_choice
from common.expected import pick


class ReplyMemory:
    """Bounded in-memory maps; losing them on restart costs only a fuzzy match or a re-synthesis."""

    def __init__(self, senders: int = 10000, texts: int = 20000):
        self._last: OrderedDict[str, list[dict]] = OrderedDict()  # sender -> the assistant's last messages
        self._texts: OrderedDict[str, str] = OrderedDict()
        self._limits = senders, texts

    def remember(self, sender: str, messages: list[dict]) -> list[dict]:
        """Note the replies; each gets the key under which its text can be spoken."""
        _put(self._last, sender, messages, self._limits[0])
        for message in messages:
            if message.get("text"):
                message["speech"] = key = text_key(message["text"])
                _put(self._texts, key, message["text"], self._limits[1])
        return messages

    def buttons(self, sender: str) -> list[dict]:
        return next((m["buttons"] for m in reversed(self._last.get(sender, [])) if m.get("buttons")), [])

    def titles(self, sender: str) -> list[str]:
        return [b["title"] for b in self.buttons(sender)]

    def understood(self, sender: str, heard: str, alternatives: Sequence[str] = ()) -> str:
        """What a spoken answer says here: the recognised text, or, when it sounds like one of the last buttons
        but its words do not name it ('cò' for 'Có'), that button's title (common.expected)."""
        titles = self.titles(sender)
        if not titles or match_choice(heard, titles) is not None:
            return heard
        picked = pick([heard, *alternatives], titles)
        return heard if picked is None else titles[picked]

    def last_texts(self, sender: str) -> list[str]:
        return [m["text"] for m in self._last.get(sender, []) if m.get("text")]

    def answer(self, sender: str, heard: str) -> str:
        """An answer (typed or recognised) that picks one of the last buttons becomes that button's payload."""
        buttons = self.buttons(sender)
        picked = match_choice(heard, [b["title"] for b in buttons]) if buttons else None
        return heard if picked is None else buttons[picked]["payload"]

    def forget(self, sender: str) -> None:
        self._last.pop(sender, None)

    def text(self, key: str) -> str | None:
        return self._texts.get(key)


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _put(store: OrderedDict, key: str, value, limit: int) -> None:
    store[key] = value
    store.move_to_end(key)
    while len(store) > limit:
        store.popitem(last=False)
