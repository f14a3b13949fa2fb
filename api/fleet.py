"""The fleet as clients see it: registry entries joined with what InfluxDB last heard from each device.

A device with data but no registry entry is still served, marked unregistered: its village is the one its
latest reading was tagged with, and its kind the measurement most of its quantities belong to.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from api.auth import Principal
from api.conditions import device_filter
from api.influx import InfluxReader
from devices.quantities import CATALOGUE, QUANTITIES, Domain
from devices.registry import RegisteredDevice, Registry
from devices.schema import STATUS, TAG_DEVICE, TAG_VILLAGE, quote_identifier

_GROUP = f" GROUP BY {quote_identifier(TAG_DEVICE)}, {quote_identifier(TAG_VILLAGE)}"


@dataclass(frozen=True, slots=True)
class Reading:
    """A value at a time (epoch ms)."""

    ts_ms: int
    value: float


@dataclass
class DeviceState:
    """A device's registry entry (if any) and its latest readings, health and online state."""

    id: str
    village: str
    registered: bool
    kind: str | None = None
    name: str | None = None
    lat: float | None = None
    lon: float | None = None
    installed: date | None = None
    owner: str | None = None
    readings: dict[str, Reading] = field(default_factory=dict)
    status: Reading | None = None
    online: bool = False

    @property
    def last_seen_ms(self) -> int | None:
        """Time of the device's most recent reading of any quantity."""
        return max((r.ts_ms for r in self.readings.values()), default=None)

    def health(self, quantity: str) -> float | None:
        """Latest battery (`bat`) or signal (`rssi`) value."""
        found = self.readings.get(quantity)
        return found.value if found else None


async def latest_by_device(
    reader: InfluxReader, caller: Principal, *, village: str | None = None, device: str | None = None
) -> tuple[dict[str, dict[str, Reading]], dict[str, str], dict[str, Reading]]:
    """Latest value of every quantity per device, each device's latest village tag, and its latest status.

    One `last()` per quantity (with several selectors InfluxDB would lose their times), in one request.
    """
    conditions = device_filter(caller, village=village, device=device)
    statements = [
        f"SELECT last({quote_identifier(q.name)}) FROM {quote_identifier(q.domain.value)}{conditions.where()}{_GROUP}"
        for q in CATALOGUE
    ]
    statements.append(f'SELECT last("online") FROM {quote_identifier(STATUS)}{conditions.where()}{_GROUP}')
    results = await reader.query(";".join(statements), conditions.params)
    readings: dict[str, dict[str, Reading]] = {}
    villages: dict[str, tuple[int, str]] = {}
    statuses: dict[str, Reading] = {}
    for index, result in enumerate(results):
        for series in result:
            ts_ms, value = series.values[0]
            if value is None:
                continue
            device_id, village_id = series.tags.get(TAG_DEVICE, ""), series.tags.get(TAG_VILLAGE, "")
            if index == len(CATALOGUE):
                statuses[device_id] = Reading(ts_ms, float(value))
                continue
            name = CATALOGUE[index].name
            known = readings.setdefault(device_id, {}).get(name)
            if known is None or ts_ms > known.ts_ms:
                readings[device_id][name] = Reading(ts_ms, float(value))
            if ts_ms >= villages.get(device_id, (-1, ""))[0]:
                villages[device_id] = (ts_ms, village_id)
    return readings, {d: v for d, (_, v) in villages.items()}, statuses


def _kind_of(readings: dict[str, Reading]) -> str | None:
    domains = Counter(QUANTITIES[q].domain for q in readings if QUANTITIES[q].domain is not Domain.DEVICE)
    return domains.most_common(1)[0][0].value if domains else None


def _from_registry(entry: RegisteredDevice) -> DeviceState:
    return DeviceState(
        id=entry.id,
        village=entry.village,
        registered=True,
        kind=entry.kind,
        name=entry.name,
        lat=entry.lat,
        lon=entry.lon,
        installed=entry.installed,
        owner=entry.owner,
    )


async def device_states(
    reader: InfluxReader,
    registry: Registry,
    caller: Principal,
    *,
    now_ms: int,
    offline_after_ms: int,
    village: str | None = None,
) -> list[DeviceState]:
    """Registered and unregistered devices the caller may read (optionally of one village), sorted by id."""
    readings, villages, statuses = await latest_by_device(reader, caller, village=village)
    states = {
        d.id: _from_registry(d)
        for d in registry.devices
        if caller.may_read(d.village) and (village is None or d.village == village)
    }
    for device_id, found in readings.items():
        if device_id not in states:
            states[device_id] = DeviceState(device_id, villages[device_id], registered=False, kind=_kind_of(found))
        states[device_id].readings = dict(sorted(found.items()))
    for state in states.values():
        state.status = statuses.get(state.id)
        state.online = is_online(state, now_ms=now_ms, offline_after_ms=offline_after_ms)
    return [states[k] for k in sorted(states)]


def is_online(state: DeviceState, *, now_ms: int, offline_after_ms: int) -> bool:
    """Online when heard from within `offline_after_ms` and not announced offline (MQTT last will) since."""
    last_seen = state.last_seen_ms
    if last_seen is None or now_ms - last_seen > offline_after_ms:
        return False
    status = state.status
    return not (status is not None and status.value == 0.0 and status.ts_ms >= last_seen)
