"""The baseline: a bare paho QoS 1 subscriber (MQTT 5, persistent session, automatic acks) that only counts.

Connects with `--client-id` to a session that already holds the messages, counts `--count` of them and prints
one JSON line: {"received": N, "seconds": s} timed from the first message to the last.

    python bench/_bare_subscriber.py --port 1883 --client-id bench-bare --count 100000
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

import orjson
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

TOPIC = "village/+/+/telemetry"


def session(host: str, port: int, client_id: str, *, subscribe_only: bool, count: int = 0) -> float:
    """Connect (clean start off) and subscribe; with `subscribe_only`, disconnect once subscribed."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5)
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = 3600
    properties.ReceiveMaximum = 65535
    done = threading.Event()
    received = 0
    first = last = 0.0

    def on_message(_c: paho.Client, _u: object, _m: paho.MQTTMessage) -> None:
        nonlocal received, first, last
        received += 1
        if received == 1:
            first = time.perf_counter()
        if received == count:
            last = time.perf_counter()
            done.set()

    client.on_connect = lambda c, *_: c.subscribe(TOPIC, qos=1)
    client.on_subscribe = lambda *_: subscribe_only and done.set()
    client.on_message = on_message
    client.connect(host, port, clean_start=False, properties=properties)
    client.loop_start()
    if not done.wait(600):
        raise TimeoutError(f"received {received} of {count}")
    client.disconnect()
    client.loop_stop()
    return last - first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--count", type=int, default=0, help="messages to wait for; 0 = only create the session")
    args = parser.parse_args()
    if not args.count:
        session(args.host, args.port, args.client_id, subscribe_only=True)
        return
    seconds = session(args.host, args.port, args.client_id, subscribe_only=False, count=args.count)
    sys.stdout.write(orjson.dumps({"received": args.count, "seconds": seconds}).decode() + "\n")


if __name__ == "__main__":
    main()
