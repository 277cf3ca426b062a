"""OpenEnv 0.10's ``MCPEnvironment``: an environment whose tools are a FastMCP server's.

An environment written the reference's way runs here unchanged::

    from fastmcp import FastMCP
    from openenv.core.env_server.mcp_environment import MCPEnvironment
    from openenv.core.env_server.types import Observation, State

    class CalculatorEnvironment(MCPEnvironment):
        def __init__(self):
            mcp = FastMCP("calculator")

            @mcp.tool
            def add(a: int, b: int) -> int:
                \"\"\"Add two integers.\"\"\"
                return a + b

            super().__init__(mcp)
            self._state = State(step_count=0)

        def reset(self, seed=None, episode_id=None, **kwargs):
            self._state = State(episode_id=episode_id, step_count=0)
            return Observation(metadata={"status": "ready"})

        def _step_impl(self, action, timeout_s=None, **kwargs):
            return Observation(metadata={"error": "use a tool"})

        @property
        def state(self):
            return self._state

Each instance's tools are its FastMCP server's (read with the ``fastmcp`` package:
``pip install 'openenv-rl[fastmcp]'``), and our server serves them as it serves
``@openenv.tool`` methods (:meth:`MCPEnvironment.instance_tools`, the table that
:mod:`openenv.server.mcp` reads): ``tools/list`` and ``tools/call`` over ``POST /mcp``
and the ``mcp`` WebSocket frame, under the session's step timeout and message limit.
``ListToolsAction`` / ``CallToolAction`` sent as steps go through ``step`` (so a
subclass's ``step`` override, and our episode rules, apply) and are answered with
``ListToolsObservation`` / ``CallToolObservation``.

Tools are read from the FastMCP server when the environment is made (register them
before ``super().__init__(mcp)``, as the reference's examples do, or later with
:meth:`MCPEnvironment.tool`). What differs from the reference is in docs/migrating.md.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from pydantic import ValidationError

from ...tools import RESERVED_TOOL_NAMES, ToolLike, too_large
from ...types import Action, Observation
from .interfaces import Environment
from .mcp_types import (
    CallToolAction,
    CallToolObservation,
    ListToolsAction,
    ListToolsObservation,
    Tool,
    ToolError,
    ToolErrorType,
)

MCP_TOOL_CALL_TIMEOUT = 30.0
"""The reference's default timeout of a tool call; here the server's step timeout applies."""

VALID_MODES = {"production", "simulation"}
INSTALL_HINT = "pip install 'openenv-rl[fastmcp]'"
_MCP_ACTIONS: dict[str, type[Action]] = {"list_tools": ListToolsAction, "call_tool": CallToolAction}

T = TypeVar("T")


def require_fastmcp() -> Any:
    """The ``fastmcp`` module, or an ImportError saying how to install it."""
    try:
        import fastmcp
    except ImportError as exc:
        raise ImportError(
            f"MCPEnvironment reads its tools with the fastmcp package, which is not "
            f"installed: {INSTALL_HINT}"
        ) from exc
    return fastmcp


def run_coroutine(coroutine: Awaitable[T]) -> T:
    """Run ``coroutine`` to its end from synchronous code (a tool called in a worker
    thread, a step, a constructor): on an event loop of its own, in a helper thread
    when this thread already runs one (as the reference's ``run_async_safely``)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_awaited(coroutine))
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="openenv-mcp") as pool:
        return pool.submit(asyncio.run, _awaited(coroutine)).result()


async def _awaited(awaitable: Awaitable[T]) -> T:
    return await awaitable


@dataclass(frozen=True)
class FastMCPTool:
    """One FastMCP tool in our tool table (the interface of :class:`openenv.tools.ToolLike`).

    ``server`` runs it (``FastMCP.call_tool``: its validation, context and result
    conversion); a tool made outside the server (a mode's tool) runs by itself. A
    synchronous function is called in the server's worker thread, an ``async def`` one
    on its event loop, as for ``@tool`` methods. A call that raises is answered with a
    JSON-RPC error, as the reference answers it (its client raises only on that).
    """

    name: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    synchronous: bool
    server: Any = None
    tool: Any = None
    errors_as_results = False  # a failing call: a JSON-RPC error, as the reference answers

    @classmethod
    def of(cls, tool: Any, server: Any) -> FastMCPTool:
        """The entry for ``tool`` (a FastMCP ``Tool``); ``server=None`` runs it alone."""
        function = getattr(tool, "fn", None)
        return cls(
            name=tool.name,
            description=tool.description or "",
            input_schema=dict(getattr(tool, "parameters", None) or {}),
            output_schema=getattr(tool, "output_schema", None),
            synchronous=function is not None and not _is_async_callable(function),
            server=server if hasattr(server, "call_tool") else None,
            tool=tool,
        )

    def describe(self, schema_key: str = "inputSchema") -> dict[str, Any]:
        described = {"name": self.name, "description": self.description}
        described[schema_key] = self.input_schema
        if schema_key == "inputSchema" and self.output_schema:
            described["outputSchema"] = self.output_schema
        return described

    def as_tool(self) -> Tool:
        return Tool(name=self.name, description=self.description, input_schema=self.input_schema)

    def bind(self, env: Any, arguments: dict[str, Any]) -> Callable[[], Any]:
        return functools.partial(self.call_blocking if self.synchronous else self.call, arguments)

    def is_async(self, env: Any) -> bool:
        return not self.synchronous

    async def call(self, arguments: dict[str, Any]) -> Any:
        """Run the tool; its FastMCP ``ToolResult``. Arguments that do not fit raise
        :class:`pydantic.ValidationError`; a failing tool, FastMCP's ``ToolError``."""
        try:
            if self.server is not None:
                return await self.server.call_tool(self.name, arguments)
            return await self.tool.run(arguments)
        except ValidationError:
            raise
        except Exception as exc:  # FastMCP's ValidationError wraps pydantic's
            cause = exc.__cause__
            if type(exc).__name__ == "ValidationError" and isinstance(cause, ValidationError):
                raise cause from None
            raise

    def call_blocking(self, arguments: dict[str, Any]) -> Any:
        """:meth:`call`, from synchronous code (a worker thread)."""
        return run_coroutine(self.call(arguments))

    def data(self, value: Any) -> Any:
        """The value a ``ToolResult`` stands for, as FastMCP's client reads it: the
        structured content (unwrapped when FastMCP wrapped a plain value), else the text
        of a lone text block, else None."""
        structured = getattr(value, "structured_content", None)
        if structured is not None:
            meta = getattr(value, "meta", None) or {}
            wrapped = (meta.get("fastmcp") or {}).get("wrap_result") or (
                self.output_schema or {}
            ).get("x-fastmcp-wrap-result")
            return structured.get("result") if wrapped else structured
        content = list(getattr(value, "content", None) or [])
        if len(content) == 1 and getattr(content[0], "type", None) == "text":
            return content[0].text
        return None

    def result(self, value: Any, max_bytes: int) -> dict[str, Any]:
        """The MCP ``CallToolResult`` of a ``ToolResult``, with ``data`` (what clients
        return); over ``max_bytes``, an error result instead, as for ``@tool`` methods."""
        content = [
            block.model_dump(mode="json", by_alias=True, exclude_none=True)
            for block in value.content
        ]
        result: dict[str, Any] = {"content": content, "isError": bool(value.is_error)}
        if value.structured_content is not None:
            result["structuredContent"] = value.structured_content
        if value.meta:
            result["_meta"] = value.meta
        result["data"] = self.data(value)
        size = len(orjson.dumps(result))
        return too_large(size, max_bytes) if size > max_bytes else result

    def client_result(self, value: Any) -> Any:
        """What the reference's ``CallToolObservation.result`` holds: FastMCP's client
        ``CallToolResult`` (``.data``, ``.content``, ``.structured_content``...)."""
        from fastmcp.client.client import CallToolResult

        return CallToolResult(
            content=list(value.content),
            structured_content=value.structured_content,
            meta=value.meta,
            data=self.data(value),
            is_error=bool(value.is_error),
        )


def _is_async_callable(function: Any) -> bool:
    while isinstance(function, functools.partial):
        function = function.func
    if inspect.isfunction(function) or inspect.ismethod(function):
        return inspect.iscoroutinefunction(function)
    return inspect.iscoroutinefunction(type(function).__call__)  # a callable object


def get_server_tools(mcp_server: Any) -> dict[str, Any]:
    """The tools of a FastMCP server, by name (FastMCP 3's ``list_tools``, or 2's
    ``get_tools``), as the reference's helper of this name."""
    if hasattr(mcp_server, "list_tools"):
        return {tool.name: tool for tool in run_coroutine(mcp_server.list_tools())}
    return dict(run_coroutine(mcp_server.get_tools()))


def _check_names(names: Iterator[str] | set[str]) -> None:
    conflicts = set(names) & RESERVED_TOOL_NAMES
    if conflicts:
        raise ValueError(
            f"MCP tools cannot use reserved names: {sorted(conflicts)}. "
            f"Reserved names are: {sorted(RESERVED_TOOL_NAMES)}"
        )


class MCPEnvironment(Environment[Any, Any, Any]):
    """OpenEnv 0.10's base of environments whose tools are a FastMCP server's.

    ``super().__init__(mcp)`` reads the tools of ``mcp`` (a ``fastmcp.FastMCP``);
    a tool named ``reset``, ``step``, ``state`` or ``close`` is refused with
    ``ValueError``. ``step`` answers ``ListToolsAction`` with a ``ListToolsObservation``
    and ``CallToolAction`` with a ``CallToolObservation``, and hands any other action
    to ``_step_impl``, which subclasses implement. A subclass may override ``step``
    (or ``step_async``) and call ``super().step(...)``, as in the reference.

    Example::

        from fastmcp import FastMCP

        class Dice(MCPEnvironment):
            def __init__(self):
                mcp = FastMCP("dice")

                @mcp.tool
                def roll(sides: int = 6) -> int:
                    \"\"\"Roll a die.\"\"\"
                    return self.rng.randint(1, sides)

                super().__init__(mcp)

            def reset(self, seed=None, episode_id=None, **kwargs):
                return Observation()

            def _step_impl(self, action, timeout_s=None, **kwargs):
                return Observation(metadata={"error": "call a tool"})

        env = Dice()
        env.reset(seed=1)
        env.step(CallToolAction(tool_name="roll", arguments={"sides": 20})).result.data

    Served by ``openenv serve`` (or ``create_app(Dice, CallToolAction,
    CallToolObservation)``), its tools answer ``tools/list``/``tools/call`` like any
    environment's, e.g. ``MCPToolClient(base_url=...).call_tool("roll", sides=20)``.
    """

    mixed_observations = True  # tool steps answer List/CallToolObservation, reset its own

    def __init__(self, mcp_server: Any, transform: Any = None) -> None:
        require_fastmcp()
        super().__init__(transform=transform)
        self.mcp_server = mcp_server
        self._mcp_client: Any = None
        self._mode_tools: dict[str, dict[str | None, Callable[..., Any]]] = {}
        self._mode_entries: dict[str, dict[str, FastMCPTool]] = {}
        self._server_tools: dict[str, FastMCPTool] = {}
        self._read_server_tools()

    @classmethod
    def validate_action(cls, data: Any) -> Any:
        """``list_tools``/``call_tool`` step data is a ``ListToolsAction``/``CallToolAction``
        when the action type allows it (``Action`` or an MCP action), as in the reference."""
        kind = data.get("type") if isinstance(data, dict) else None
        mcp_action = _MCP_ACTIONS.get(kind) if isinstance(kind, str) else None
        if mcp_action is not None and (
            cls.action_type is Action or cls.action_type in _MCP_ACTIONS.values()
        ):
            return mcp_action.model_validate(data)
        return super().validate_action(data)

    # -- the tool table ------------------------------------------------------------------

    def _read_server_tools(self) -> None:
        server = self._require_mcp_server()
        found = get_server_tools(server)
        _check_names(set(found))
        self._server_tools = {name: FastMCPTool.of(tool, server) for name, tool in found.items()}

    def instance_tools(self) -> Mapping[str, ToolLike]:
        """This instance's tools: its FastMCP server's, and those of the current mode
        (``self._mode``) registered with :meth:`tool`. What our server lists and calls."""
        if not self._mode_entries:
            return self._server_tools
        mode = getattr(self, "_mode", None)
        tools: dict[str, ToolLike] = {
            name: spec
            for name, spec in self._server_tools.items()
            if name not in self._mode_entries  # a mode's tool replaces the server's
        }
        for name, by_mode in self._mode_entries.items():
            if mode in by_mode:
                tools[name] = by_mode[mode]
        return tools

    def tool(self, mode: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator registering a tool: on the FastMCP server (``mode=None``), or for one
        mode only (``"production"`` / ``"simulation"``), listed and called when
        ``self._mode`` is that mode."""
        if mode is not None and mode not in VALID_MODES:
            raise ValueError(
                f"Invalid mode '{mode}'. Mode must be 'production', 'simulation', or None."
            )

        def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
            name = func.__name__
            if name in RESERVED_TOOL_NAMES:
                raise ValueError(
                    f"Tool name '{name}' is reserved and cannot be used. "
                    f"Reserved names are: {sorted(RESERVED_TOOL_NAMES)}"
                )
            self._mode_tools.setdefault(name, {})[mode] = func
            if mode is None:
                decorated = self._require_mcp_server().tool()(func)
                self._read_server_tools()
                return decorated
            from fastmcp.tools import FunctionTool

            entry = FastMCPTool.of(FunctionTool.from_function(func), server=None)
            self._mode_entries.setdefault(name, {})[mode] = entry
            return func

        return decorator

    # -- steps ---------------------------------------------------------------------------

    def step(self, action: Any, timeout_s: float | None = None, **kwargs: Any) -> Any:
        """``ListToolsAction`` → ``ListToolsObservation``; ``CallToolAction`` →
        ``CallToolObservation``; any other action → ``_step_impl``."""
        if isinstance(action, ListToolsAction):
            return self._handle_list_tools()
        if isinstance(action, CallToolAction):
            return self._handle_call_tool(action, timeout_s=timeout_s)
        return self._step_impl(action, timeout_s=timeout_s, **kwargs)

    async def step_async(self, action: Any, timeout_s: float | None = None, **kwargs: Any) -> Any:
        """:meth:`step` for a subclass's ``async def step_async`` calling ``super()``."""
        if isinstance(action, ListToolsAction):
            return self._handle_list_tools()
        if isinstance(action, CallToolAction):
            return await self._async_handle_call_tool(action, timeout_s=timeout_s)
        return await asyncio.to_thread(
            functools.partial(self._step_impl, action, timeout_s=timeout_s, **kwargs)
        )

    def _step_impl(self, action: Any, timeout_s: float | None = None, **kwargs: Any) -> Any:
        """Answer an action that is not an MCP action (subclasses implement it)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _step_impl()")

    def _handle_list_tools(self) -> ListToolsObservation:
        tools = [_as_tool(spec) for spec in self.instance_tools().values()]
        return ListToolsObservation(tools=tools)

    async def _async_handle_list_tools(self) -> ListToolsObservation:
        return self._handle_list_tools()

    def _handle_call_tool(
        self, action: CallToolAction, timeout_s: float | None = None
    ) -> CallToolObservation:
        spec = self.instance_tools().get(action.tool_name)
        if not isinstance(spec, FastMCPTool):
            return _not_found(action.tool_name)
        try:
            value = spec.call_blocking(action.arguments)
        except Exception as exc:
            return _failed(action.tool_name, exc)
        return _called(spec, value)

    async def _async_handle_call_tool(
        self, action: CallToolAction, timeout_s: float | None = None
    ) -> CallToolObservation:
        spec = self.instance_tools().get(action.tool_name)
        if not isinstance(spec, FastMCPTool):
            return _not_found(action.tool_name)
        try:
            if spec.synchronous:  # in a thread: a timeout abandons it, never the loop
                value = await asyncio.to_thread(spec.call_blocking, action.arguments)
            else:
                value = await spec.call(action.arguments)
        except Exception as exc:
            return _failed(action.tool_name, exc)
        return _called(spec, value)

    # -- the reference's other helpers -----------------------------------------------------

    @property
    def mcp_client(self) -> Any:
        """A ``fastmcp.Client`` of the server (in memory), made on first use; None once
        closed. Our server does not use it: it calls the tools through the table."""
        if self._mcp_client is None and self.mcp_server is not None:
            self._mcp_client = require_fastmcp().Client(self.mcp_server)
        return self._mcp_client

    @mcp_client.setter
    def mcp_client(self, client: Any) -> None:
        self._mcp_client = client

    @asynccontextmanager
    async def mcp_session(self) -> Any:
        """``async with env.mcp_session() as client``: the ``fastmcp.Client``, connected."""
        client = self._require_mcp_client()
        async with client:
            yield client

    def _require_mcp_client(self) -> Any:
        if self.mcp_client is None:
            raise RuntimeError("MCP client is not available; environment is closed")
        return self.mcp_client

    def _require_mcp_server(self) -> Any:
        if self.mcp_server is None:
            raise RuntimeError("MCP server is not available; environment is closed")
        return self.mcp_server

    def _get_server_tools(self, mcp_server: Any) -> dict[str, Any]:
        return get_server_tools(mcp_server)

    def _validate_tool_names(self, mcp_server: Any) -> None:
        _check_names(set(get_server_tools(mcp_server)))

    @property
    def supports_code_mode(self) -> bool:
        return True

    def get_callables(self) -> dict[str, Callable[..., Any]]:
        """The tools' functions by name (the current mode's), for code mode."""
        callables: dict[str, Callable[..., Any]] = {}
        for name, spec in self.instance_tools().items():
            function = getattr(getattr(spec, "tool", None), "fn", None)
            if callable(function):
                callables[name] = function
        return callables

    def execute_code(self, code: str) -> Observation:
        """Run ``code`` with the tools as functions (the reference's code mode); its
        ``result`` variable lands in ``metadata["result"]``, an error in ``["error"]``."""
        namespace: dict[str, Any] = dict(self.get_callables())
        found: dict[str, Any] = {}
        try:
            exec(code, namespace, found)
        except SyntaxError as exc:
            return Observation(reward=0.0, metadata={"error": f"Syntax error: {exc}"})
        except Exception as exc:
            return Observation(reward=0.0, metadata={"error": str(exc)})
        return Observation(reward=0.0, metadata={"result": found.get("result")})

    def close(self) -> None:
        """Drop the server and client; subclasses overriding it call ``super().close()``."""
        self._mcp_client = None
        self.mcp_server = None
        self._server_tools = {}
        self._mode_entries = {}


def _as_tool(spec: ToolLike) -> Tool:
    described = spec.describe("input_schema")
    return Tool(
        name=described["name"],
        description=described.get("description") or "",
        input_schema=described.get("input_schema") or {},
    )


def _not_found(name: str) -> CallToolObservation:
    error = ToolError(error_type=ToolErrorType.TOOL_NOT_FOUND, message=f"Unknown tool: {name!r}")
    return CallToolObservation(tool_name=name, result=None, error=error)


def _failed(name: str, exc: Exception) -> CallToolObservation:
    kind = (
        ToolErrorType.INVALID_ARGS
        if isinstance(exc, ValidationError)
        else ToolErrorType.EXECUTION_ERROR
    )
    return CallToolObservation(
        tool_name=name, result=None, error=ToolError(error_type=kind, message=str(exc))
    )


def _called(spec: FastMCPTool, value: Any) -> CallToolObservation:
    if value.is_error:  # as the reference's client raises on an error result
        text = " ".join(getattr(block, "text", "") for block in value.content)
        error = ToolError(error_type=ToolErrorType.EXECUTION_ERROR, message=text)
        return CallToolObservation(tool_name=spec.name, result=None, error=error)
    return CallToolObservation(tool_name=spec.name, result=spec.client_result(value))


__all__ = [
    "INSTALL_HINT",
    "MCP_TOOL_CALL_TIMEOUT",
    "FastMCPTool",
    "MCPEnvironment",
    "get_server_tools",
    "run_coroutine",
]
