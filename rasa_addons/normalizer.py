"""Normalise message text before tokenisation, so every channel — including a raw POST to
Rasa's REST webhook — gets full-width → half-width and traditional → simplified conversion.

A message with nothing left after normalising (only invisible characters, whitespace, lone
surrogates, or the empty string) would reach the classifier without a token, and DIET fails on
that (a GraphComponentException: Rasa answers nothing). It becomes a one-token placeholder,
flagged `BLANK`, which the routing component turns into `nlu_fallback` ("please type your
question")."""

from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from core.text import normalize
from rasa_addons.components import AddonComponent

BLANK = "qiaowu_blank"  # message property: the citizen's text had nothing in it
PLACEHOLDER = "〇"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False
)
class TextNormalizer(AddonComponent):
    """Rewrites the TEXT attribute with core.text.normalize."""

    def _apply(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or text.startswith("/"):
                continue
            normalized = normalize(text)
            if not normalized:
                message.set(BLANK, True)
                normalized = PLACEHOLDER
            message.set(TEXT, normalized)
        return messages

    def process(self, messages: List[Message]) -> List[Message]:
        """Normalise incoming messages."""
        return self._apply(messages)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Normalise training examples the same way."""
        self._apply(training_data.training_examples)
        return training_data
