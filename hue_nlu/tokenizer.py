"""The Rasa tokenizer of the pipeline: whitespace tokens whose lemmas are normalised Vietnamese."""
from __future__ import annotations

import unicodedata
from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from hue_nlu.normalize import REST_OF_NUMBER, lemmas, number_spans


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class VietnameseTokenizer(WhitespaceTokenizer):
    """Featurizers with `use_lemma: true` see folded standard forms; entities see the text as typed."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return WhitespaceTokenizer.get_default_config()

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        if attribute == TEXT and isinstance(message.get(TEXT), str):
            # Decomposed input (some keyboards) would match no accented lookup entry.
            message.set(TEXT, unicodedata.normalize("NFC", message.get(TEXT)))
        tokens = super().tokenize(message, attribute)
        if attribute != TEXT:
            return tokens
        for token, normal in zip(tokens, lemmas([t.text for t in tokens])):
            token.lemma = normal
        for start, end, placeholder in number_spans(message.get(TEXT)):
            inside = [t for t in tokens if start <= t.start and t.end <= end]
            for k, token in enumerate(inside):
                token.lemma = placeholder if k == 0 else REST_OF_NUMBER
        return tokens
