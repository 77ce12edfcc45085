"""One run at a time: an exclusive lock file with stale-lock recovery after a crash."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path


class RunLocked(Exception):
    """Another live run holds the lock (exit code 3)."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunLock:
    """``with RunLock(path):`` — created atomically (O_EXCL); a lock whose process is gone is stale
    and taken over, so a run killed with SIGKILL does not block the next night."""

    def __init__(self, path: Path):
        self.path = Path(path)

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
                same_host = holder is not None and holder.get("host") == socket.gethostname()
                if holder is not None and (not same_host or _alive(int(holder.get("pid", -1)))):
                    raise RunLocked(
                        f"another run holds {self.path} (pid {holder.get('pid')} on {holder.get('host')}, "
                        f"since {holder.get('since')}); try again when it finishes"
                    ) from None
                # Stale (its process is gone) or unreadable (killed mid-write): take it over.
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as f:
                json.dump({"pid": os.getpid(), "host": socket.gethostname(),
                           "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, f)
            return
        raise RunLocked(f"could not take {self.path}")

    def release(self) -> None:
        holder = self._holder()
        if holder is None or holder.get("pid") == os.getpid():
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
