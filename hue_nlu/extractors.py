"""Our Rasa entity extractors: lookup entries despite typos, and numbers said in words."""
from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from common.numbers import spoken_numbers
from common.text import case_id_in, normalize_phone
from hue_nlu.fuzzy import FuzzyLookup

_WORD = re.compile(r"\S+")


def _words(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]


def _add(message: Message, extractor: EntityExtractorMixin, entities: list[dict]) -> None:
    message.set(ENTITIES, message.get(ENTITIES, []) + extractor.add_extractor_name(entities), add_to_output=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class FuzzyLookupExtractor(GraphComponent, EntityExtractorMixin):
    """Put after RegexEntityExtractor and before EntitySynonymMapper."""

    FILE = "lookup_tables.json"

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"entities": ["category", "ward", "facility", "service"]}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 tables: Optional[Dict[str, List[str]]] = None) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.tables = tables or {}
        self.lookup = FuzzyLookup(self.tables)

    @classmethod
    def create(cls, config, model_storage, resource, execution_context: ExecutionContext):
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        wanted = set(self._config["entities"])
        self.tables = {table["name"]: list(table["elements"]) for table in training_data.lookup_tables
                       if table["name"] in wanted}
        with self._model_storage.write_to(self._resource) as directory:
            (directory / self.FILE).write_text(json.dumps(self.tables, ensure_ascii=False), encoding="utf-8")
        return self._resource

    @classmethod
    def load(cls, config, model_storage, resource, execution_context, **kwargs):
        try:
            with model_storage.read_from(resource) as directory:
                tables = json.loads((directory / cls.FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            tables = {}
        return cls(config, model_storage, resource, tables)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            taken = [(e["start"], e["end"]) for e in message.get(ENTITIES, []) if "start" in e]
            _add(message, self, self.lookup.find(_words(message.get(TEXT) or ""), taken))
        return messages


class _Untrained(GraphComponent, EntityExtractorMixin):
    """An extractor that learns nothing from the training data."""

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._config = config

    @classmethod
    def create(cls, config, model_storage, resource, execution_context: ExecutionContext):
        return cls(config)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class SpokenNumberExtractor(_Untrained):
    """Phone numbers and case codes said digit by digit ("không chín không năm…", "pê a hai không…")."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            taken = [(e["start"], e["end"]) for e in message.get(ENTITIES, []) if "start" in e]
            found = []
            for start, end, digits in spoken_numbers(message.get(TEXT) or ""):
                if any(start < e and s < end for s, e in taken):
                    continue
                if digits.startswith("PA-"):
                    found.append({"entity": "case_id", "start": start, "end": end, "value": digits})
                elif normalize_phone(digits):
                    found.append({"entity": "phone", "start": start, "end": end, "value": normalize_phone(digits)})
            _add(message, self, found)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class EntityCanonicalizer(_Untrained):
    """Last before the synonyms: one entity per span, and canonical phone numbers and case codes.

    "trạm y tế Vỹ Dạ" is a facility, not also the ward inside its name; "0905 123 456" and
    "pa 2026 000 123" become "0905123456" and "PA-2026-000123".
    """

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            entities = message.get(ENTITIES, [])
            kept = [e for e in entities if "start" not in e or not any(
                o is not e and "start" in o and o["start"] <= e["start"] and e["end"] <= o["end"]
                and o["end"] - o["start"] > e["end"] - e["start"] for o in entities)]
            for entity in kept:
                canonical = {"phone": normalize_phone, "case_id": case_id_in}.get(entity["entity"])
                if canonical and canonical(str(entity["value"])):
                    entity["value"] = canonical(str(entity["value"]))
            message.set(ENTITIES, kept, add_to_output=True)
        return messages
