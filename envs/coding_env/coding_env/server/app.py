"""ASGI app of the coding environment: ``uvicorn coding_env.server.app:app``.

Prefer ``openenv serve coding_env``: it runs each session in its own sandbox, as
``openenv.yaml`` asks. This app runs sessions in-process (the kernel is still
confined by Landlock and rlimits, but shares the server's network and namespaces).
"""

from openenv.server import create_app

from .environment import CodingEnvironment

app = create_app(CodingEnvironment)
