"""Print the signatures of OpenEnv 0.10's public Python API as JSON, from whichever
``openenv`` the running Python imports (the reference's, or ours: the paths are the same).

Run by ``test_signatures.py`` once with each venv's Python; nothing else imports it.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
from typing import Any

# (module, attribute, members): the members' signatures are compared; "()" is the
# attribute itself (a function, or a class's constructor).
API: list[tuple[str, str, list[str]]] = [
    (
        "openenv.core.env_client",
        "EnvClient",
        [
            "__init__",
            "reset",
            "step",
            "state",
            "close",
            "connect",
            "disconnect",
            "sync",
            "new_session",
            "from_docker_image",
            "from_env",
            "_step_payload",
            "_parse_result",
            "_parse_state",
            "base_url",
        ],
    ),
    (
        "openenv.core.sync_client",
        "SyncEnvClient",
        [
            "__init__",
            "reset",
            "step",
            "state",
            "close",
            "connect",
            "disconnect",
            "new_session",
            "async_client",
            "_step_payload",
            "_parse_result",
            "_parse_state",
        ],
    ),
    ("openenv.core.generic_client", "GenericEnvClient", ["reset", "step", "state"]),
    ("openenv.core.generic_client", "GenericAction", ["__init__"]),
    ("openenv.core.mcp_client", "MCPToolClient", ["list_tools", "call_tool", "get_tool"]),
    ("openenv.core.client_types", "StepResult", ["()"]),
    (
        "openenv.core.env_server.interfaces",
        "Environment",
        [
            "__init__",
            "reset",
            "step",
            "reset_async",
            "step_async",
            "state",
            "close",
            "get_metadata",
            "_apply_transform",
            "_apply_rubric",
            "_reset_rubric",
        ],
    ),
    ("openenv.core.env_server.http_server", "create_app", ["()"]),
    ("openenv.core.env_server.http_server", "create_fastapi_app", ["()"]),
    ("openenv.core.env_server.http_server", "HTTPEnvServer", ["__init__", "register_routes"]),
    ("openenv.core.env_server.types", "ServerMode", ["()"]),
    ("openenv.core.env_server.types", "Action", ["()"]),
    ("openenv.core.env_server.types", "Observation", ["()"]),
    ("openenv.core.env_server.types", "State", ["()"]),
    ("openenv.core.env_server.mcp_types", "Tool", ["()"]),
    ("openenv.core.env_server.mcp_types", "ToolError", ["()"]),
    ("openenv.core.env_server.mcp_types", "ListToolsAction", ["()"]),
    ("openenv.core.env_server.mcp_types", "CallToolAction", ["()"]),
    ("openenv.core.env_server.mcp_types", "ListToolsObservation", ["()"]),
    ("openenv.core.env_server.mcp_types", "CallToolObservation", ["()"]),
    (
        "openenv.core.env_server.mcp_environment",
        "MCPEnvironment",
        [
            "__init__",
            "step",
            "step_async",
            "tool",
            "_step_impl",
            "get_callables",
            "execute_code",
            "mcp_session",
            "supports_code_mode",
            "close",
        ],
    ),
    (
        "openenv.core.rubrics",
        "Rubric",
        ["__init__", "__call__", "forward", "reset", "children", "named_children", "named_rubrics"],
    ),
    ("openenv.core.rubrics", "Gate", ["__init__"]),
    ("openenv.core.rubrics", "Sequential", ["__init__"]),
    ("openenv.core.rubrics", "WeightedSum", ["__init__"]),
    ("openenv.auto", "AutoEnv", ["from_env", "get_env_class", "get_env_info"]),
    ("openenv.auto", "AutoAction", ["from_env"]),
    ("openenv", "AutoEnv", ["from_env"]),
    ("openenv", "SyncEnvClient", ["__init__"]),
]


def describe(target: Any) -> Any:
    if isinstance(target, property):
        return "property"
    if inspect.isclass(target) and dataclasses.is_dataclass(target):
        target = target.__init__  # the reference's StepResult
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return "no signature"
    return [
        [p.name, p.kind.name, None if p.default is p.empty else repr(p.default)]
        for p in signature.parameters.values()
        if p.name not in ("self", "cls")
    ]


def main() -> None:
    out: dict[str, Any] = {}
    for module_name, attribute, members in API:
        obj = getattr(importlib.import_module(module_name), attribute)
        for member in members:
            key = f"{module_name}.{attribute}" + ("" if member == "()" else f".{member}")
            if member == "()":
                out[key] = describe(obj)
            else:
                raw = inspect.getattr_static(obj, member, None)
                if raw is None:
                    out[key] = "missing"
                elif isinstance(raw, property):
                    out[key] = "property"
                else:
                    out[key] = describe(getattr(obj, member))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
