"""Where every task of a stuck event loop is, on SIGUSR1.

The front checks an ASGI worker's loop with PING; a loop that leaves one
unanswered past --timeout is blocked (a synchronous call in a coroutine),
and the front sends SIGUSR1 before it replaces the worker. faulthandler
(worker.py) dumps every thread's stack at once, from C; the tasks that wait
on the loop are not threads, so this adds them: for each task the chain of
coroutines it awaits, down to the line it waits on, and for the task that
holds the loop, the line it is blocked on.

Why a signal.signal handler works on a blocked loop: CPython runs Python
signal handlers in the main thread between bytecodes, and a blocking call
such as time.sleep() is interrupted by the signal (EINTR), runs the
handler, then resumes (PEP 475). A loop stuck inside one long C call that
never returns gets faulthandler's dump alone.
"""
from __future__ import annotations

import asyncio
import faulthandler
import os
import signal
import traceback


def install_task_dump(loop) -> bool:
    """SIGUSR1 writes ``loop``'s tasks to stderr after faulthandler's thread
    dump. False where it cannot be (no SIGUSR1, not the main thread)."""
    signum = getattr(signal, "SIGUSR1", None)
    if signum is None:
        return False

    def dump(_signum, frame):
        write_task_stacks(loop, frame)

    # faulthandler's dump stays first and chains to this handler: its
    # registration replaces the signal's disposition, so it is undone,
    # the Python handler installed, and faulthandler registered over it.
    was_registered = faulthandler.unregister(signum)
    try:
        signal.signal(signum, dump)
    except ValueError:
        # Not the main thread (the tests run loops in threads).
        if was_registered:
            faulthandler.register(signum, all_threads=True)
        return False
    faulthandler.register(signum, all_threads=True, chain=True)
    return True


def write_task_stacks(loop, frame=None, fd: int = 2) -> None:
    """Writes the stacks of ``loop``'s tasks to ``fd``. ``frame`` is the main
    thread's frame when the signal came: where the running task is."""
    # os.write, not sys.stderr: the handler may have interrupted a write
    # to sys.stderr, and a buffered stream refuses a reentrant call.
    os.write(fd, format_task_stacks(loop, frame).encode("utf-8", "backslashreplace"))


def format_task_stacks(loop, frame=None) -> str:
    try:
        tasks = list(asyncio.all_tasks(loop))
    except RuntimeError:
        tasks = []
    running = _running_task(loop)
    lines = ["portico: the asyncio tasks of pid %d's event loop (%d):\n" % (os.getpid(), len(tasks))]
    # The running task first: it is the one that holds the loop.
    tasks.sort(key=lambda task: task is not running)
    for task in tasks:
        if task is running:
            lines.append("Task %s, running: the event loop is blocked here\n" % _name(task))
            frames = _running_frames(task, frame)
        else:
            lines.append("Task %s, waiting\n" % _name(task))
            frames = _await_chain(task.get_coro())
        summary = traceback.StackSummary.extract(((f, f.f_lineno) for f in frames), lookup_lines=True)
        lines.extend("  " + line for line in "".join(summary.format()).splitlines(True))
    return "".join(lines)


def _running_task(loop):
    try:
        return asyncio.current_task(loop)
    except RuntimeError:
        return None


def _name(task) -> str:
    get_name = getattr(task, "get_name", None)
    return repr(get_name() if get_name is not None else task)


def _await_chain(coro) -> list:
    """The frames of ``coro`` and of the coroutines and generators it
    awaits, outermost first: a suspended task's get_stack() stops at its
    outermost coroutine, which is rarely where it waits."""
    frames = []
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is None:
            break
        frames.append(frame)
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    return frames


def _running_frames(task, frame) -> list:
    """The main thread's stack from the task's coroutine down to ``frame``."""
    if frame is None:
        return _await_chain(task.get_coro())
    stack = []
    while frame is not None:
        stack.append(frame)
        frame = frame.f_back
    stack.reverse()
    coro_frame = getattr(task.get_coro(), "cr_frame", None)
    for index, candidate in enumerate(stack):
        if candidate is coro_frame:
            return stack[index:]
    return stack
