"""ASGI app of the terminal environment: ``uvicorn terminal_env.server.app:app``.

Like ``openenv serve terminal_env``, it runs each session in its own sandbox: the
environment runs agent-supplied code, so ``create_app`` picks ``isolation="sandbox"``
for it (``TerminalEnvironment.requires_sandbox``), and refuses ``"none"`` unless told
``unsandboxed_agent_code=True`` (see docs/rewards.md).
"""

from openenv.server import create_app

from .environment import TerminalEnvironment

app = create_app(TerminalEnvironment)
