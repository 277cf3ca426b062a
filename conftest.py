"""What every test run needs, under tests/ and envs/ alike."""

import signal

# A run started as a background job of a non-interactive shell (`cmd &` in a CI
# script) inherits SIGINT ignored, as POSIX says, and Python then leaves it ignored:
# Ctrl-C would do nothing, in this process and in every server and demo it starts (an
# exec keeps "ignored"). The Ctrl-C tests need what a user's terminal gives: the default.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
