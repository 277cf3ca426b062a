"""TRL's ``GRPOTrainer`` against OpenEnv servers, both ways TRL offers (TRL >= 1.16).

**(a) ``environment_factory``** — TRL makes one object per rollout, shows the model
its methods as tools, calls ``reset(**row)`` before generating and ``get_reward()``
after. :func:`environment_factory` builds that object's class from the server: one
tool for the environment's action (named after it: ``EchoAction`` → ``echo``, its
fields as typed arguments, its docstring and field descriptions as the tool's),
plus the environment's own MCP tools (``rules``, ...)::

    from trl import GRPOConfig, GRPOTrainer
    from openenv.integrations.trl import environment_factory

    factory = environment_factory(WordleEnv, url)            # or several URLs
    trainer = GRPOTrainer(model, args=GRPOConfig(...), train_dataset=dataset,
                          environment_factory=factory)       # reward: the episode's
    trainer.train()
    factory.close()                                          # ends every session

``reset`` forwards the dataset columns named in ``reset_keys`` (``seed``,
``task_id``, ...) as reset options and returns the opening observation as text;
``get_reward`` is the episode's return, or ``None`` (the sample is left out of the
loss, never scored 0) when the infrastructure broke the episode.

**(b) ``rollout_func``** — the trainer's own model plays whole multi-turn episodes
(``reset``, then generate → ``step`` until ``done``), one per prompt, all sessions of
an :class:`~openenv.EnvPool` stepping at once. :class:`RolloutFunction` returns what
TRL needs (``prompt_ids``, ``completion_ids``, ``logprobs``), the environment's
feedback masked out of the loss (``env_mask``) and the return as ``env_reward``,
which :func:`env_reward` passes on as the reward::

    rollout = RolloutFunction(EnvPool(WordleEnv, url, n=8), max_turns=6)
    trainer = GRPOTrainer(model, reward_funcs=env_reward, rollout_func=rollout, ...)

Observations become text with :func:`observation_text` (the ``prompt`` field where
there is one, else the fields as JSON); the model's text becomes the action's text
field (``message``, ``code``, ``command``: :func:`text_field`) unless ``parse`` says
otherwise.
"""

from __future__ import annotations

import inspect
import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from ..client import EnvClient
from ..client.envpool import EnvPool, SessionFailure
from ..errors import OpenEnvError, is_infrastructure
from ..types import Action

DEFAULT_RESET_KEYS = ("seed", "task_id", "episode_id")
"""Dataset columns passed to ``reset`` by :func:`environment_factory` (when present)."""

_JSON_TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "array": list,
    "object": dict,
}


def observation_text(observation: Any) -> str:
    """An observation as the text a language model reads.

    The ``prompt`` field where the environment writes one (the text games do),
    else the observation's fields as JSON, without ``reward``, ``done`` and
    ``metadata``.
    """
    data = (
        observation.model_dump(mode="json") if isinstance(observation, BaseModel) else observation
    )
    if isinstance(data, dict):
        prompt = data.get("prompt")
        if isinstance(prompt, str) and prompt:
            return prompt
        data = {k: v for k, v in data.items() if k not in ("reward", "done", "metadata")}
    return json.dumps(data, ensure_ascii=False)


def text_field(action_type: type[BaseModel]) -> str:
    """The action's text field (``message``, ``code``, ``command``): its one required
    ``str`` field, or else its one ``str`` field.

    Raises ``TypeError`` naming the fields when there is no such field: then pass
    ``parse=`` to say how text becomes an action.
    """
    text = [n for n, info in action_type.model_fields.items() if info.annotation is str]
    required = [n for n in text if action_type.model_fields[n].is_required()]
    for fields in (required, text):
        if len(fields) == 1:
            return fields[0]
    raise TypeError(
        f"{action_type.__name__} has no one text field ({', '.join(text) or 'none'}): "
        "pass parse= (text -> action)"
    )


def tool_name(action_type: type) -> str:
    """``EchoAction`` → ``echo``; ``GuessNumberAction`` → ``guess_number``."""
    name = action_type.__name__.removesuffix("Action") or "act"
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


# -- (a) environment_factory ------------------------------------------------------------


class ToolEnvironment:
    """One rollout's environment for TRL: a session, its tools, its reward.

    Made by :func:`environment_factory`; its public methods are exactly the tools
    (TRL lists them), plus ``reset`` and ``get_reward``.
    """

    _client_class: type[EnvClient[Any, Any, Any]]
    _urls: Sequence[str]
    _options: Mapping[str, Any]
    _reset_keys: Sequence[str]
    _text: Callable[[Any], str]
    _instances: list[ToolEnvironment]
    _lock: threading.Lock

    def __init__(self) -> None:
        with self._lock:
            index = len(self._instances)
            self._instances.append(self)
        url = self._urls[index % len(self._urls)]
        self._client = self._client_class(base_url=url, **self._options)
        self._return: float | None = 0.0
        self._done = True

    def reset(self, **row: Any) -> str:
        """Start an episode; the row's ``reset_keys`` columns are its reset options."""
        options = {k: row[k] for k in self._reset_keys if k in row}
        self._return, self._done = 0.0, False
        try:
            result = self._client.reset(**options)
        except OpenEnvError as exc:
            if not is_infrastructure(exc):
                raise
            self._return, self._done = None, True
            return f"The environment is unavailable ({exc})."
        self._add(result.reward)
        self._done = bool(result.done)
        return self._text(result.observation)

    def get_reward(self) -> float | None:
        """The episode's return; ``None`` when the infrastructure broke it (not a 0)."""
        return self._return

    def _act(self, action: Any) -> str:
        if self._done:
            return "The episode is over: no more actions."
        try:
            result = self._client.step(action)
        except OpenEnvError as exc:
            if is_infrastructure(exc):
                self._return, self._done = None, True
                return f"The environment is unavailable ({exc})."
            return f"Refused: {getattr(exc, 'message', str(exc))}"
        self._add(result.reward)
        self._done = bool(result.done)
        text = self._text(result.observation)
        return f"{text}\nThe episode is over." if self._done else text

    def _call_tool(self, name: str, arguments: dict[str, Any]) -> str:
        try:
            value = self._client.call_tool(name, **arguments)
        except OpenEnvError as exc:
            return f"Refused: {exc}"
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

    def _add(self, reward: float | None) -> None:
        if self._return is not None and reward is not None:
            self._return += float(reward)

    def _close(self) -> None:
        self._client.close()


class EnvironmentFactory:
    """What :func:`environment_factory` returns: call it for a new environment object
    (TRL does, once per concurrent rollout); :meth:`close` ends every session."""

    def __init__(self, environment_class: type[ToolEnvironment]) -> None:
        self.environment_class = environment_class

    def __call__(self) -> ToolEnvironment:
        return self.environment_class()

    @property
    def tools(self) -> list[str]:
        """The tool names the model sees."""
        return [
            name
            for name, _ in inspect.getmembers(self.environment_class, inspect.isfunction)
            if not name.startswith("_") and name not in ("reset", "get_reward")
        ]

    def close(self) -> None:
        """End every session the environment objects hold."""
        for environment in list(self.environment_class._instances):
            environment._close()
        self.environment_class._instances.clear()


def environment_factory(
    client_class: type[EnvClient[Any, Any, Any]],
    urls: str | Sequence[str],
    *,
    action_tool: str | None = None,
    mcp_tools: bool = True,
    reset_keys: Sequence[str] = DEFAULT_RESET_KEYS,
    text: Callable[[Any], str] = observation_text,
    **options: Any,
) -> EnvironmentFactory:
    """A TRL ``environment_factory`` for the environment served at ``urls``.

    ``client_class`` is the environment's sync client (its action type gives the
    action tool); ``action_tool`` renames that tool; ``mcp_tools=False`` leaves the
    server's own MCP tools out; ``options`` go to each client (``token``, ...).
    Reads the MCP tool list from the server once, here.
    """
    url_list = [urls] if isinstance(urls, str) else list(urls)
    if not url_list:
        raise ValueError("environment_factory needs at least one server URL")
    action_type = client_class.action_type
    if not (isinstance(action_type, type) and issubclass(action_type, BaseModel)):
        raise TypeError(f"{client_class.__name__} has no typed action: use the env's own client")
    name = action_tool or tool_name(action_type)
    namespace: dict[str, Any] = {
        "_client_class": client_class,
        "_urls": url_list,
        "_options": dict(options),
        "_reset_keys": tuple(reset_keys),
        "_text": staticmethod(text),
        "_instances": [],
        "_lock": threading.Lock(),
        name: _action_method(name, action_type),
    }
    if mcp_tools:
        with client_class(base_url=url_list[0], **options) as probe:
            for spec in probe.list_tools():
                if spec["name"] in namespace or spec["name"] in ("reset", "get_reward"):
                    continue
                namespace[spec["name"]] = _mcp_method(spec)
    environment_class = type(
        f"{action_type.__name__.removesuffix('Action')}Tools", (ToolEnvironment,), namespace
    )
    return EnvironmentFactory(environment_class)


def _docstring(summary: str, parameters: dict[str, str], returns: str) -> str:
    """A Google-style docstring: what ``transformers.utils.get_json_schema`` reads."""
    lines = [summary.strip() or "Act in the environment.", ""]
    if parameters:
        lines.append("Args:")
        lines += [f"    {p}: {d.strip() or p}" for p, d in parameters.items()]
        lines.append("")
    lines += ["Returns:", f"    {returns}"]
    return "\n".join(lines)


def _make_method(
    name: str,
    parameters: list[inspect.Parameter],
    doc: str,
    call: Callable[[ToolEnvironment, dict[str, Any]], str],
) -> Callable[..., str]:
    def method(self: ToolEnvironment, **arguments: Any) -> str:
        return call(self, arguments)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = doc
    self_parameter = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    method.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [self_parameter, *parameters], return_annotation=str
    )
    method.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": str}
    return method


def _tool_type(annotation: Any) -> type:
    """The JSON-schema-able type of a field for a tool's signature: ``int | None`` is
    ``int``, a ``Literal`` of strings ``str``, ``list[...]`` ``list``; else ``str``."""
    import types
    import typing

    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _tool_type(options[0]) if len(options) == 1 else str
    if origin is typing.Literal:
        values = typing.get_args(annotation)
        return type(values[0]) if values and len({type(v) for v in values}) == 1 else str
    if origin in (list, tuple, set):
        return list
    if origin is dict:
        return dict
    return annotation if annotation in _JSON_TYPES.values() else str


def _action_method(name: str, action_type: type[BaseModel]) -> Callable[..., str]:
    parameters, descriptions = [], {}
    for field_name, info in action_type.model_fields.items():
        if field_name == "metadata":
            continue
        annotation = _tool_type(info.annotation)
        default = (
            inspect.Parameter.empty
            if info.is_required()
            else info.get_default(call_default_factory=True)
        )
        parameters.append(
            inspect.Parameter(
                field_name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
            )
        )
        descriptions[field_name] = info.description or field_name
    summary = (inspect.getdoc(action_type) or "").split("\n\n")[0]
    doc = _docstring(summary, descriptions, "What the environment shows after the action.")

    def call(environment: ToolEnvironment, arguments: dict[str, Any]) -> str:
        try:
            action = action_type.model_validate(arguments)
        except ValueError as exc:
            return f"Invalid action: {exc}"
        return environment._act(action)

    return _make_method(name, parameters, doc, call)


def _mcp_method(spec: dict[str, Any]) -> Callable[..., str]:
    schema = spec.get("inputSchema") or {}
    required = set(schema.get("required", []))
    parameters, descriptions = [], {}
    for field_name, prop in (schema.get("properties") or {}).items():
        annotation = _JSON_TYPES.get(prop.get("type", "string"), str)
        default = inspect.Parameter.empty if field_name in required else prop.get("default")
        parameters.append(
            inspect.Parameter(
                field_name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
            )
        )
        descriptions[field_name] = prop.get("description") or prop.get("title") or field_name
    doc = _docstring(spec.get("description") or spec["name"], descriptions, "The tool's answer.")
    name = spec["name"]
    return _make_method(name, parameters, doc, lambda env, args: env._call_tool(name, args))


# -- (b) rollout_func -------------------------------------------------------------------


def env_reward(
    completions: list[Any], env_reward: list[float | None], **_: Any
) -> list[float | None]:
    """A TRL reward function: the environment's return for each rollout of a
    :class:`RolloutFunction` (``None`` where the infrastructure failed: left out)."""
    return list(env_reward)


class RolloutFunction:
    """A TRL ``rollout_func``: the trainer's model plays one episode per prompt.

    ``pool`` holds the sessions (as many as the generation batch); ``parse`` turns
    the model's text into an action (default: the action's :func:`text_field`);
    ``text`` an observation into the next user message; ``max_turns`` bounds an
    episode; ``max_new_tokens`` one turn's generation.
    Each episode is ``reset`` with the next seed (``seed``, ``seed + 1``, ...).
    """

    def __init__(
        self,
        pool: EnvPool[Any],
        *,
        max_turns: int = 4,
        max_new_tokens: int = 32,
        parse: Callable[[str], Any] | None = None,
        text: Callable[[Any], str] = observation_text,
        seed: int = 0,
        reset_options: Mapping[str, Any] | None = None,
        temperature: float = 1.0,
    ) -> None:
        self.pool = pool
        self.max_turns = max_turns
        self.max_new_tokens = max_new_tokens
        self.text = text
        self.seed = seed
        self.reset_options = dict(reset_options or {})
        self.temperature = temperature
        if parse is None:
            action_type = pool.client_class.action_type
            if not isinstance(action_type, type) or action_type is Action:
                raise TypeError("an untyped pool needs parse= (text -> action)")
            field = text_field(action_type)
            parse = lambda completion: action_type(**{field: completion})  # noqa: E731
        self.parse = parse
        self.episodes = 0
        """Episodes played so far."""

    def __call__(self, prompts: list[Any], trainer: Any) -> dict[str, Any]:
        import torch

        n = len(prompts)
        if n > self.pool.n:
            raise ValueError(f"{n} prompts but the pool has {self.pool.n} sessions: make it larger")
        tokenizer = trainer.processing_class
        tokenizer = getattr(tokenizer, "tokenizer", tokenizer)
        model = trainer.accelerator.unwrap_model(trainer.model)
        indices = list(range(n))
        batch = self.pool.reset(
            [self.seed + self.episodes + i for i in indices], indices=indices, **self.reset_options
        )
        self.episodes += n
        messages = [_messages(p) for p in prompts]
        returns: list[float | None] = [
            None if isinstance(e, SessionFailure) else 0.0 for e in batch
        ]
        live = [i for i in indices if not isinstance(batch[i], SessionFailure)]
        for i in live:
            returns[i] = float(batch[i].reward or 0.0)  # type: ignore[union-attr]
            messages[i] = _with_user(messages[i], self.text(batch[i].observation))  # type: ignore[union-attr]
            if batch[i].done:  # type: ignore[union-attr]
                live.remove(i)
        prompt_ids = [_encode(tokenizer, m, generation=True) for m in messages]
        completion_ids: list[list[int]] = [[] for _ in indices]
        logprobs: list[list[float]] = [[] for _ in indices]
        env_mask: list[list[int]] = [[] for _ in indices]
        for _turn in range(self.max_turns):
            if not live:
                break
            inputs = [prompt_ids[i] + completion_ids[i] for i in live]
            with torch.no_grad():
                generated, scores = _generate(
                    model, tokenizer, inputs, self.max_new_tokens, self.temperature
                )
            actions = []
            for k, i in enumerate(live):
                completion_ids[i] += generated[k]
                logprobs[i] += scores[k]
                env_mask[i] += [1] * len(generated[k])
                reply = tokenizer.decode(generated[k], skip_special_tokens=True)
                messages[i] = [*messages[i], {"role": "assistant", "content": reply}]
                actions.append(self._parse(reply))
            stepped = self.pool.step(actions, indices=live)
            still = []
            for i, entry in zip(live, stepped, strict=True):
                if isinstance(entry, SessionFailure):
                    if entry.infrastructure:
                        returns[i] = None  # not a return of 0: the sample is left out
                        continue
                    feedback = f"Refused: {entry.error}"
                else:
                    returns[i] = (returns[i] or 0.0) + float(entry.reward or 0.0)
                    if entry.done:
                        continue
                    feedback = self.text(entry.observation)
                still.append(i)
                # The environment's answer: a user turn, in the completion but not learned.
                before = _encode(tokenizer, messages[i], generation=False)
                messages[i] = _with_user(messages[i], feedback)
                after = _encode(tokenizer, messages[i], generation=True)
                suffix = after[len(before) :] if after[: len(before)] == before else after[-64:]
                completion_ids[i] += suffix
                logprobs[i] += [0.0] * len(suffix)
                env_mask[i] += [0] * len(suffix)
            live = still
        return {
            "prompt_ids": prompt_ids,
            "completion_ids": completion_ids,
            "logprobs": logprobs,
            "env_mask": env_mask,
            "env_reward": returns,
        }

    def _parse(self, reply: str) -> Any:
        try:
            return self.parse(reply)
        except ValueError:
            return self.parse("")  # text that cannot become an action: an empty one


def _messages(prompt: Any) -> list[dict[str, Any]]:
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    return [dict(m) for m in prompt]


def _with_user(messages: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """``text`` as the next user turn (added to the last one if the model has not answered)."""
    if messages and messages[-1]["role"] == "user":
        last = messages[-1]
        content = f"{last['content']}\n\n{text}" if last["content"] else text
        return [*messages[:-1], {"role": "user", "content": content}]
    return [*messages, {"role": "user", "content": text}]


def _encode(tokenizer: Any, messages: list[dict[str, Any]], generation: bool) -> list[int]:
    ids = tokenizer.apply_chat_template(
        messages, add_generation_prompt=generation, tokenize=True, return_dict=False
    )
    if isinstance(ids, dict) or hasattr(ids, "keys"):
        ids = ids["input_ids"]
    return list(ids)


def _generate(
    model: Any, tokenizer: Any, inputs: list[list[int]], max_new_tokens: int, temperature: float
) -> tuple[list[list[int]], list[list[float]]]:
    """Sample a completion per input (left-padded batch); its tokens and their logprobs."""
    import torch

    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    width = max(len(ids) for ids in inputs)
    input_ids = torch.tensor([[pad] * (width - len(ids)) + ids for ids in inputs])
    attention = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for ids in inputs])
    output = model.generate(
        input_ids=input_ids,
        attention_mask=attention,
        max_new_tokens=max_new_tokens,
        do_sample=True,
        temperature=temperature,
        top_k=0,
        top_p=1.0,
        pad_token_id=pad,
        eos_token_id=tokenizer.eos_token_id,
        return_dict_in_generate=True,
        output_scores=True,
    )
    new = output.sequences[:, width:]
    scores = model.compute_transition_scores(output.sequences, output.scores, normalize_logits=True)
    tokens, logprobs = [], []
    for row, row_scores in zip(new.tolist(), scores.tolist(), strict=True):
        if tokenizer.eos_token_id in row:
            end = row.index(tokenizer.eos_token_id) + 1
        else:
            end = len(row)
        tokens.append(row[:end])
        logprobs.append(row_scores[:end])
    return tokens, logprobs
