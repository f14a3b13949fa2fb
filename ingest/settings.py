"""The ingestor's settings: the shared VILLAGE_* variables plus VILLAGE_INGEST_* tuning."""

from __future__ import annotations

from pydantic import Field

from devices.config import UnknownDevicePolicy, VillageSettings, default_client_id


class IngestSettings(VillageSettings):
    """Defaults are sized by bench/ingest_throughput.py on a 2-core machine (see BENCHMARKS.md)."""

    ingest_client_id: str = Field(default_factory=default_client_id, min_length=1, max_length=64)
    ingest_unknown_devices: UnknownDevicePolicy = "accept"
    ingest_share_group: str | None = Field(None, description="MQTT shared-subscription group for N ingestors")
    ingest_batch_max_messages: int = Field(2000, ge=1, le=65535)
    ingest_batch_max_wait_ms: int = Field(250, ge=1, le=60_000)
    ingest_receive_maximum: int = Field(
        20_000, ge=1, le=65535, description="MQTT 5 Receive Maximum: acks held while a batch becomes durable"
    )
    ingest_session_expiry_s: int = Field(7 * 24 * 3600, ge=0, description="broker keeps our queue this long")
    ingest_metrics_port: int | None = Field(None, ge=0, le=65535)
    ingest_write_timeout_s: float = Field(10.0, gt=0)
