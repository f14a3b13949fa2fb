"""The device registry as the API sees it: read from the file, re-read when the file changes."""

from __future__ import annotations

import logging
from pathlib import Path

from api.watched import WatchedFile
from devices.errors import RegistryError
from devices.registry import Registry, parse_registry

logger = logging.getLogger(__name__)


class RegistryFile(WatchedFile[Registry]):
    """The registry at `path`, re-parsed when its modification time or size changes.

    A missing file is an empty registry (devices are still served, marked unregistered). A file that does not
    parse keeps the last good registry and logs an error, so a half-saved edit never takes the API down.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path, parse=parse_registry, empty=Registry(), what="device registry", errors=(RegistryError,))

    def loaded(self, content: Registry) -> None:
        """Log how many devices the new version has."""
        logger.info("device registry %s loaded: %d devices", self.path, len(content.devices))
