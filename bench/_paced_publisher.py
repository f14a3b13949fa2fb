"""Publish native telemetry at a steady rate for a fixed time, keeping an exact count (a soak benchmark helper).

Raw MQTT 3.1.1 over a socket, QoS 1, like `_mqtt_burst.py` (paho alone cannot sustain the soak's rates on two
shared cores). Every `tick` it sends what the clock says is due, so the rate stays steady and a stall is caught
up rather than forgotten. Device times are the wall clock, so the ingestor's lag histogram is real end-to-end lag.
Every `--bad-every`-th message carries one pH beyond the hard limit (ground truth: exactly one rejected reading).

The number of messages the broker has acknowledged so far is kept in the 8 bytes of `--progress` (an mmap'd
file the soak reads while it samples). Prints one JSON line at the end:
{"published": N, "readings": R, "bad": B, "seconds": s, "max_behind": M}.

    python bench/_paced_publisher.py --port 1883 --rate 4000 --seconds 600 --progress /tmp/progress
"""

from __future__ import annotations

import argparse
import mmap
import select
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson
from _mqtt_burst import QUANTITIES, _packet, connect

READINGS_PER_MESSAGE = len(QUANTITIES)
BAD_PH = 14.5
"""Beyond pH's hard limit of 14: the ingestor must reject this one reading and store the other four."""


def is_bad(index: int, bad_every: int) -> bool:
    """Whether message `index` (0-based, in publish order) carries the out-of-range pH."""
    return bad_every > 0 and index % bad_every == bad_every - 1


def bad_messages(published: int, bad_every: int) -> int:
    """How many of the first `published` messages carry the out-of-range pH."""
    return published // bad_every if bad_every > 0 else 0


class Telemetry:
    """Native telemetry payloads, round-robin over `devices` boards, each board's `ts` the wall clock (strictly
    increasing per board) and `seq` counting up."""

    def __init__(self, *, devices: int, village: str, seed: int, bad_every: int) -> None:
        self._rng = np.random.default_rng(seed)
        self._names = list(QUANTITIES)
        self._means = np.array([m for m, _ in QUANTITIES.values()])
        self._sds = np.array([s for _, s in QUANTITIES.values()])
        self._topics = [f"village/{village}/b{d:05d}/telemetry".encode() for d in range(devices)]
        self._last_ts = [0] * devices
        self._bad_every = bad_every
        self._values: Iterator[list[float]] = iter(())
        self.index = 0

    def _next_values(self) -> list[float]:
        try:
            return next(self._values)
        except StopIteration:
            block = self._means + self._rng.standard_normal((10_000, len(self._names))) * self._sds
            self._values = iter(np.round(block, 2).tolist())
            return next(self._values)

    def next_message(self, now_ms: int) -> tuple[bytes, bytes]:
        device = self.index % len(self._topics)
        ts_ms = max(now_ms, self._last_ts[device] + 1)
        self._last_ts[device] = ts_ms
        readings = dict(zip(self._names, self._next_values(), strict=True))
        if is_bad(self.index, self._bad_every):
            readings["ph"] = BAD_PH
        payload = orjson.dumps({"ts": ts_ms, "seq": self.index // len(self._topics), "readings": readings})
        self.index += 1
        return self._topics[device], payload


class Progress:
    """The acknowledged count in a shared 8-byte file, read by the soak while this process writes it.

    Written through a memoryview of format `q`: one aligned 8-byte copy, which a reader never sees half done.
    Not with `struct.pack_into`, which zero-fills the bytes before packing: a reader then sees 0 now and then
    (measured: 1 read in 9 while the writer spins)."""

    def __init__(self, path: Path) -> None:
        path.write_bytes(bytes(8))
        with path.open("r+b") as file:
            self._map = mmap.mmap(file.fileno(), 8)
        self._slot = memoryview(self._map).cast("q")

    def set(self, acked: int) -> None:
        self._slot[0] = acked


class Acks:
    """PUBACKs read from the socket, in order (one connection, QoS 1: the broker acknowledges in order)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._pending = b""
        self.count = 0

    def read(self, timeout_s: float) -> None:
        """Read what arrives within `timeout_s` (nothing is fine)."""
        ready, _, _ = select.select([self._sock], [], [], max(timeout_s, 0.0))
        if not ready:
            return
        data = self._sock.recv(65536)
        if not data:
            raise ConnectionError("broker closed the connection")
        self._pending += data
        acks = len(self._pending) // 4
        if any(self._pending[4 * i] != 0x40 for i in range(acks)):
            raise ConnectionError(f"unexpected packet from the broker: {self._pending[:8]!r}")
        self._pending = self._pending[4 * acks :]
        self.count += acks


def publish_paced(
    sock: socket.socket, telemetry: Telemetry, progress: Progress, *, rate: float, seconds: float, window: int
) -> dict[str, float]:
    """Send `rate` messages/s for `seconds`, then wait for the last acknowledgement."""
    tick_s = 0.01
    acks = Acks(sock)
    sent = mid = max_behind = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        due = int(rate * elapsed) - sent
        max_behind = max(max_behind, due)
        room = window - (sent - acks.count)
        if due > 0 and room > 0:
            now_ms = time.time_ns() // 1_000_000
            packets = []
            for _ in range(min(due, room)):
                mid = mid % 65535 + 1
                topic, payload = telemetry.next_message(now_ms)
                packets.append(_packet(topic, payload, mid))
            sock.sendall(b"".join(packets))
            sent += len(packets)
        acks.read(tick_s)
        progress.set(acks.count)
    publishing_s = time.perf_counter() - started
    deadline = time.monotonic() + 60
    while acks.count < sent and time.monotonic() < deadline:
        acks.read(0.1)
        progress.set(acks.count)
    if acks.count < sent:
        raise ConnectionError(f"the broker acknowledged {acks.count} of {sent} messages")
    sock.sendall(b"\xe0\x00")
    sock.close()
    return {"published": sent, "seconds": publishing_s, "max_behind": max_behind}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True, help="messages/s (5 readings each)")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--progress", type=Path, required=True, help="8-byte file: messages acknowledged so far")
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--village", default="soak")
    parser.add_argument("--bad-every", type=int, default=500, help="one pH beyond the hard limit every N messages")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--window", type=int, default=2000, help="unacknowledged messages at most")
    args = parser.parse_args()
    telemetry = Telemetry(devices=args.devices, village=args.village, seed=args.seed, bad_every=args.bad_every)
    sock = connect(args.host, args.port, client_prefix="soak-pub")
    result = publish_paced(
        sock, telemetry, Progress(args.progress), rate=args.rate, seconds=args.seconds, window=args.window
    )
    published = int(result["published"])
    result["readings"] = published * READINGS_PER_MESSAGE
    result["bad"] = bad_messages(published, args.bad_every)
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
