"""The ingestor's settings: the shared VILLAGE_* variables plus VILLAGE_INGEST_* tuning."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field

from devices.config import UnknownDevicePolicy, VillageSettings, default_client_id

_UNSAFE_IN_PATH = re.compile(r"[^A-Za-z0-9_.-]")
MIB = 2**20


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
    ingest_retry_max_s: float = Field(5.0, gt=0, description="longest wait between retries of InfluxDB or the disk")
    ingest_spool_max_bytes: int = Field(2048 * MIB, ge=MIB, description="disk quota of the spool")
    ingest_spool_segment_bytes: int = Field(16 * MIB, ge=4096)
    ingest_rejects_max_bytes: int = Field(1024 * MIB, ge=MIB, description="rejected store quota; oldest files go")
    ingest_rejects_file_bytes: int = Field(16 * MIB, ge=4096)
    ingest_registry_poll_s: float = Field(2.0, gt=0, description="how often the registry file is checked")
    ingest_publish_rejections: bool = Field(default=True, description="publish why to village/{v}/{d}/rejected")
    ingest_seq_accounting: bool | None = Field(
        None, description="count lost/duplicated messages from seq; default: on unless a share group is set"
    )
    ingest_summary_interval_s: float = Field(60.0, gt=0)
    ingest_mqtt_fast_path: bool = Field(
        default=True, description="tuned paho receive path; false = stock paho (an escape hatch for paho upgrades)"
    )

    @property
    def spool_dir(self) -> Path:
        """This instance's spool: one per client id, so instances sharing a data directory never collide."""
        return self.data_dir / "spool" / _UNSAFE_IN_PATH.sub("-", self.ingest_client_id)

    @property
    def rejects_dir(self) -> Path:
        """The rejected store, shared by the instances of a data directory (each writes its own files)."""
        return self.data_dir / "rejected"

    @property
    def seq_accounting(self) -> bool:
        """With a shared subscription each instance sees only some of a device's messages, so gaps are not
        losses — unless the broker routes each device to one instance (EMQX `hash_topic`): then set it on."""
        if self.ingest_seq_accounting is not None:
            return self.ingest_seq_accounting
        return self.ingest_share_group is None
