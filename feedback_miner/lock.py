"""One run at a time: an exclusive lock file with stale-lock recovery after a crash.

A lock is stale when its process is gone: on this host, no process with its pid *and* start time
(a reused pid is another process); from another host, its holder stopped refreshing the file's
modification time (every ``HEARTBEAT_S``) more than ``FOREIGN_STALE_S`` ago.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path

HEARTBEAT_S = 60.0
FOREIGN_STALE_S = 15 * 60.0


def process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (``/proc/<pid>/stat`` field 22); None if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


class RunLocked(Exception):
    """Another live run holds the lock (exit code 3)."""


def _alive(pid: int, started: str | None = None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    # The pid exists: the holder only if it is the same process (pids are reused after a reboot or wrap).
    return started is None or process_start(pid) in (None, started)


class RunLock:
    """``with RunLock(path):`` — created atomically (O_EXCL); a lock whose process is gone is stale
    and taken over, so a run killed with SIGKILL does not block the next night."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def _held_elsewhere(self, holder: dict) -> bool:
        if holder.get("host") == socket.gethostname():
            return _alive(int(holder.get("pid", -1)), holder.get("pid_start"))
        try:  # another host's process cannot be asked: its heartbeat (the file's mtime) must be recent
            return time.time() - self.path.stat().st_mtime < FOREIGN_STALE_S
        except OSError:
            return False

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            try:
                os.utime(self.path)
            except OSError:
                return

    def _holder(self) -> dict | None:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder is not None and self._held_elsewhere(holder):
                    raise RunLocked(
                        f"another run holds {self.path} (pid {holder.get('pid')} on {holder.get('host')}, "
                        f"since {holder.get('since')}); try again when it finishes"
                    ) from None
                # Stale (its process is gone, or no heartbeat) or unreadable (killed mid-write): take it over.
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as f:
                json.dump({"pid": os.getpid(), "pid_start": process_start(os.getpid()), "host": socket.gethostname(),
                           "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, f)
            self._stop.clear()
            self._beat = threading.Thread(target=self._heartbeat, name="run-lock-heartbeat", daemon=True)
            self._beat.start()
            return
        raise RunLocked(f"could not take {self.path}")

    def release(self) -> None:
        self._stop.set()
        holder = self._holder()
        if holder is None or holder.get("pid") == os.getpid():
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
