"""Files holding personal data (uploads, exports, error lists) are readable by the service's own account only
(security issue 16.14): folders 0700, files 0600 — created so, not loosened and tightened afterwards. The
``fangfan`` command and the WSGI entry point also set the process umask to 077 (``restrict_umask``), so that what
other code creates under the data directory (the SQLite database, staging files) is private too."""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def restrict_umask() -> None:
    os.umask(0o077)


def private_folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    path.chmod(FOLDER_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 (a writer opening it afterwards keeps the mode)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.close(fd)
    path.chmod(FILE_MODE)  # an existing file keeps its old mode through O_CREAT
    return path


def open_private(path: Path) -> BinaryIO:
    """``path`` opened for binary writing, created with mode 0600."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE), "wb")
