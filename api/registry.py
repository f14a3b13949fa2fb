"""The device registry as the API sees it: read from the file, re-read when the file changes."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from devices.errors import RegistryError
from devices.registry import Registry, parse_registry

logger = logging.getLogger(__name__)


class RegistryFile:
    """The registry at `path`, re-parsed when its modification time or size changes.

    A missing file is an empty registry (devices are still served, marked unregistered). A file that does not
    parse keeps the last good registry and logs an error, so a half-saved edit never takes the API down.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._registry = Registry()

    def current(self) -> Registry:
        """The registry as of the file's latest good version."""
        try:
            stat = self.path.stat()
            stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if stamp != self._stamp:
                self._reload(stamp)
            return self._registry

    def _reload(self, stamp: tuple[int, int] | None) -> None:
        if stamp is None:
            self._registry, self._stamp = Registry(), None
            return
        try:
            self._registry = parse_registry(self.path.read_text(encoding="utf-8"))
        except (OSError, RegistryError) as exc:
            logger.error("keeping the previous device registry: %s is not usable: %s", self.path, exc)
        else:
            logger.info("device registry %s loaded: %d devices", self.path, len(self._registry.devices))
        self._stamp = stamp
