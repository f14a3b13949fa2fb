"""A small file the API re-reads when it changes (registry, farmers), keeping the last good version on errors."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


class WatchedFile(Generic[T]):
    """The content of `path`, re-parsed when its modification time or size changes.

    A missing file is `empty`. A file that does not parse keeps the last good content and logs an error, so a
    half-saved edit never takes the API down.
    """

    def __init__(
        self, path: Path, *, parse: Callable[[str], T], empty: T, what: str, errors: tuple[type[Exception], ...]
    ) -> None:
        self.path = path
        self._parse = parse
        self._empty = empty
        self._what = what
        self._errors = errors
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._content = empty

    def current(self) -> T:
        """The content as of the file's latest good version."""
        try:
            stat = self.path.stat()
            stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if stamp != self._stamp:
                self._reload(stamp)
            return self._content

    def _reload(self, stamp: tuple[int, int] | None) -> None:
        if stamp is None:
            self._content, self._stamp = self._empty, None
            return
        try:
            self._content = self._parse(self.path.read_text(encoding="utf-8"))
        except Exception as exc:
            if not isinstance(exc, (OSError, *self._errors)):
                raise
            logger.error("keeping the previous %s: %s is not usable: %s", self._what, self.path, exc)
        else:
            self.loaded(self._content)
        self._stamp = stamp

    def loaded(self, content: T) -> None:  # noqa: ARG002 - subclasses describe the content
        """Called after a new version was parsed (subclasses log what they found)."""
        logger.info("%s %s loaded", self._what, self.path)
