"""Coding environment for OpenEnv: real Python in a sandbox, rewarded by hidden tests.

Example::

    from coding_env import CodeAction, CodingEnv

    client = CodingEnv(base_url="http://localhost:8000")
    result = client.reset(task_id="fizzbuzz")
    print(result.observation.prompt)
    result = client.step(CodeAction(code="x = 21 * 2\\nx"))
    print(result.observation.stdout)  # 42
    result = client.step(CodeAction(code=solution, submit=True))
    print(result.reward)  # fraction of hidden tests passed
"""

from .client import AsyncCodingEnv, CodingEnv
from .models import CodeAction, CodeObservation, CodeState

__all__ = ["AsyncCodingEnv", "CodeAction", "CodeObservation", "CodeState", "CodingEnv"]
