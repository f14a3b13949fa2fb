"""Publish N telemetry messages at QoS 1 as fast as the broker acknowledges them (a benchmark helper process).

paho tops out near 2,000 QoS 1 publishes/s with a bounded window on the benchmark machine, far below what the
broker takes, so this speaks MQTT 3.1.1 over a plain socket: PUBLISH packets are written in chunks and PUBACKs
counted, with at most `--window` unacknowledged. Prints one JSON line: {"published": N, "seconds": s}.

    python bench/_mqtt_burst.py --port 1883 --count 100000 --devices 1000 --seed 1
"""

from __future__ import annotations

import argparse
import socket
import struct
import sys
import time
from collections.abc import Iterator

import numpy as np
import orjson

T0_MS = 1_764_489_600_000
QUANTITIES = {
    "ph": (7.0, 0.15),
    "turbidity": (4.0, 0.5),
    "do": (6.5, 0.3),
    "ec": (250.0, 8.0),
    "water_temp": (28.4, 0.4),
}


def telemetry(count: int, *, devices: int, seed: int, village: str = "bench") -> Iterator[tuple[bytes, bytes]]:
    """(topic, payload) of `count` messages, 5 readings each, round-robin over `devices` boards, 1 s apart per board."""
    rng = np.random.default_rng(seed)
    names = list(QUANTITIES)
    means = np.array([m for m, _ in QUANTITIES.values()])
    sds = np.array([s for _, s in QUANTITIES.values()])
    chunk = 10_000
    for start in range(0, count, chunk):
        n = min(chunk, count - start)
        values = np.round(means + rng.standard_normal((n, len(names))) * sds, 2).tolist()
        for offset, row in enumerate(values):
            i = start + offset
            device, seq = i % devices, i // devices
            payload = {"ts": T0_MS + seq * 1000 + device, "seq": seq, "readings": dict(zip(names, row, strict=True))}
            yield f"village/{village}/b{device:05d}/telemetry".encode(), orjson.dumps(payload)


def _remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _packet(topic: bytes, payload: bytes, mid: int) -> bytes:
    body = struct.pack("!H", len(topic)) + topic + struct.pack("!H", mid) + payload
    return b"\x32" + _remaining_length(len(body)) + body


def connect(host: str, port: int, *, client_prefix: str) -> socket.socket:
    """A raw MQTT 3.1.1 connection (clean session, keepalive 60 s), CONNACK checked."""
    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client_id = f"{client_prefix}-{time.time_ns()}".encode()
    body = b"\x00\x04MQTT\x04\x02\x00\x3c" + struct.pack("!H", len(client_id)) + client_id
    sock.sendall(b"\x10" + _remaining_length(len(body)) + body)
    connack = sock.recv(4)
    if connack[:2] != b"\x20\x02" or connack[3] != 0:
        raise ConnectionError(f"broker refused the connection: {connack!r}")
    return sock


def publish(
    host: str, port: int, messages: Iterator[tuple[bytes, bytes]], *, window: int, chunk: int
) -> tuple[int, float]:
    """Publish everything; returns (count, seconds) once the broker acknowledged the last message."""
    sock = connect(host, port, client_prefix="burst")
    in_flight = sent = mid = 0
    pending = b""
    started = time.perf_counter()

    def read_acks() -> None:
        nonlocal in_flight, pending
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("broker closed the connection")
        pending += data
        acks = len(pending) // 4
        if any(pending[4 * i] != 0x40 for i in range(acks)):
            raise ConnectionError(f"unexpected packet from the broker: {pending[:8]!r}")
        pending = pending[4 * acks :]
        in_flight -= acks

    done = False
    while not done:
        packets = []
        for _ in range(chunk):
            try:
                topic, payload = next(messages)
            except StopIteration:
                done = True
                break
            mid = mid % 65535 + 1
            packets.append(_packet(topic, payload, mid))
        while packets and in_flight + len(packets) > window:
            read_acks()
        sock.sendall(b"".join(packets))
        in_flight += len(packets)
        sent += len(packets)
    while in_flight:
        read_acks()
    seconds = time.perf_counter() - started
    sock.sendall(b"\xe0\x00")
    sock.close()
    return sent, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--window", type=int, default=2000)
    parser.add_argument("--chunk", type=int, default=500)
    args = parser.parse_args()
    messages = telemetry(args.count, devices=args.devices, seed=args.seed)
    sent, seconds = publish(args.host, args.port, messages, window=args.window, chunk=args.chunk)
    sys.stdout.write(orjson.dumps({"published": sent, "seconds": seconds}).decode() + "\n")


if __name__ == "__main__":
    main()
