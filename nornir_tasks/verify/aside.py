"""Run one half of a proof in a forked process, beside the other half.

The proof's halves read the same parsed configs (millions of objects): a forked child
inherits them for free, where sending them to a worker would cost more than the work.
The child sends back only its result (findings and check rows), pickled through a pipe.
Where ``fork`` is not available, or ``FELLESNETT_NO_FORK`` is set, the work runs in
this process when its result is asked for: same result, one core.
"""

from __future__ import annotations

import os
import pickle
import sys
import traceback
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Aside(Generic[T]):
    """The pending result of :func:`run_aside`."""

    def __init__(self, fn: Callable[[], T]) -> None:
        self._fn: Callable[[], T] | None = fn
        self._pid = 0
        self._fd = -1
        if hasattr(os, "fork") and not os.environ.get("FELLESNETT_NO_FORK"):
            self._start()

    def _start(self) -> None:
        read, write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: run, send, leave without running the parent's cleanups
            os.close(read)
            status = 0
            try:
                assert self._fn is not None
                data = pickle.dumps(("ok", self._fn()), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException as exc:  # noqa: BLE001 - every failure goes to the parent
                status = 1
                data = pickle.dumps(("error", f"{type(exc).__name__}: {exc}\n"
                                              f"{traceback.format_exc()}"))
            try:
                with os.fdopen(write, "wb") as out:
                    out.write(data)
            finally:
                os._exit(status)
        os.close(write)
        self._pid, self._fd = pid, read
        self._fn = None

    def result(self) -> T:
        if self._fn is not None:
            fn, self._fn = self._fn, None
            return fn()
        with os.fdopen(self._fd, "rb") as src:
            data = src.read()
        _, status = os.waitpid(self._pid, 0)
        if not data:
            raise RuntimeError(f"the forked proof process died (wait status {status})")
        kind, value = pickle.loads(data)
        if kind == "error":
            raise RuntimeError(f"the forked proof process failed: {value}")
        return value  # type: ignore[no-any-return]


def run_aside(fn: Callable[[], T]) -> Aside[T]:
    """Start ``fn`` in a forked child now; :meth:`Aside.result` waits for its value."""
    return Aside(fn)
