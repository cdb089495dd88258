"""Performance fixes to Rasa 3.6 itself, applied when the add-ons are imported (model load).

- `RemoteAction._validate_action_result` calls `jsonschema.validate` for every custom-action
  reply, which re-checks the (constant) schema against its metaschema each time: 20 % of the
  Rasa server's CPU under load here (py-spy, docs/benchmarks.md). The validator is built once.
- Rasa's REST channel logs the citizen's message when handling it fails, with a traceback
  whose frames list their local variables (the text again, the sender id): personal data in the
  logs. The redacting logger keeps the event, the message length, the exception type and where
  it was raised.
- Elsewhere Rasa writes citizens' data into its own log lines: the sender id (a widget session
  id is a bearer credential) in "Circuit breaker tripped … for sender '…'" and other processor
  warnings, and a message typed as an intent ("/inform{…}") with its entity values in the story
  reader's "Failed to parse arguments in line '…'" warning. A log-record factory replaces quoted
  sender ids by a short hash (still correlatable) and the warning's quoted line by its length.
"""

from __future__ import annotations

import hashlib
import logging
import re
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
            cause = exc
            while cause.__cause__ is not None and cause.__cause__ is not cause:
                cause = cause.__cause__
            if cause is not exc:  # Rasa wraps a component's error in GraphComponentException
                fields["cause"] = type(cause).__name__
                inner = traceback.extract_tb(cause.__traceback__)
                if inner:
                    fields["cause_at"] = f"{inner[-1].filename}:{inner[-1].lineno}"
        return self._inner.error(event, **self._clean(fields))


_SENDER = re.compile(r"(sender(?:[ _]id)?\s*[=:]?\s*)'([^']*)'", re.IGNORECASE)
_PARSED_LINE = re.compile(r"(arguments in line )'.*?'(\. (?:Expected|Failed))", re.DOTALL)


def _sender_hash(sender: str) -> str:
    return "#" + hashlib.sha256(sender.encode("utf-8")).hexdigest()[:10]


def redact(message: str) -> str:
    """A Rasa log line without sender ids or the text of a message parsed as an intent."""
    message = _SENDER.sub(lambda m: f"{m.group(1)}'{_sender_hash(m.group(2))}'", message)
    return _PARSED_LINE.sub(lambda m: f"{m.group(1)}(redacted){m.group(2)}", message)


def _redacting_factory(inner: Any) -> Any:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = inner(*args, **kwargs)
        if record.name.startswith(("rasa", "py.warnings")) and isinstance(record.msg, str):
            try:
                text = record.getMessage()
            except (TypeError, ValueError):
                return record
            cleaned = redact(text)
            if cleaned != text:
                record.msg, record.args = cleaned, ()
        return record

    factory._qiaowu_redacting = True  # type: ignore[attr-defined]  # marks it installed
    return factory


def _redacting_warning(inner: Any) -> Any:
    def raise_warning(message: str, *args: Any, **kwargs: Any) -> None:
        return inner(redact(message) if isinstance(message, str) else message, *args, **kwargs)

    raise_warning._qiaowu_redacting = True  # type: ignore[attr-defined]  # marks it installed
    return raise_warning


def apply() -> None:
    """Install the patches (idempotent)."""
    from rasa.core.channels import rest

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    if not isinstance(rest.structlogger, RedactingLogger):
        rest.structlogger = RedactingLogger(rest.structlogger)
    import rasa.shared.utils.io as rasa_io

    if not getattr(rasa_io.raise_warning, "_qiaowu_redacting", False):
        rasa_io.raise_warning = _redacting_warning(rasa_io.raise_warning)
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "_qiaowu_redacting", False):
        logging.setLogRecordFactory(_redacting_factory(factory))
