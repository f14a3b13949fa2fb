"""The InfluxDB schema (DESIGN.md §5) as data: measurements, tags, fields and downsampling tiers.

The ingestor writes it, the API and dashboards read it, and tests check every query against it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from devices.quantities import Domain, quantities_of
from devices.reasons import QualityFlag, RejectReason

TAG_VILLAGE = "village"
TAG_DEVICE = "device"
SERIES_TAGS = (TAG_VILLAGE, TAG_DEVICE)

STATUS = "status"
"""Tags village, device; float field `online` (1.0 / 0.0), from the retained status topic."""

QUALITY = "quality"
"""Tags village, device, quantity; one float field (1.0) per QualityFlag set, at the reading's timestamp.

Written only for flagged readings, so `SELECT count(spike) FROM quality WHERE village = 'x'` counts spikes.
`unregistered` is a property of the device, not of a reading: it is written once per device and ingest batch,
with `quantity` = QUANTITY_ALL, at the receive time of the device's last message in the batch, so
`SELECT last(unregistered) FROM quality WHERE quantity = 'all' AND time > now() - 7d GROUP BY village, device`
lists the boards waiting for an officer to register them.
"""
TAG_QUANTITY = "quantity"
QUANTITY_ALL = "all"
"""`quantity` tag of quality points that concern the whole device (the `unregistered` flag)."""

LINK = "link"
"""Tags village, device; fields `seq`, `lost`, `duplicated`, `reboot`: message accounting from `seq`.

Written for a device in an ingest batch only when something happened (a gap, a duplicate, a reboot), at the
receive time of its last message in the batch: `lost`, `duplicated` and `reboot` count events in that batch
(sum them over time), `seq` is the last counter value seen. Each ingestor counts the messages it receives, so
with a shared subscription the per-instance gaps are not losses; see README "Ingest engine".
"""

PIPELINE = "pipeline"
"""Tag `instance` (ingestor client id); the ingestor's own counters, sampled periodically."""
TAG_INSTANCE = "instance"

REJECTS = "rejects"
"""Tags `instance`, `reason`; field `count`: readings rejected per reason in each sampling period."""
TAG_REASON = "reason"


@dataclass(frozen=True, slots=True)
class Measurement:
    """A measurement, its tags and its (always float) fields."""

    name: str
    tags: tuple[str, ...]
    fields: tuple[str, ...]


def _data_measurement(domain: Domain) -> Measurement:
    return Measurement(domain.value, SERIES_TAGS, tuple(q.name for q in quantities_of(domain)))


DATA_MEASUREMENTS: tuple[Measurement, ...] = tuple(_data_measurement(d) for d in Domain)
MEASUREMENTS: Mapping[str, Measurement] = MappingProxyType(
    {
        **{m.name: m for m in DATA_MEASUREMENTS},
        STATUS: Measurement(STATUS, SERIES_TAGS, ("online",)),
        QUALITY: Measurement(QUALITY, (*SERIES_TAGS, TAG_QUANTITY), tuple(f.field for f in QualityFlag)),
        LINK: Measurement(LINK, SERIES_TAGS, ("seq", "lost", "duplicated", "reboot")),
        PIPELINE: Measurement(
            PIPELINE,
            (TAG_INSTANCE,),
            (
                "received",
                "readings",
                "stored",
                "rejected",
                "spooled",
                "spool_bytes",
                "lag_ms",
                "write_ms",
                "connected",
            ),
        ),
        REJECTS: Measurement(REJECTS, (TAG_INSTANCE, TAG_REASON), ("count",)),
    }
)
REJECT_REASONS: tuple[str, ...] = tuple(r.value for r in RejectReason)


@dataclass(frozen=True, slots=True)
class Tier:
    """A downsampling tier: a retention policy filled by a continuous query from the raw data."""

    retention_policy: str
    every: str
    duration: str
    shard_duration: str


RAW_RETENTION_POLICY = "autogen"
"""Raw data stays in InfluxDB's default policy, so unqualified queries (and Grafana's defaults) see it."""

TIERS: tuple[Tier, ...] = (
    Tier("hourly", "1h", "1825d", "30d"),
    Tier("daily", "1d", "INF", "365d"),
)
DOWNSAMPLED_AGGREGATES = ("mean", "min", "max", "count")
"""A tier stores `mean_ph`, `min_ph`, `max_ph`, `count_ph`, ... for every raw field."""


def quote_identifier(name: str) -> str:
    """An InfluxQL double-quoted identifier. Only schema names (fixed, safe) are passed here."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def schema_statements(database: str) -> tuple[str, ...]:
    """InfluxQL that creates the database, the tiers and their continuous queries; each is idempotent.

    The tiers are created non-default, so raw data written to `autogen` stays visible to plain queries.
    """
    db = quote_identifier(database)
    statements = [f"CREATE DATABASE {db}"]
    data = "|".join(m.name for m in DATA_MEASUREMENTS)
    raw = f"{db}.{quote_identifier(RAW_RETENTION_POLICY)}./^({data})$/"
    selects = ", ".join(f"{agg}(*)" for agg in DOWNSAMPLED_AGGREGATES)
    for tier in TIERS:
        rp = quote_identifier(tier.retention_policy)
        statements.append(
            f"CREATE RETENTION POLICY {rp} ON {db} DURATION {tier.duration} REPLICATION 1 "
            f"SHARD DURATION {tier.shard_duration}"
        )
        statements.append(
            f"CREATE CONTINUOUS QUERY {quote_identifier('cq_' + tier.retention_policy)} ON {db} "
            f"RESAMPLE EVERY {tier.every} FOR {_resample_window(tier.every)} BEGIN "
            f"SELECT {selects} INTO {db}.{rp}.:MEASUREMENT FROM {raw} GROUP BY time({tier.every}), * END"
        )
    return tuple(statements)


def _resample_window(every: str) -> str:
    """Recompute recent buckets too, so late store-and-forward uploads reach the tiers."""
    return {"1h": "6h", "1d": "3d"}[every]
