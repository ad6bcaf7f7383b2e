"""Files only the user Deskhand runs as may read: the data directory and the key files in it."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def make_private_dir(path: Path) -> None:
    """`path` as a directory only its owner may enter: created 0700, tightened when it is ours."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.stat()
    if info.st_uid == os.geteuid() and info.st_mode & 0o077:
        path.chmod(0o700)


def private_file(path: Path, make: Callable[[], str]) -> str:
    """The text of `path`, created 0600 with `make()` when missing. The file is written under a
    temporary name and linked into place, so neither another user nor another process starting
    at the same moment ever sees it readable or half-written."""
    if not path.exists():
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(descriptor, "w") as handle:  # mkstemp: O_CREAT | O_EXCL, mode 0600
                handle.write(make())
            with contextlib.suppress(FileExistsError):  # another process made it first: theirs is the key
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    return path.read_text().strip()
