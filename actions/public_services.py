"""Questions about public services the assistant does not handle: say where to go, not "cháu chưa hiểu"."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from ruamel.yaml import YAML

from common.text import fold

from .forms import payload_button
from .services import services


@dataclass(frozen=True)
class Directions:
    fallback: str
    services: tuple[tuple[tuple[str, ...], str], ...]  # (folded words, answer), in the file's order

    def answer(self, question: str, hotline: str) -> str:
        words = f" {fold(question)} "
        for keys, text in self.services:
            if any(f" {key} " in words for key in keys):
                return text.format(hotline=hotline)
        return self.fallback.format(hotline=hotline)


@lru_cache(maxsize=4)
def directions(path: Path) -> Directions:
    data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    return Directions(data["fallback"], tuple((tuple(fold(w) for w in entry["words"]), entry["text"])
                                              for entry in data["services"]))


class ActionPublicService(Action):
    def name(self) -> str:
        return "action_public_service"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        settings = (await services()).settings
        text = directions(settings.public_services).answer(tracker.latest_message.get("text") or "",
                                                           settings.city_hotline)
        dispatcher.utter_message(text=text, buttons=[payload_button("Gặp cán bộ", "ask_human"),
                                                     payload_button("Việc cháu giúp được", "help")])
        return []
