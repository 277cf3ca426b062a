"""Packaging and shipping environments.

:mod:`.images` builds an environment's OCI image (``openenv build``) from a staged
context, on a base from :mod:`.base`; :mod:`.push` uploads it, to a Hugging Face
Space or an OCI registry (``openenv push``). Containers run through
:mod:`openenv.runtime.container`.
"""
