"""Which devices may send: the registry file, re-read while the ingestor runs, against each message's topic.

Officers edit the registry while the ingestor runs, so its file is checked (stat: inode, size, mtime) every few
seconds and re-parsed when it changed. A file that stops parsing, or disappears for a moment (editors save by
rename), never throws away the registry in force: the last good version stays, and the problem is logged.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from pathlib import Path

from devices.config import UnknownDevicePolicy
from devices.errors import RegistryError
from devices.reasons import RejectReason
from devices.registry import Registry, parse_registry
from ingest.errors import ConfigurationError

logger = logging.getLogger(__name__)

_Stamp = tuple[int, int, int]


class Standing(enum.Enum):
    """What the registry says about a device the pipeline is allowed to store."""

    REGISTERED = "registered"
    UNREGISTERED = "unregistered"


class DeviceRegistry:
    """Admits or rejects a (village, device) by the registry and the unknown-device policy."""

    def __init__(
        self,
        path: Path,
        *,
        policy: UnknownDevicePolicy,
        poll_s: float = 2.0,
        clock_s: Callable[[], float] = time.monotonic,
    ) -> None:
        """Load the registry.

        Raises:
            ConfigurationError: with policy `reject`, the file is missing or invalid — every message would be
                refused, which is a deployment mistake (a volume not mounted, a wrong path), not data to reject.
        """
        self._path = path
        self._policy = policy
        self._poll_s = poll_s
        self._clock_s = clock_s
        self._village_of: dict[str, str] = {}
        self.generation = 0
        """Incremented at every reload, so callers can drop verdicts they cached."""
        self._stamp: _Stamp | None = None
        self._checked_s = clock_s()
        self._missing_logged = False
        try:
            self._load(self._stat())
        except (OSError, RegistryError) as exc:
            if policy == "reject":
                raise ConfigurationError(
                    f"VILLAGE_INGEST_UNKNOWN_DEVICES=reject needs a valid registry at {path}: {exc}"
                ) from exc
            logger.warning("no usable device registry (%s); every device is stored as unregistered", exc)

    @property
    def devices(self) -> int:
        """How many devices are registered."""
        return len(self._village_of)

    def admit(self, village: str, device: str) -> Standing | RejectReason:
        """REGISTERED, UNREGISTERED (policy accept: store and mark), or why to reject (policy reject)."""
        registered_village = self._village_of.get(device)
        if registered_village == village:
            return Standing.REGISTERED
        if self._policy == "accept":
            return Standing.UNREGISTERED
        return RejectReason.UNKNOWN_DEVICE if registered_village is None else RejectReason.VILLAGE_MISMATCH

    def detail(self, village: str, device: str) -> str:
        """Why `admit` rejected this device, for the rejected store."""
        registered_village = self._village_of.get(device)
        if registered_village is None:
            return f"device {device!r} is not in the registry {self._path}"
        return f"device {device!r} is registered in village {registered_village!r}, not {village!r}"

    def refresh(self) -> None:
        """Re-read the file if it changed since the last look (at most every `poll_s`)."""
        now_s = self._clock_s()
        if now_s - self._checked_s < self._poll_s:
            return
        self._checked_s = now_s
        try:
            stamp = self._stat()
        except OSError:
            if self._stamp is not None and not self._missing_logged:  # (a missing file at start-up was logged)
                logger.error("device registry %s is missing; keeping the last version read", self._path)
                self._missing_logged = True
            return
        self._missing_logged = False
        if stamp == self._stamp:
            return
        try:
            self._load(stamp)
        except (OSError, RegistryError) as exc:
            self._stamp = stamp  # log a broken file once per change, not every poll
            logger.error("device registry %s not reloaded, keeping the last good version: %s", self._path, exc)
        else:
            logger.info("device registry reloaded: %d devices", len(self._village_of))

    def _stat(self) -> _Stamp:
        status = self._path.stat()
        return (status.st_ino, status.st_size, status.st_mtime_ns)

    def _load(self, stamp: _Stamp) -> None:
        registry: Registry = parse_registry(self._path.read_text(encoding="utf-8"))
        self._village_of = {d.id: d.village for d in registry.devices}
        self._stamp = stamp
        self.generation += 1
