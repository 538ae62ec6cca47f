"""A point where the kill tests (issue 21.3) stop a process in the middle of its work, provably: when the
environment variable ``FANGFAN_TEST_PAUSE`` is a prefix of the point's name, the process writes its id to the
file ``FANGFAN_TEST_PAUSE_FILE`` and blocks there until it is killed. Unset (always, outside those tests) a
checkpoint costs one dictionary lookup; production refuses to start with it set (``settings``)."""

from __future__ import annotations

import os
import time
from pathlib import Path


def checkpoint(name: str) -> None:
    wanted = os.environ.get("FANGFAN_TEST_PAUSE")
    if not wanted or not name.startswith(wanted):
        return
    marker = os.environ.get("FANGFAN_TEST_PAUSE_FILE")
    if marker:
        Path(marker).write_text(f"{os.getpid()} {name}\n", encoding="utf-8")
    while True:  # pragma: no cover - ended by SIGKILL
        time.sleep(0.2)
