"""The ``openenv`` command line: ``init``, ``serve``, ``list``, ``demo``.

Run ``openenv --help``; the entry point is :func:`openenv.cli.main.main`.
"""
