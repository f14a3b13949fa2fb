"""mosquitto's password and ACL files, derived from the device registry (pure: no I/O).

The broker is the first gate: a board may publish only under its own `village/{village}/{device}/` topics, so
one stolen or misconfigured board cannot speak for another. The ingestor's registry check is the second gate.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from devices.registry import RegisteredDevice, Registry
from devices.topics import ROOT, Channel, Topic

PBKDF2_ITERATIONS = 101
"""What `mosquitto_passwd` 2.x writes. Stretching protects guessable passwords; ours are 144 random bits, so
more iterations would only cost the broker CPU at every reconnect of every board."""
SALT_BYTES = 12
HASH_ID = "7"
"""`$7$` is mosquitto 2.x's PBKDF2-SHA512 (`$6$` was 1.x's salted SHA512)."""
PASSWORD_BYTES = 18
"""18 random bytes = 24 URL-safe characters: copy-pasteable into firmware and into `mqtt://user:pass@` URLs."""

INGEST_USER = "_ingest"
MONITOR_USER = "_monitor"
SIMULATOR_USER = "_simulator"
"""Service accounts start with `_`, which no device id may (ids match ^[a-z0-9]...), so they never collide."""

Access = Literal["read", "write"]


@dataclass(frozen=True, slots=True)
class AclRule:
    """One `topic read|write FILTER` line."""

    access: Access
    topic: str


@dataclass(frozen=True, slots=True)
class Account:
    """A broker login and what it may do; `note` becomes a comment, so it carries only validated ids."""

    username: str
    rules: tuple[AclRule, ...]
    note: str
    service: bool = False


def new_password() -> str:
    """A fresh random password."""
    return secrets.token_urlsafe(PASSWORD_BYTES)


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    """The `$7$iterations$salt$hash` string `mosquitto_passwd` writes (PBKDF2-HMAC-SHA512, standard base64)."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"${HASH_ID}${iterations}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """Whether `password` matches a `$7$` hash (as the broker checks it)."""
    parts = encoded.split("$")
    if len(parts) != 5 or parts[1] != HASH_ID or not parts[2].isdigit():
        return False
    salt, expected = base64.b64decode(parts[3]), base64.b64decode(parts[4])
    return hmac.compare_digest(hashlib.pbkdf2_hmac("sha512", password.encode(), salt, int(parts[2])), expected)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def device_account(device: RegisteredDevice) -> Account:
    """A board publishes telemetry, SenML and its retained status (also its last will) under its own topics.

    It may read one topic: its own `rejected`, where the ingestor says why a payload was refused, so a firmware
    developer can debug a board with the board's own credentials. It can read nothing about other devices.
    """

    def topic(channel: Channel) -> str:
        return str(Topic(village=device.village, device=device.id, channel=channel))

    writes = (Channel.TELEMETRY, Channel.SENML, Channel.STATUS)
    return Account(
        username=device.id,
        rules=(*(AclRule("write", topic(c)) for c in writes), AclRule("read", topic(Channel.REJECTED))),
        note=f"device {device.id} in village {device.village}",
    )


def service_accounts(*, simulator: bool) -> tuple[Account, ...]:
    """The stack's own logins: the ingestor, the broker's healthcheck and, for demonstrations only, the simulator."""
    any_device = f"{ROOT}/+/+"
    accounts = [
        Account(
            INGEST_USER,
            (AclRule("read", f"{ROOT}/#"), AclRule("write", f"{any_device}/{Channel.REJECTED.value}")),
            "the ingestor: reads every device, writes only rejection notices",
            service=True,
        ),
        Account(MONITOR_USER, (AclRule("read", "$SYS/#"),), "healthcheck and troubleshooting", service=True),
    ]
    if simulator:
        channels = (Channel.TELEMETRY, Channel.SENML, Channel.STATUS)
        accounts.append(
            Account(
                SIMULATOR_USER,
                tuple(AclRule("write", f"{any_device}/{c.value}") for c in channels),
                "DEMO ONLY: the simulator may publish for every device",
                service=True,
            )
        )
    return tuple(accounts)


def accounts_for(registry: Registry, *, simulator: bool) -> tuple[Account, ...]:
    """Every login the broker should accept: service accounts, then one per registered device."""
    devices = sorted(registry.devices, key=lambda d: (d.village, d.id))
    return (*service_accounts(simulator=simulator), *(device_account(d) for d in devices))


def parse_password_file(text: str) -> dict[str, str]:
    """`username:hash` lines (as mosquitto reads them) by username; blank and `#` lines are ignored."""
    entries: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        username, sep, encoded = line.partition(":")
        if sep:
            entries[username] = encoded.strip()
    return entries


def format_password_file(entries: Mapping[str, str]) -> str:
    """The password file, one `username:hash` line per account, in the order given."""
    return "".join(f"{username}:{encoded}\n" for username, encoded in entries.items())


def format_acl(accounts: Iterable[Account]) -> str:
    """mosquitto's acl_file: no global rules, so a login with no `user` block may do nothing at all."""
    blocks = ["# Generated by `village devices provision` from the device registry. Do not edit: run it again.\n"]
    for account in accounts:
        rules = "".join(f"topic {rule.access} {rule.topic}\n" for rule in account.rules)
        blocks.append(f"# {account.note}\nuser {account.username}\n{rules}")
    return "\n".join(blocks)
