"""Ctrl-C as itself: Beam and TFX catch the KeyboardInterrupt raised in their steps and re-raise it wrapped
(`RuntimeError: KeyboardInterrupt [while running 'Predict']`), which the CLI would report as a failure."""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator


@contextlib.contextmanager
def ctrl_c_as_interrupt() -> Iterator[None]:
    """Note each SIGINT that arrives in the block and raise KeyboardInterrupt from whatever the block then
    raises, so that the CLI ends with its one line and status 130."""
    if threading.current_thread() is not threading.main_thread():  # Only the main thread may set handlers.
        yield
        return
    pressed = []

    def interrupt(signum, frame):
        pressed.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    except BaseException:
        if pressed:
            raise KeyboardInterrupt from None
        raise
    finally:
        signal.signal(signal.SIGINT, previous)
