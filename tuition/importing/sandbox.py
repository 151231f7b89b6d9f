"""Run a parser in a child process that may use only so much memory and so much time.

An uploaded spreadsheet is a program for the parser that reads it: a 300 KB XLSX can expand to
gigabytes of XML, a shared-string table can hold one 400 MB string, a CSV header can ask for
60,000 columns on every row. The reader (:mod:`tuition.importing.sheets`) refuses what it can
see coming; this module is the backstop for what it cannot. The child's address space is capped
(``RLIMIT_AS``, so an allocation past the cap fails inside the child, never in the server) and
the parent waits a bounded time, then kills it. Either way the server answers a clear 4xx and
its own memory is untouched.

Children are forked by a fork server (a small, single-threaded process started once per server
process, with the spreadsheet libraries already imported): forking the server itself would copy
its threads' locks and its database connections, and starting a fresh interpreter per upload
would cost a few hundred milliseconds. A child costs a few tens of milliseconds.

Pure standard library; no Flask. The web app sets the budget from its configuration
(``TUITION_IMPORT_SECONDS``, ``TUITION_IMPORT_MEMORY_MB``) through :func:`configure`.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import resource
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from multiprocessing import context as mp_context
from multiprocessing import forkserver, popen_forkserver, reduction, spawn, util
from typing import Any, TypeVar

_T = TypeVar("_T")

#: Modules the fork server imports once, so each child starts with them loaded.
PRELOAD = ["tuition.importing.sheets"]


@dataclass(frozen=True)
class Budget:
    """What one parse may use: wall-clock seconds and address space in MB."""

    seconds: float = 30.0
    #: The child's whole address space (the interpreter and libraries take about 100 MB).
    memory_mb: int = 512


_budget = Budget()


def configure(*, seconds: float | None = None, memory_mb: int | None = None) -> Budget:
    """Set this process's budget (the app factory calls this from its configuration)."""
    global _budget
    changes = {name: value for name, value in (("seconds", seconds), ("memory_mb", memory_mb))
               if value is not None}
    if "seconds" in changes and not float(changes["seconds"]) > 0:
        raise ValueError("the import time budget must be positive")
    if "memory_mb" in changes and int(changes["memory_mb"]) < 128:
        raise ValueError("the import memory budget must be at least 128 MB")
    _budget = replace(_budget, **changes)
    return _budget


def current_budget() -> Budget:
    return _budget


class Exhausted(Exception):
    """The child did not finish within its budget (see the subclasses)."""


class OutOfMemory(Exhausted):
    """The child needed more memory than its budget (or died without a word)."""


class OutOfTime(Exhausted):
    """The child was still working when its time was up; it was killed."""


class ChildFailed(Exception):
    """The function raised something the caller did not declare; ``details`` is the
    child's traceback, for the log."""

    def __init__(self, details: str) -> None:
        super().__init__(details.strip().splitlines()[-1] if details.strip() else "failed")
        self.details = details


_context_lock = threading.Lock()
_context: Any = None


def _fork_server() -> Any:
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
            _context = context
        return _context


class _Popen(popen_forkserver.Popen):
    """The standard library's fork-server launch, except that the child is not told to
    import the parent's ``__main__``.

    multiprocessing has every child run the parent's main script again (as ``__mp_main__``)
    so that functions defined there can be unpickled. A parser child needs none of it: under
    gunicorn or ``flask`` that is only wasted time on every upload, and a script without an
    ``if __name__ == "__main__"`` guard that reads an upload would start over in the child and
    fail. The body is ``popen_forkserver.Popen._launch`` (the same in Python 3.11 to 3.13)
    with the two ``init_main_*`` entries dropped.
    """

    def _launch(self, process_obj: Any) -> None:
        prep_data = spawn.get_preparation_data(process_obj._name)
        prep_data.pop("init_main_from_path", None)
        prep_data.pop("init_main_from_name", None)
        buf = io.BytesIO()
        mp_context.set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            mp_context.set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)
        _parent_w = os.dup(w)
        self.finalizer = util.Finalize(self, util.close_fds, (_parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _Process(mp_context.ForkServerProcess):
    @staticmethod
    def _Popen(process_obj: Any) -> _Popen:
        return _Popen(process_obj)


def run(function: Callable[..., _T], *args: Any,
        expected: tuple[type[BaseException], ...] = (), budget: Budget | None = None) -> _T:
    """``function(*args)`` in a child process within ``budget`` (default: this process's).

    Returns what it returns. An exception it raises that is one of ``expected`` is raised here
    as is (it must pickle); anything else becomes :class:`ChildFailed`. Raises
    :class:`OutOfMemory` or :class:`OutOfTime` when the budget runs out. ``function`` and its
    arguments must pickle (a module-level function).
    """
    budget = budget or _budget
    context = _fork_server()
    receiver, sender = context.Pipe(duplex=False)
    child = _Process(
        target=_child, args=(sender, budget.memory_mb * 1024 * 1024, function, args),
        daemon=True, name="tuition-import")
    try:
        child.start()
    except BaseException:
        receiver.close()
        raise
    finally:
        sender.close()  # the child has its own end now (or never will)
    try:
        # poll() is also true when the child died (the pipe is closed): recv() then raises.
        if not receiver.poll(budget.seconds):
            raise OutOfTime()
        try:
            message = receiver.recv()
        except (EOFError, OSError):
            # Killed by the kernel, or aborted inside a C library that could not allocate.
            raise OutOfMemory() from None
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receiver.close()
    kind = message[0]
    if kind == "ok":
        return message[1]
    if kind == "memory":
        raise OutOfMemory()
    exception, details = message[1], message[2]
    if expected and isinstance(exception, expected):
        raise exception
    raise ChildFailed(details)


def _child(sender: Any, memory_bytes: int, function: Callable[..., Any], args: tuple) -> None:
    """In the child: cap the address space, run, send one message back."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    # A crash must not write a core file the size of the cap.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        message: tuple = ("ok", function(*args))
    except MemoryError:
        message = ("memory",)
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
        message = ("raised", exc, traceback.format_exc())
    try:
        sender.send(message)
    except MemoryError:
        sender.send(("memory",))
    except Exception:  # the result or the exception did not pickle
        sender.send(("raised", None, traceback.format_exc()))
    finally:
        sender.close()
