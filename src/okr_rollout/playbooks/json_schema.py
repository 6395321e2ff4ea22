"""JSON Schema of a playbook file, for editors: structure plus every kind's params."""

from __future__ import annotations

from typing import Any

from okr_rollout.playbooks.kinds import CADENCE_KINDS, GATE_KINDS, KindParams
from okr_rollout.playbooks.schema import Playbook

_REFERENCE = {"type": "string", "pattern": r"^\$[a-z][a-z0-9_]*$", "description": "a $parameter"}


def playbook_json_schema() -> dict[str, Any]:
    schema = Playbook.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    definitions = schema.setdefault("$defs", {})
    definitions["Criterion"]["properties"]["kind"] = {"enum": sorted(GATE_KINDS)}
    definitions["Criterion"]["allOf"] = _params_by_kind(GATE_KINDS, definitions)
    definitions["Cadence"]["properties"]["kind"] = {"enum": sorted(CADENCE_KINDS)}
    definitions["Cadence"]["allOf"] = _params_by_kind(CADENCE_KINDS, definitions)
    return schema


def _params_by_kind(kinds: dict[str, type[KindParams]], definitions: dict[str, Any]) -> list[dict[str, Any]]:
    rules = []
    for kind, model in sorted(kinds.items()):
        params = model.model_json_schema()
        definitions.update(params.pop("$defs", {}))
        properties = {
            name: {"anyOf": [prop, _REFERENCE]} for name, prop in params.get("properties", {}).items()
        }
        rules.append(
            {
                "if": {"properties": {"kind": {"const": kind}}},
                "then": {
                    "properties": {
                        "params": {
                            "type": "object",
                            "properties": properties,
                            "required": params.get("required", []),
                            "additionalProperties": False,
                        }
                    }
                },
            }
        )
    return rules
