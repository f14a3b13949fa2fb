"""`village rejects list|replay`: look at what the ingestor refused, and re-ingest it after a fix.

Replay runs the stored raw messages through the same preparation as the ingestor (with the registry and rules in
force now, and each message's original receive time), writes what passes to InfluxDB, records what is refused
again as new entries, and notes the replayed ids in the store's ledger so a second replay skips them.
"""

from __future__ import annotations

import re
import socket
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import click
import orjson
from rich.console import Console
from rich.table import Table

from devices.reasons import RejectReason
from ingest.encode import readings_in
from ingest.errors import ConfigurationError, InfluxRefused, InfluxUnavailable
from ingest.influx import InfluxWriter
from ingest.messages import InboundMessage
from ingest.prepare import BatchPreparer
from ingest.registry import DeviceRegistry
from ingest.rejects import RejectedStore, StoredEntry, append_ledger, read_entries, read_ledger
from ingest.samples import Rejection
from ingest.settings import IngestSettings
from ingest.store import write_isolating

console = Console(highlight=False)
_DURATION = re.compile(r"^(\d+)([smhd])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
REPLAY_CHUNK = 1000


def _since_ms(text: str | None) -> int | None:
    if text is None:
        return None
    found = _DURATION.match(text.strip())
    if found:
        return time.time_ns() // 1_000_000 - int(found[1]) * _SECONDS[found[2]] * 1000
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{text!r} is neither a duration (30m, 2h, 7d) nor an ISO time") from None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000)


def _selected(
    entries: Iterable[StoredEntry],
    *,
    reasons: tuple[str, ...],
    village: str | None,
    device: str | None,
    since_ms: int | None,
    ids: tuple[str, ...] = (),
) -> Iterator[StoredEntry]:
    for entry in entries:
        parts = str(entry.data.get("topic", "")).split("/")
        if reasons and not set(reasons) & set(entry.reasons):
            continue
        if village and (len(parts) < 2 or parts[1] != village):
            continue
        if device and (len(parts) < 3 or parts[2] != device):
            continue
        if since_ms is not None and int(entry.data.get("time_ms", 0)) < since_ms:
            continue
        if ids and entry.id not in ids:
            continue
        yield entry


_F = TypeVar("_F", bound=Callable[..., Any])


def _filters(command: _F) -> _F:
    """The options that select entries, shared by `list` and `replay`."""
    for option in reversed(
        [
            click.option("--reason", "reasons", multiple=True, help="Only entries with this reason (repeatable)."),
            click.option("--village", help="Only this village."),
            click.option("--device", help="Only this device."),
            click.option("--since", help="Only entries recorded since: a duration (30m, 2h, 7d) or an ISO time."),
        ]
    ):
        command = option(command)
    return command


@click.group("rejects")
def rejects_group() -> None:
    """The rejected store (VILLAGE_DATA_DIR/rejected): every refused message, raw, with its reasons."""


@rejects_group.command("list")
@_filters
@click.option("--limit", default=50, show_default=True, type=click.IntRange(0), help="Newest N entries (0: all).")
@click.option("--json", "as_json", is_flag=True, help="One JSON entry per line, with its id.")
def list_command(
    reasons: tuple[str, ...], village: str | None, device: str | None, since: str | None, limit: int, as_json: bool
) -> None:
    """Show rejected messages, oldest first, with why each was refused."""
    settings = IngestSettings()
    directory = settings.rejects_dir
    selected = _selected(
        read_entries(directory), reasons=reasons, village=village, device=device, since_ms=_since_ms(since)
    )
    entries = list(deque(selected, maxlen=limit or None))
    replayed = read_ledger(directory)
    if as_json:
        for entry in entries:
            click.echo(orjson.dumps({"id": entry.id, "replayed": entry.id in replayed, **entry.data}).decode())
        return
    table = Table(title=f"Rejected messages in {directory}")
    for column in ("recorded (UTC)", "id", "topic", "reasons", "detail", "replayed"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        rejections = entry.data.get("rejections", [])
        first = rejections[0] if rejections else {}
        what = f"{first.get('quantity')}: " if first.get("quantity") else ""
        more = f" (+{len(rejections) - 1} more)" if len(rejections) > 1 else ""
        table.add_row(
            datetime.fromtimestamp(int(entry.data.get("time_ms", 0)) / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S"),
            entry.id,
            str(entry.data.get("topic", "")),
            ", ".join(dict.fromkeys(entry.reasons)),
            f"{what}{first.get('detail', '')}{more}",
            "yes" if entry.id in replayed else "",
        )
    console.print(table)
    if not entries:
        console.print("No rejected messages match.")


@rejects_group.command("replay")
@_filters
@click.option("--id", "ids", multiple=True, help="Only this entry id (repeatable; see `village rejects list`).")
@click.option("--again", is_flag=True, help="Include entries already replayed.")
@click.option("--dry-run", is_flag=True, help="Show what would be stored or refused; write nothing.")
def replay_command(
    reasons: tuple[str, ...],
    village: str | None,
    device: str | None,
    since: str | None,
    ids: tuple[str, ...],
    again: bool,
    dry_run: bool,
) -> None:
    """Re-ingest rejected messages after a fix (registry entry, rule change, InfluxDB schema repair)."""
    settings = IngestSettings()
    directory = settings.rejects_dir
    done = set() if again else read_ledger(directory)
    entries = [
        e
        for e in _selected(
            read_entries(directory), reasons=reasons, village=village, device=device, since_ms=_since_ms(since), ids=ids
        )
        if e.id not in done
    ]
    if not entries:
        console.print("Nothing to replay.")
        return
    try:
        registry = DeviceRegistry(settings.registry_path, policy=settings.ingest_unknown_devices)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc
    replayer = _Replay(settings, BatchPreparer(registry=registry, seq_accounting=False, history=False), dry_run=dry_run)
    try:
        for start in range(0, len(entries), REPLAY_CHUNK):
            replayer.chunk(entries[start : start + REPLAY_CHUNK])
    except (InfluxUnavailable, InfluxRefused) as exc:
        raise click.ClickException(f"{exc}; entries not yet written stay unreplayed, run again later") from exc
    finally:
        replayer.close()
    replayer.report(len(entries))


class _Replay:
    """Replays chunks of entries and keeps the tally."""

    def __init__(self, settings: IngestSettings, preparer: BatchPreparer, *, dry_run: bool) -> None:
        self._settings = settings
        self._preparer = preparer
        self._dry_run = dry_run
        self._writer = None if dry_run else InfluxWriter(settings, timeout_s=settings.ingest_write_timeout_s)
        self._store = RejectedStore(settings.rejects_dir, instance=f"replay-{socket.gethostname()}")
        self.stored = 0
        self.refused: Counter[str] = Counter()
        if self._writer is not None:
            self._writer.ensure_schema()

    def chunk(self, entries: list[StoredEntry]) -> None:
        messages = [
            InboundMessage(
                str(e.data.get("topic", "")),
                e.payload,
                qos=1,
                retain=bool(e.data.get("retain", False)),
                mid=0,
                received_ms=int(e.data.get("received_ms", e.data.get("time_ms", 0))),
                session=0,
            )
            for e in entries
        ]
        prepared = self._preparer.prepare(messages)
        rejections = list(prepared.rejections)
        if self._writer is not None:
            refused = write_isolating(self._writer, prepared.lines)
            rejections += [
                Rejection(
                    prepared.origins[i], RejectReason.WRITE_REFUSED, f"InfluxDB refused {prepared.lines[i][:200]!r}"
                )
                for i in refused
            ]
            self._store.record(messages, rejections)
            append_ledger(
                self._settings.rejects_dir,
                [{"id": e.id, "time_ms": time.time_ns() // 1_000_000} for e in entries],
            )
            self.stored -= sum(readings_in(prepared.lines[i]) for i in refused)
        self.stored += prepared.stored
        self.refused.update(r.reason.value for r in rejections)

    def report(self, count: int) -> None:
        verb = "would store" if self._dry_run else "stored"
        again = ", ".join(f"{reason} {n}" for reason, n in self.refused.most_common()) or "none"
        console.print(f"Replayed {count} messages: {verb} {self.stored} readings; refused again: {again}.")

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._store.close()
