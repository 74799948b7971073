"""The pzpr.js engine, run by one long-lived Node process per Python process (``worker.js`` next to this file).

Requests are JSON lines over the worker's stdin, replies JSON lines on its stdout, so puzzle text only ever
travels as data. A batch is one request. If the worker dies (a crash, a kill, an engine bug) the call that was
in flight raises :class:`WorkerError` saying so, and the next call starts a fresh worker. The worker exits by
itself when its stdin closes, so it cannot outlive the Python process that started it, even a killed one.

pzpr.js comes from the ``ppbench`` package on PyPI (MIT; it vendors pzpr.js, MIT, and the golden sets). Install
it without its dependencies (``pip install --no-deps ppbench==0.1.0``): its declared ones would replace a
modern pydantic-ai with 0.0.5. This module finds its files without importing it.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import selectors
import shutil
import subprocess
import tempfile
import threading
import weakref
import zlib
from pathlib import Path
from typing import Any

from arena_envs.config import DataError

WORKER_JS = Path(__file__).with_name("worker.js")
PPBENCH_INSTALL = "pip install --no-deps ppbench==0.1.0"
MIN_NODE_MAJOR = 14
# One request carries at most this many items, so a huge batch does not become one huge JSON line.
MAX_ITEMS_PER_REQUEST = 512


class WorkerError(RuntimeError):
    """The Node worker could not be started, died, or timed out; the message says what to do."""


def ppbench_root() -> Path:
    """The installed ``ppbench`` package directory (found without importing it: its import starts a bridge)."""
    spec = importlib.util.find_spec("ppbench")
    if spec is None or not spec.submodule_search_locations:
        raise DataError(f"the ppbench package is not installed; install it with `{PPBENCH_INSTALL}`")
    return Path(next(iter(spec.submodule_search_locations)))


def pzpr_js() -> Path:
    """pzpr.js: ``$ARENA_PZPRJS`` if set, else the copy the ``ppbench`` package vendors."""
    override = os.environ.get("ARENA_PZPRJS")
    path = Path(override) if override else ppbench_root() / "vendor" / "pzprjs" / "dist" / "js" / "pzpr.js"
    if not path.is_file():
        where = "ARENA_PZPRJS" if override else "the ppbench package"
        raise DataError(f"pzpr.js not found at {path} (from {where}); reinstall it with `{PPBENCH_INSTALL}`")
    return path


def node_binary() -> str:
    """The ``node`` executable: ``$ARENA_NODE`` if set, else the one on PATH (version 14 or newer)."""
    node = os.environ.get("ARENA_NODE") or shutil.which("node")
    if not node:
        raise WorkerError(
            "Node.js is needed to check PPBench answers with pzpr.js but `node` is not on PATH; install Node.js "
            f"{MIN_NODE_MAJOR}+ (e.g. `apt install nodejs`) or set ARENA_NODE to its path"
        )
    try:
        version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
        major = int(version.lstrip("v").split(".")[0])
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        raise WorkerError(f"could not run {node} --version ({exc}); set ARENA_NODE to a working Node.js") from None
    if major < MIN_NODE_MAJOR:
        raise WorkerError(f"{node} is Node.js {version}; pzpr.js needs {MIN_NODE_MAJOR} or newer")
    return node


def _stop(proc: subprocess.Popen, stderr: Any) -> None:
    if proc.poll() is None:
        try:
            proc.stdin.close()  # the worker exits on end of input
            proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
    stderr.close()


class PzprWorker:
    """One Node process running ``worker.js``; thread-safe; restarts itself after a crash on the next call."""

    def __init__(self, *, timeout: float = 300.0) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._stderr: Any = None
        self._owner = os.getpid()
        self._next_id = 0
        self._buffer = b""
        self._finalizer: weakref.finalize | None = None
        self.restarts = -1  # how many times a worker was (re)started beyond the first

    # -- lifecycle ----------------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def _start(self) -> None:
        node, script = node_binary(), pzpr_js()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the worker
        try:
            self._proc = subprocess.Popen(
                [node, str(WORKER_JS), str(script)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                close_fds=True,
            )
        except OSError as exc:
            self._stderr.close()
            raise WorkerError(f"could not start the pzpr.js worker with {node}: {exc}") from None
        self._owner, self._buffer = os.getpid(), b""
        self._finalizer = weakref.finalize(self, _stop, self._proc, self._stderr)
        self.restarts += 1

    def close(self) -> None:
        with self._lock:
            if self._finalizer is not None and self._owner == os.getpid():
                self._finalizer()
            self._proc, self._finalizer = None, None

    def __enter__(self) -> PzprWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests -----------------------------------------------------------------------------------
    def request(self, op: str, **payload: Any) -> Any:
        """Send one request and return its result; raises WorkerError if the worker dies or times out."""
        with self._lock:
            if self._proc is not None and self._owner != os.getpid():
                # a forked child (e.g. an AsyncVectorEnv worker) gets its own Node process; the parent's
                # pipes stay the parent's
                if self._finalizer is not None:
                    self._finalizer.detach()
                self._proc, self._finalizer = None, None
            if self._proc is None or self._proc.poll() is not None:
                self._start()
            self._next_id += 1
            rid = self._next_id
            line = json.dumps({"id": rid, "op": op, **payload}, separators=(",", ":")) + "\n"
            what = f"'{op}'" + (f" of {len(payload['items'])} item(s)" if "items" in payload else "")
            try:
                self._proc.stdin.write(line.encode())
                self._proc.stdin.flush()
                reply = self._read_reply(rid, what)
            except (BrokenPipeError, ConnectionResetError):
                reply = None
            if reply is None:
                raise self._died(what)
            if not reply.get("ok"):
                raise WorkerError(f"the pzpr.js worker refused {what}: {reply.get('error')}")
            return reply["result"]

    def _read_reply(self, rid: int, what: str) -> dict[str, Any] | None:
        fd = self._proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while True:
                while b"\n" in self._buffer:
                    text, self._buffer = self._buffer.split(b"\n", 1)
                    reply = json.loads(text)
                    if reply.get("id") == rid:
                        return reply
                if not sel.select(timeout=self.timeout):
                    self._proc.kill()
                    self._proc.wait()
                    self._proc = None
                    raise WorkerError(
                        f"the pzpr.js worker did not answer {what} within {self.timeout:.0f} s and was stopped; "
                        "nothing of this batch was verified, run it again (a fresh worker starts on the next call)"
                    )
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    return None
                self._buffer += chunk

    def _died(self, what: str) -> WorkerError:
        proc, self._proc = self._proc, None
        code = proc.wait() if proc is not None else None
        tail = ""
        if self._stderr is not None:
            self._stderr.seek(0)
            tail = self._stderr.read()[-2000:].decode(errors="replace").strip()
        detail = f"; its stderr ends with: {tail}" if tail else ""
        return WorkerError(
            f"the pzpr.js worker (pid {proc.pid if proc else '?'}) exited with code {code} during {what}{detail}. "
            "Nothing of this batch was verified; run it again (a fresh worker starts on the next call)"
        )

    def batch(self, op: str, items: list[Any], key: str = "items") -> list[Any]:
        """``op`` over many items, split into requests of at most MAX_ITEMS_PER_REQUEST."""
        out: list[Any] = []
        for start in range(0, len(items), MAX_ITEMS_PER_REQUEST):
            out.extend(self.request(op, **{key: items[start : start + MAX_ITEMS_PER_REQUEST]}))
        return out


class WorkerPool:
    """Several workers, one per core: a batch is split by puzzle URL (so each worker keeps opening the same
    puzzles, and its cache stays warm) and the parts run at once. Workers start when first needed."""

    def __init__(self, size: int | None = None, *, timeout: float = 300.0) -> None:
        if size is None:
            size = int(os.environ.get("ARENA_PZPR_WORKERS", "0")) or min(os.cpu_count() or 1, 4)
        if size < 1:
            raise ValueError(f"a worker pool needs at least one worker, got {size}")
        self.workers = [PzprWorker(timeout=timeout) for _ in range(size)]

    def request(self, op: str, **payload: Any) -> Any:
        return self.workers[0].request(op, **payload)

    def batch(self, op: str, items: list[Any], key: str = "items") -> list[Any]:
        """Like :meth:`PzprWorker.batch`; if any part fails, the first failure is raised after all parts end."""
        parts: list[list[int]] = [[] for _ in self.workers]
        for i, item in enumerate(items):
            url = item if isinstance(item, str) else item["url"]
            parts[zlib.crc32(url.encode()) % len(parts)].append(i)
        busy = [(w, idx) for w, idx in zip(self.workers, parts) if idx]
        results: list[Any] = [None] * len(items)
        errors: list[BaseException] = []

        def run(worker: PzprWorker, indices: list[int]) -> None:
            try:
                for i, out in zip(indices, worker.batch(op, [items[i] for i in indices], key)):
                    results[i] = out
            except BaseException as exc:  # re-raised in the calling thread below
                errors.append(exc)

        if len(busy) == 1:
            run(*busy[0])
        else:
            threads = [threading.Thread(target=run, args=part) for part in busy]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        if errors:
            raise errors[0]
        return results

    def close(self) -> None:
        for w in self.workers:
            w.close()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_DEFAULT: WorkerPool | None = None
_DEFAULT_LOCK = threading.Lock()


def default_worker() -> WorkerPool:
    """The process-wide worker pool every PPBench puzzle set and env shares (workers start on first use;
    ``ARENA_PZPR_WORKERS`` sets its size, default one per core up to 4)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = WorkerPool()
            atexit.register(_DEFAULT.close)
        return _DEFAULT
