"""One big file cleaned in two processes: the split, and the worker process.

A province's enterprise file is a million rows of Python work (cleaning, hashing,
building records, encoding JSON) that one core does while the other idles. A file of
at least :data:`MIN_ROWS` rows is therefore split by key: the run's own process cleans
and writes the lower keys, a forked worker cleans the upper keys and prepares their
records in a scratch folder (:mod:`graph.prepared`), which the run's writer then
copies in. Only the run's process touches the store, so a run is still one transaction.
The worker's part comes in chunks by key range, each announced when it is ready, so
that the run's process copies one in while the worker cleans the next: the worker can
take the larger share without the run's process waiting for all of it.

The split is by key range, not by position: every row of one key (duplicates,
conflicting or not) lands in the same part and chunk, so each is cleaned exactly as the
whole file would be; and each one's keys are contiguous, so the writes, lowest keys
first, stay B-tree appends. The result does not depend on where the split falls (tested).

Fork, not spawn: the worker needs the read table and the store's row states, which a
forked child shares without copying them first (the pages it touches are copied as it
goes) and a spawned one would have to be sent. Where there is
no fork (Windows), or only one core, files are cleaned in one process.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import shutil
import signal
import sys
import tempfile
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Generic, TypeVar

from graph.errors import FugaiError, UsageError

T = TypeVar("T")

#: files smaller than this are cleaned in one process, where the fork and the handover
#: would cost about what the second core wins. On the city demo (95k enterprises, 35k
#: members) this threshold took the first ingest from 18.0 s to 14.5-15.7 s
MIN_ROWS = 30_000
#: the worker's share of the rows. A row costs the worker less than the run's process,
#: which writes its own rows into the store as it goes and then copies the worker's
#: chunks in. On the province (alternating runs, in seconds): 0.7 70.1 and 74.3, 0.75
#: 69.7, 0.8 73.9 and 72.8 (the run's process waited for the worker)
WORKER_SHARE = 0.7
#: rows per chunk of the worker's part. Smaller chunks start the copying sooner and
#: leave a shorter last chunk to wait for; each costs a cleaning call's set-up
CHUNK_ROWS = 50_000
#: keys sampled to place the split
_SAMPLE = 20_000


def new_scratch(directory: Path) -> Path:
    """A run's scratch folder for its workers' prepared rows, named after the run's pid."""
    return Path(tempfile.mkdtemp(prefix=f".scratch-{os.getpid()}-", dir=directory))


def remove_dead_scratch(directory: Path) -> None:
    """Delete scratch folders whose run is dead: a run killed after its worker prepared
    a province's half leaves about a gigabyte behind. A folder whose process is alive
    (another run, on another store) or cannot be told is left alone."""
    if os.name != "posix":   # os.kill(pid, 0) is a probe only on POSIX
        return
    for folder in directory.glob(".scratch-*-*"):
        try:
            os.kill(int(folder.name.split("-")[1]), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (ValueError, PermissionError, OverflowError):
            continue


class WorkerFailed(FugaiError):
    """The worker process that cleaned part of a file died or failed."""

    exit_code = 1
    title = "导入失败"


def workers(setting: int) -> int:
    """Processes to clean a big file with, from ``FUGAI_INGEST_WORKERS`` (0 = automatic:
    2 where fork exists and 2 cores are ours). Only the command line uses more than
    one: the API server runs threads, and forking a process that runs threads is not
    safe."""
    if setting not in (0, 1, 2):
        raise UsageError(f"FUGAI_INGEST_WORKERS 应为 0 (自动)、1 或 2, 而不是 {setting}")
    if setting == 2 and not hasattr(os, "fork"):
        raise UsageError("FUGAI_INGEST_WORKERS=2 需要支持 fork 的系统 (Linux); 请设为 0 或 1")
    if setting:
        return setting
    if not hasattr(os, "fork"):
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return 2 if (cores or 1) >= 2 else 1


def split(keys: Sequence[str | None], share: float,
          chunk_rows: int) -> tuple[list[int], list[list[int]]]:
    """Row positions of the run's part of a file, and of the worker's part in chunks.

    The worker takes the rows whose key is at or above a pivot placed so that it gets
    about ``share`` of the keyed rows, in chunks of about ``chunk_rows`` rows by key
    range, lowest keys first: the run's process copies a chunk in while the worker
    cleans the next. Rows without a valid key (they will be quarantined) stay with the
    run's part. Within a part or a chunk, positions keep the file's order.
    """
    step = max(1, len(keys) // _SAMPLE)
    sample = sorted(k for k in keys[::step] if k is not None)
    if not sample:
        return list(range(len(keys))), []
    first = min(len(sample) - 1, int(len(sample) * (1 - share)))
    theirs_rows = (len(sample) - first) * step
    count = max(1, -(-theirs_rows // max(1, chunk_rows)))
    # each chunk starts at a sampled key: equal keys always fall in one chunk
    pivots = sorted({sample[first + (len(sample) - first) * j // count] for j in range(count)})
    mine: list[int] = []
    chunks: list[list[int]] = [[] for _ in pivots]
    for i, key in enumerate(keys):
        at = -1 if key is None else bisect_right(pivots, key) - 1
        (mine if at < 0 else chunks[at]).append(i)
    return mine, [c for c in chunks if c]


#: what a worker's job calls to tell the run's process that a piece of its answer is
#: ready before the whole is (a chunk's folder, say)
Announce = Callable[[str], None]


class Worker(Generic[T]):
    """A forked process computing ``work(announce)``; :meth:`announced` yields what it
    announces as it goes, :meth:`result` waits for its answer.

    The child never returns into the caller's stack: it runs ``work``, pickles the
    answer (or the exception) to a file in ``scratch`` and leaves with ``os._exit``,
    so no ``finally`` or context manager of the parent (a store transaction above all)
    runs twice. It dies with its parent, so a killed run leaves no worker behind.
    Announcements travel one line each through a pipe, which the child's exit closes.
    """

    def __init__(self, work: Callable[[Announce], T], scratch: Path) -> None:
        self._answer = scratch / f"worker-{os.getpid()}-{id(self)}.pickle"
        sys.stdout.flush()
        sys.stderr.flush()
        parent = os.getpid()
        read_end, write_end = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            raise
        if pid == 0:   # the child
            code = 1
            try:
                os.close(read_end)
                _die_with_parent(parent)
                outcome: tuple[str, object] = ("ok", work(partial(_announce, write_end)))
                code = 0
            except BaseException as exc:   # noqa: BLE001 - every failure goes to the parent
                outcome = ("error", _portable(exc))
            try:
                with self._answer.open("wb") as fh:
                    pickle.dump(outcome, fh, protocol=pickle.HIGHEST_PROTOCOL)
            finally:
                os._exit(code)
        os.close(write_end)
        self._lines = os.fdopen(read_end, "rb")
        self.pid = pid
        self._reaped = False

    def announced(self) -> Iterator[str]:
        """What the worker announces, as it does; ends when the worker has finished
        (or died: :meth:`result` then says how)."""
        for line in self._lines:
            yield line.decode().rstrip("\n")

    def result(self) -> T:
        """The worker's answer; its exception raised here if it failed."""
        self._lines.close()
        _, status = os.waitpid(self.pid, 0)
        self._reaped = True
        try:
            with self._answer.open("rb") as fh:
                kind, value = pickle.load(fh)
        except (OSError, EOFError, pickle.UnpicklingError):
            raise WorkerFailed(
                f"后台清洗进程异常退出 ({_status_text(status)}); 本次导入未写入任何数据") from None
        finally:
            self._answer.unlink(missing_ok=True)
        if kind == "error":
            raise value
        return value  # type: ignore[no-any-return]

    def stop(self) -> None:
        """Kill and reap the worker if it still runs (the run failed before its answer).
        A reaped worker's pid may already be another process's: it is left alone."""
        self._lines.close()
        if not self._reaped:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self._reaped = True
        self._answer.unlink(missing_ok=True)


def _announce(fd: int, what: str) -> None:
    # one short line (under PIPE_BUF, so written whole); the run's process reads each
    # as it comes, so a file's few dozen never fill the pipe
    os.write(fd, what.encode() + b"\n")


def _portable(exc: BaseException) -> BaseException:
    """The exception itself when it survives pickling, else a WorkerFailed naming it."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:   # noqa: BLE001 - any unpicklable exception
        return WorkerFailed(f"后台清洗进程出错: {type(exc).__name__}: {exc}")


def _status_text(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"信号 {os.WTERMSIG(status)}"
    return f"退出码 {os.waitstatus_to_exitcode(status)}"


def _die_with_parent(parent: int) -> None:
    """Ask Linux to kill this process when its parent dies (PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)   # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:   # the parent died before the request was in place
        os._exit(1)
