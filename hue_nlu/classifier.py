"""The intent classifier: a logistic regression over TF-IDF word and character n-grams of the folded lemmas.

On our held-out sets it beats DIET (0.95-0.98 against 0.92-0.95 intent accuracy), trains in seconds instead
of minutes, and trains the same model every time: there is no spread between trainings to hide a change in.
A phone number says nothing about the intent of a sentence ("báo đèn hư, sdt tui 0914…" is a report), so its
placeholder is left out unless it is the whole message; case codes stay (a strong sign of a status question).
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Text, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from hue_nlu.normalize import PHONE, REST_OF_NUMBER

# A message with no word the classifier has ever seen ("asdfgh", "kkk", an emoji) is not confidently anything:
# its confidence is capped under the FallbackClassifier's threshold.
UNKNOWN_CAP = 0.05


def lemma_text(message: Message) -> str:
    """The folded lemmas; a phone number counts only when it is all there is (an answer to "số điện thoại?")."""
    lemmas = [t.lemma for t in message.get(TOKENS_NAMES[TEXT]) or [] if t.lemma and t.lemma != REST_OF_NUMBER]
    return " ".join([lemma for lemma in lemmas if lemma != PHONE] or lemmas)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"C": 100.0, "max_word_ngram": 2, "char_ngrams": [2, 5], "ranking_length": 10}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage, self._resource = model_storage, resource
        self.words = TfidfVectorizer(ngram_range=(1, self.config["max_word_ngram"]), sublinear_tf=True,
                                     token_pattern=r"\S+")
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(self.config["char_ngrams"]),
                                     sublinear_tf=True)
        self.model = LogisticRegression(C=self.config["C"], max_iter=5000)

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "LinearIntentClassifier":
        return cls(config, model_storage, resource)

    def _features(self, texts: List[str]):
        return hstack([self.words.transform(texts), self.chars.transform(texts)]).tocsr()

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        texts = [lemma_text(e) for e in examples]
        self.words.fit(texts)
        self.chars.fit(texts)
        self.model.fit(self._features(texts), [e.get(INTENT) for e in examples])
        self.persist()
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        if not hasattr(self.model, "classes_"):
            return messages  # not trained (no intent examples)
        texts = [lemma_text(m) for m in messages]
        for message, text, probabilities in zip(messages, texts, self.model.predict_proba(self._features(texts))):
            known = any(word in self.words.vocabulary_ for word in text.split())
            ranking = sorted(({"name": name, "confidence": float(p if known else min(p, UNKNOWN_CAP))}
                              for name, p in zip(self.model.classes_, probabilities)),
                             key=lambda r: -r["confidence"])[:self.config["ranking_length"]]
            message.set("intent", ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages

    # Kept as plain arrays and JSON, not pickles: loading a model never runs code from it.
    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as directory:
            (directory / "vocabularies.json").write_text(json.dumps(
                {"words": self.words.vocabulary_, "chars": self.chars.vocabulary_,
                 "classes": list(self.model.classes_)}, ensure_ascii=False), encoding="utf-8")
            np.savez(directory / "weights.npz", words_idf=self.words.idf_, chars_idf=self.chars.idf_,
                     coef=self.model.coef_, intercept=self.model.intercept_)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "LinearIntentClassifier":
        component = cls(config, model_storage, resource)
        try:
            with model_storage.read_from(resource) as directory:
                vocabularies = json.loads((directory / "vocabularies.json").read_text(encoding="utf-8"))
                weights = np.load(directory / "weights.npz")
                component.words.vocabulary_, component.chars.vocabulary_ = vocabularies["words"], vocabularies["chars"]
                component.words.idf_, component.chars.idf_ = weights["words_idf"], weights["chars_idf"]
                component.model.classes_ = np.array(vocabularies["classes"])
                component.model.coef_, component.model.intercept_ = weights["coef"], weights["intercept"]
        except ValueError:
            pass  # nothing was persisted: an untrained classifier
        return component
