"""ASGI app of the coding environment: ``uvicorn coding_env.server.app:app``.

Like ``openenv serve coding_env``, it runs each session in its own sandbox: the
environment runs agent-supplied code, so ``create_app`` picks ``isolation="sandbox"``
for it (``CodingEnvironment.requires_sandbox``), and refuses ``"none"`` unless told
``unsandboxed_agent_code=True`` (see docs/rewards.md).
"""

from openenv.server import create_app

from .environment import CodingEnvironment

app = create_app(CodingEnvironment)
