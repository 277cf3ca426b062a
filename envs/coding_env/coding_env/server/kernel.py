"""The Python kernel: the agent's REPL, a program of its own.

:class:`~coding_env.server.environment.CodingEnvironment` starts this file's code, compiled
once by the environment, as ``python -S -s -c <loader> <code> <config>`` under
:class:`openenv.runtime.programs.Confinement` (it cannot read this package, so it cannot
be imported from it). It reads one JSON
request per line on fd 3 — ``{"code": "..."}`` — runs the code in one namespace
that lives as long as the kernel, and answers on fd 3 with
``{"exit_code": n, "error": "TypeName" | null}`` after flushing stdout and stderr.

As in the interactive interpreter, a cell whose last statement is an expression
prints that expression's ``repr`` (unless it is ``None``). An exception prints its
traceback (the kernel's own frames left out) and gives exit code 1;
``SystemExit(n)`` gives ``n`` and keeps the namespace.
"""

import sys

# `python -c` puts the working directory (the agent's workspace) first on sys.path:
# drop it before anything else is imported, so a file there cannot replace one.
sys.path[:] = [entry for entry in sys.path if entry]

# Only what every session needs, and the C-level modules where a Python one would
# import more (`_ast`, not `ast`; `_json`, not `json`, which imports `re` and `enum`;
# the channel as a file, not a `socket`; `linecache` and `random` only when something
# uses them): the kernel starts once per session, and its imports were most of its
# start-up.
import _ast  # noqa: E402
import _json  # noqa: E402
import builtins  # noqa: E402
import os  # noqa: E402


class _Plain:
    """What `_json.make_scanner` reads from a `json.JSONDecoder`: plain JSON, as `json.loads`."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float


_scan = _json.make_scanner(_Plain)


def parse(text):
    """`json.loads` for one JSON value that starts at the first character."""
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        raise ValueError("not JSON") from None
    if text[end:].strip():
        raise ValueError("extra data after JSON")
    return value


def encode(value):
    """`json.dumps` of an int, a str or None (a reply's fields)."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return _json.encode_basestring_ascii(value)
    return str(int(value))


CELLS = {}
"""The cells' sources, as `linecache` keeps them (for tracebacks and warnings)."""

WHEN_IMPORTED = {"linecache": lambda module: module.cache.update(CELLS)}
"""What is done to a module the kernel leaves out of its start-up, once something imports
it: `linecache` gets the cells' sources, and `random` (see `seed_random`) the seed."""


class _WhenImported:
    """Finishes a module of `WHEN_IMPORTED` once its first import has loaded it (only
    then: a spec looked up without loading, `importlib.util.find_spec`, leaves it due)."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name not in WHEN_IMPORTED:
            return None
        for finder in sys.meta_path:
            spec = None if finder is _WhenImported else finder.find_spec(name, path, target)
            if spec is not None:
                spec.loader = _WhenImported.Loader(spec.loader)
                return spec
        return None

    class Loader:
        def __init__(self, loader):
            self.loader = loader

        def create_module(self, spec):
            return self.loader.create_module(spec)

        def exec_module(self, module):
            self.loader.exec_module(module)
            finish = WHEN_IMPORTED.pop(module.__name__, None)
            if finish is not None:
                finish(module)


sys.meta_path.insert(0, _WhenImported)


def seed_random(seed):
    """Seed `random` as if it had been imported and seeded now: it is, when first imported
    (most cells never import it: ~2 ms of every kernel's start-up saved)."""
    module = sys.modules.get("random")
    if module is not None:
        module.seed(seed)
    else:
        WHEN_IMPORTED["random"] = lambda module: module.seed(seed)


def remember(filename, code):
    """Keep a cell's source where `linecache` finds it (now, or once imported)."""
    entry = (len(code), None, code.splitlines(True), filename)
    CELLS[filename] = entry
    linecache = sys.modules.get("linecache")
    if linecache is not None:
        linecache.cache[filename] = entry


def run_cell(code, namespace, number, memory_mb):
    """Run one cell; return the reply (exit code and error type)."""
    filename = f"<cell {number}>"
    remember(filename, code)
    try:
        tree = compile(code, filename, "exec", _ast.PyCF_ONLY_AST)  # what ast.parse does
        last = None
        if tree.body and isinstance(tree.body[-1], _ast.Expr):
            last = _ast.Expression(tree.body.pop().value)
        exec(compile(tree, filename, "exec"), namespace)
        if last is not None:
            value = eval(compile(last, filename, "eval"), namespace)
            if value is not None:
                namespace["_"] = value
                print(repr(value))
    except SystemExit as exc:
        code = exc.code
        if code is None or isinstance(code, int):
            return {"exit_code": code or 0, "error": None}
        print(code, file=sys.stderr)
        return {"exit_code": 1, "error": None}
    except MemoryError:
        print(
            f"MemoryError: the step ran out of memory (limit {memory_mb} MiB)",
            file=sys.stderr,
        )
        return {"exit_code": 1, "error": "MemoryError"}
    except BaseException as exc:  # the agent's error, reported as a traceback
        tb = exc.__traceback__
        while tb is not None and not tb.tb_frame.f_code.co_filename.startswith("<cell"):
            tb = tb.tb_next
        if isinstance(exc, SyntaxError):
            tb = None
        import traceback

        sys.stderr.write("".join(traceback.format_exception(type(exc), exc, tb)))
        return {"exit_code": 1, "error": type(exc).__name__}
    return {"exit_code": 0, "error": None}


def _lose_channel():
    try:
        os.close(3)
    except OSError:  # a fork of a fork: already gone
        pass


def main():
    config = parse(sys.argv[1])
    sys.path[:] = config["path"]
    memory_mb = config["memory_mb"]
    os.set_inheritable(3, False)  # the agent's subprocesses do not get the control channel
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # input() raises EOFError rather than reading our requests
    os.close(devnull)
    # Line-buffered: what a cell printed before it was killed (timeout, memory) still shows.
    sys.stdout.reconfigure(errors="backslashreplace", line_buffering=True)
    sys.stderr.reconfigure(errors="backslashreplace")
    # `-S` skips the site module, which is what defines exit() and quit().
    import _sitebuiltins

    builtins.exit = _sitebuiltins.Quitter("exit", "Ctrl-D (i.e. EOF)")
    builtins.quit = _sitebuiltins.Quitter("quit", "Ctrl-D (i.e. EOF)")
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    kernel_pid = os.getpid()
    # A process the agent forks returns into this loop when its cell ends: it must
    # neither answer nor read requests, so it loses the channel and leaves.
    os.register_at_fork(after_in_child=_lose_channel)
    requests = os.fdopen(3, "rb", closefd=False)
    for number, line in enumerate(requests, start=1):
        request = parse(line.decode())
        if "seed" in request:
            seed_random(request["seed"])
        reply = run_cell(request["code"], namespace, number, memory_mb)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # the agent closed or broke its own stream
                pass
        if os.getpid() != kernel_pid:
            os._exit(0)
        reply["id"] = request.get("id")
        fields = ", ".join(f'"{key}": {encode(value)}' for key, value in reply.items())
        _send(f"{{{fields}}}\n".encode())


def _send(data):
    view = memoryview(data)
    while view:
        view = view[os.write(3, view) :]


if __name__ == "__main__":
    main()
