"""OpenApp for OpenEnv: web apps in a real browser, tasks with ground-truth rewards.

Example (the slides' quick start, against ``openenv serve openapp_env``)::

    from openapp_env import OpenAppAction, OpenAppEnv

    client = OpenAppEnv(base_url="http://localhost:8000")
    result = client.reset()
    result = client.step(OpenAppAction(action_type="goto", url="/calendar"))
    result = client.step(OpenAppAction(action_type="click", bid="add-event"))
    result = client.step(OpenAppAction(action_type="fill", bid="title", text="Meeting"))
    print(result.observation.screenshot)  # base64 PNG
    print(result.reward)
"""

from .client import AsyncOpenAppEnv, OpenAppEnv
from .models import OpenAppAction, OpenAppObservation, OpenAppState

__all__ = ["AsyncOpenAppEnv", "OpenAppAction", "OpenAppEnv", "OpenAppObservation", "OpenAppState"]
