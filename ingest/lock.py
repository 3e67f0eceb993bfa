"""One ingest at a time per index: a second one waits (or refuses, with wait=False)."""
from __future__ import annotations

import contextlib
import fcntl
import sys
from collections.abc import Iterator

from chromadb.api import ClientAPI

from bot.settings import Settings


class IngestBusy(Exception):
    """Another ingest holds the lock."""


@contextlib.contextmanager
def ingest_lock(settings: Settings, client: ClientAPI, wait: bool = True) -> Iterator[None]:
    """An exclusive lock file in the data folder, released by the OS if the process dies.

    With a Chroma server, ingests must run from one machine (or share the data folder),
    since the lock lives on this machine's disk.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / f"{settings.collection}.ingest.lock"
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise IngestBusy("another ingest is running on this index; try again when it "
                                 "finishes") from None
            print("accessbot: another ingest is running; waiting for it to finish",
                  file=sys.stderr)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
