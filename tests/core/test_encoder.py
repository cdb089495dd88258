"""core.encoder: a message is embedded once per turn; a vector handed from one process to the
next is used only for exactly its text, only for that message, and never stored."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from core import encoder
from core.redaction import redact_event


def unit(i: int) -> np.ndarray:
    vector = np.zeros(encoder.DIM, dtype=np.float32)
    vector[i] = 1.0
    return vector


@pytest.fixture
def counted(monkeypatch):
    calls: list[list[str]] = []

    def fake(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        return np.stack([unit(len(t) % encoder.DIM) for t in texts])

    monkeypatch.setattr(encoder, "encode", fake)
    encoder.forget_recent()
    yield calls
    encoder.forget_recent()


def test_a_hint_for_the_text_is_used_instead_of_encoding(counted):
    hint = encoder.pack("附加证明书怎么办", unit(3))
    assert np.array_equal(encoder.vector_for("附加证明书怎么办", hint), unit(3))
    assert counted == []


@pytest.mark.parametrize(
    "hint",
    [
        None,
        "not a dict",
        encoder.pack("另一句话", unit(3)),  # computed for another text
        {**encoder.pack("附加证明书怎么办", unit(3)), "tag": "other-model"},
        {**encoder.pack("附加证明书怎么办", unit(3)), "v": "!!not base64!!"},
        {**encoder.pack("附加证明书怎么办", unit(3)), "v": base64.b64encode(b"\0" * 12).decode()},
        encoder.pack("附加证明书怎么办", unit(3) * 3),  # not an embedding: not unit length
        encoder.pack("附加证明书怎么办", np.full(encoder.DIM, np.nan, dtype=np.float32)),
    ],
)
def test_anything_else_is_ignored_and_the_text_encoded(counted, hint):
    assert np.array_equal(encoder.vector_for("附加证明书怎么办", hint), unit(8))
    assert counted == [["附加证明书怎么办"]]


def test_a_hint_never_enters_the_process_cache(counted):
    # A forged hint in a raw POST to Rasa must not change what anyone else gets for that text.
    encoder.vector_for("附加证明书怎么办", encoder.pack("附加证明书怎么办", unit(3)))
    assert encoder.recent("附加证明书怎么办") is None
    assert np.array_equal(encoder.vector_for("附加证明书怎么办"), unit(8))
    assert np.array_equal(encoder.recent("附加证明书怎么办"), unit(8))
    encoder.vector_for("附加证明书怎么办")
    assert counted == [["附加证明书怎么办"]]  # computed once, then reused


def test_the_hint_never_reaches_the_tracker_store():
    hint = encoder.pack("5678", unit(1))  # the verification answer itself
    event = {
        "event": "user",
        "text": "附加证明书怎么办",
        "metadata": {"lang": "zh", encoder.KEY: hint},
        "parse_data": {
            "text": "附加证明书怎么办",
            encoder.KEY: hint,
            "entities": [],
            "metadata": {"lang": "zh", encoder.KEY: hint},  # Rasa copies the metadata here
        },
    }
    stored = redact_event(event, verification=False)
    assert stored["metadata"] == {"lang": "zh"} == stored["parse_data"]["metadata"]
    assert encoder.KEY not in stored["parse_data"]
    assert encoder.KEY in event["metadata"]  # the running turn's event is left as it was
    secret = {**event, "text": "5678", "parse_data": {**event["parse_data"], "text": "5678"}}
    assert "5678" not in str(redact_event(secret, verification=True))
