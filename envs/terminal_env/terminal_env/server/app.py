"""ASGI app of the terminal environment: ``uvicorn terminal_env.server.app:app``.

Prefer ``openenv serve terminal_env``: it runs each session in its own sandbox, as
``openenv.yaml`` asks. This app runs sessions in-process (the shell is still
confined by Landlock and rlimits, but shares the server's network and namespaces).
"""

from openenv.server import create_app

from .environment import TerminalEnvironment

app = create_app(TerminalEnvironment)
