"""Performance fixes to Rasa 3.6 itself, applied when the add-ons are imported (model load).

- `RemoteAction._validate_action_result` calls `jsonschema.validate` for every custom-action
  reply, which re-checks the (constant) schema against its metaschema each time: 20 % of the
  Rasa server's CPU under load here (py-spy, docs/benchmarks.md). The validator is built once.
- Rasa's REST channel logs the citizen's message when handling it fails, with a traceback
  whose frames list their local variables (the text again, the sender id): personal data in the
  logs. The redacting logger keeps the event, the message length, the exception type and where
  it was raised.
"""

from __future__ import annotations

import sys
import traceback
from typing import Any

from jsonschema import validators
from jsonschema.exceptions import best_match
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

_validator: Any = None


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    global _validator
    if _validator is None:
        schema = self.action_response_format_spec()
        cls = validators.validator_for(schema)
        cls.check_schema(schema)
        _validator = cls(schema)
    error = best_match(_validator.iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            f"from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


class RedactingLogger:
    """Wraps a structlog logger: `text` becomes `text_chars`, tracebacks lose their locals."""

    def __init__(self, inner: Any):
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    @staticmethod
    def _clean(fields: dict[str, Any]) -> dict[str, Any]:
        text = fields.pop("text", None)
        if isinstance(text, str):
            fields["text_chars"] = len(text)
        return fields

    def error(self, event: str, **fields: Any) -> Any:
        return self._inner.error(event, **self._clean(fields))

    def exception(self, event: str, **fields: Any) -> Any:
        exc = sys.exc_info()[1]
        if exc is not None:
            fields["error"] = type(exc).__name__
            frames = traceback.extract_tb(exc.__traceback__)
            if frames:
                fields["raised_at"] = f"{frames[-1].filename}:{frames[-1].lineno}"
        return self._inner.error(event, **self._clean(fields))


def apply() -> None:
    """Install the patches (idempotent)."""
    from rasa.core.channels import rest

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    if not isinstance(rest.structlogger, RedactingLogger):
        rest.structlogger = RedactingLogger(rest.structlogger)
