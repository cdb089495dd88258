"""The one `create` every add-on component shares: Rasa builds a component from its config and
its node name; a component that needs neither overrides nothing."""

from __future__ import annotations

from typing import Any, Dict, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage


class AddonComponent(GraphComponent):
    """A GraphComponent built by `from_config(config, node name)` (default: no arguments)."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        return cls.from_config(config, execution_context.node_name)

    @classmethod
    def from_config(cls, config: Dict[Text, Any], name: Text) -> GraphComponent:
        return cls()
