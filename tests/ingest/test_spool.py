"""The disk spool: fsynced records survive a restart, come back in order, and are deleted only once committed."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.errors import SpoolFull
from ingest.spool import Spool, SpooledMessage, SpoolRecord

KIB = 1024


def record(n: int, *, lines: int = 3) -> SpoolRecord:
    body = [f"water,device=d{n},village=v ph=7.{i} {1_764_489_600_000 + i}" for i in range(lines)]
    message = SpooledMessage(f"village/v/d{n}/telemetry", b'{"readings": {"ph": 7}}\xff', 1_764_489_600_000)
    return SpoolRecord(body, [0] * lines, [message], readings=lines)


def drain(spool: Spool) -> list[SpoolRecord]:
    found = []
    while (next_record := spool.next_record()) is not None:
        found.append(next_record)
        spool.commit(next_record)
    return found


def test_records_come_back_in_order_across_segments_and_restarts(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1024 * KIB, segment_bytes=600)
    for n in range(10):
        spool.append(record(n))
    assert spool.segments > 1
    spool.close()
    reopened = Spool(tmp_path, max_bytes=1024 * KIB, segment_bytes=600)  # as after a crash or a restart
    replayed = drain(reopened)
    assert [r.lines for r in replayed] == [record(n).lines for n in range(10)]
    assert replayed[3].messages == record(3).messages  # raw bytes, even invalid UTF-8, survive
    assert not reopened and reopened.bytes == 0 and not list(tmp_path.glob("*.seg"))


def test_appends_while_replaying_are_not_lost(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1024 * KIB, segment_bytes=10 * KIB)
    spool.append(record(0))
    first = spool.next_record()  # seals the active segment
    spool.append(record(1))
    assert first is not None
    spool.commit(first)
    assert [r.lines for r in drain(spool)] == [record(1).lines]


def test_an_uncommitted_record_is_replayed_again_after_a_restart(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1024 * KIB, segment_bytes=10 * KIB)
    spool.append(record(0))
    spool.append(record(1))
    taken = spool.next_record()
    assert taken is not None
    spool.commit(taken)  # the first is in InfluxDB; the process dies before the second
    spool.close()
    assert [r.lines for r in drain(Spool(tmp_path, max_bytes=1024 * KIB, segment_bytes=10 * KIB))] == [
        record(0).lines,
        record(1).lines,
    ]  # the whole segment again: rewriting the same points is harmless


def test_the_quota_refuses_without_appending(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=2 * len(record(0).encode()), segment_bytes=10 * KIB)
    spool.append(record(0))
    spool.append(record(1))
    with pytest.raises(SpoolFull):
        spool.append(record(2))
    assert len(drain(spool)) == 2
    spool.append(record(3))  # room again once replayed


def test_a_torn_last_record_is_skipped(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1024 * KIB, segment_bytes=10 * KIB)
    spool.append(record(0))
    spool.close()
    segment = next(tmp_path.glob("*.seg"))
    data = record(1).encode()
    with segment.open("ab") as file:  # a crash in the middle of an append (never acknowledged)
        file.write(data[: len(data) // 2])
    assert [r.lines for r in drain(Spool(tmp_path, max_bytes=1024 * KIB, segment_bytes=10 * KIB))] == [record(0).lines]


def test_a_corrupt_segment_is_kept_aside_for_an_operator(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1024 * KIB, segment_bytes=10 * KIB)
    spool.append(record(0))
    spool.append(record(1))
    spool.close()
    segment = next(tmp_path.glob("*.seg"))
    data = bytearray(segment.read_bytes())
    data[20] ^= 0xFF  # bit rot inside the first record's body
    segment.write_bytes(bytes(data))
    assert drain(Spool(tmp_path, max_bytes=1024 * KIB, segment_bytes=10 * KIB)) == []
    assert (tmp_path / "corrupt" / segment.name).read_bytes() == bytes(data)
