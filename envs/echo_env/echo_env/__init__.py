"""Echo environment for OpenEnv.

Example::

    from echo_env import EchoAction, EchoEnv

    client = EchoEnv(base_url="http://localhost:8000")
    result = client.reset()
    result = client.step(EchoAction(message="hi"))
    print(result.observation.echoed_message, result.reward)  # hi 0.2
"""

from .client import AsyncEchoEnv, EchoEnv
from .models import EchoAction, EchoObservation

__all__ = ["AsyncEchoEnv", "EchoAction", "EchoEnv", "EchoObservation"]
