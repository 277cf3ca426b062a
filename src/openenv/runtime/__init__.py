"""Where environments run: in-process, or one sandboxed worker per session.

See :mod:`openenv.runtime.sandbox` for the sandbox policy (with :mod:`.cgroups` for
its memory, pids and CPU limits and :mod:`.seccomp` for its system call filter),
:mod:`.worker` for the process inside it, :mod:`.isolated` for the server-side
proxy and :mod:`.pool` for the warm pool that makes a new isolated session cost
milliseconds.
"""
