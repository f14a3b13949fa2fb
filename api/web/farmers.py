"""Farmers' personal links: who may see which fields, kept apart from the (public) device registry.

The registry is public data (the API serves it and a demo copy is committed), so the secrets that open a
farmer's page live in their own TOML file, `VILLAGE_FARMERS_FILE` (default `$VILLAGE_DATA_DIR/farmers.toml`),
written with mode 0600. A token is 128 random bits (22 URL-safe characters, short enough for an SMS); the
page `/f/{token}` shows that farmer's fields and the air and water of their villages, nothing else. Tokens are
stored in clear so an officer can send the same link again (`village farmers link`); whoever can read the file
can read every farmer's fields, like whoever can read `.env` can read everything.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import tomllib
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from api.watched import WatchedFile
from devices.ids import Identifier

logger = logging.getLogger(__name__)

TOKEN_BYTES = 16
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{22,128}")
FILE_MODE = 0o600


class FarmersFileError(ValueError):
    """The farmers file does not parse or is inconsistent; the message says where."""


def new_token() -> str:
    """A fresh, unguessable token for a link (128 bits from the OS's CSPRNG)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


class Farmer(BaseModel):
    """A farmer with a personal link: which devices (their fields) it opens."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    id: Identifier
    name: str = Field(min_length=1, max_length=120)
    phone: str | None = Field(None, max_length=32)
    devices: tuple[Identifier, ...] = Field(min_length=1)
    token: str = Field(repr=False)
    created: date | None = None

    @field_validator("token")
    @classmethod
    def _strong(cls, value: str) -> str:
        if not TOKEN_PATTERN.fullmatch(value):
            raise ValueError("token must be 22 to 128 URL-safe characters (use `village farmers link --new`)")
        return value


class Farmers(BaseModel):
    """Every farmer of the file; ids and tokens are unique."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    farmers: tuple[Farmer, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> Farmers:
        ids = [f.id for f in self.farmers]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate farmer ids: {', '.join(duplicates)}")
        if len({f.token for f in self.farmers}) != len(self.farmers):
            raise ValueError("two farmers share a token: give one of them a new link")
        return self

    def by_token(self, token: str) -> Farmer | None:
        """The farmer whose token is `token`, comparing every token in constant time."""
        offered = token.encode()
        found = None
        for farmer in self.farmers:
            if secrets.compare_digest(offered, farmer.token.encode()):
                found = farmer
        return found

    def get(self, farmer_id: str) -> Farmer | None:
        """The farmer with this id."""
        return next((f for f in self.farmers if f.id == farmer_id), None)

    def with_farmer(self, farmer: Farmer) -> Farmers:
        """A copy with `farmer` added at the end, or replacing the farmer with the same id in place."""
        if self.get(farmer.id) is None:
            return Farmers(farmers=(*self.farmers, farmer))
        return Farmers(farmers=tuple(farmer if f.id == farmer.id else f for f in self.farmers))

    def without(self, farmer_id: str) -> Farmers:
        """A copy without the farmer `farmer_id`."""
        return Farmers(farmers=tuple(f for f in self.farmers if f.id != farmer_id))


def parse_farmers(text: str) -> Farmers:
    """Parse the farmers TOML (`[[farmer]]` tables). Error messages never include a token.

    Raises:
        FarmersFileError: the TOML is malformed or inconsistent.
    """
    try:
        data: dict[str, Any] = tomllib.loads(text)
        return Farmers(farmers=tuple(data.get("farmer", ())))
    except tomllib.TOMLDecodeError as exc:
        raise FarmersFileError(f"invalid farmers file: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise FarmersFileError(f"invalid farmers file: {problems}") from None


def format_farmers(farmers: Farmers) -> str:
    """The farmers TOML, one `[[farmer]]` table each, without empty optional keys."""
    return tomli_w.dumps({"farmer": [f.model_dump(exclude_none=True) for f in farmers.farmers]})


def slug(name: str) -> str:
    """An id from a Vietnamese name: `Nguyễn Văn Ân` → `nguyen-van-an`."""
    plain = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    ascii_only = "".join(c for c in plain if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_only).strip("-")[:56] or "farmer"


def load_farmers(path: Path) -> Farmers:
    """The farmers in `path`; a missing file is nobody.

    Raises:
        FarmersFileError: the file does not parse.
    """
    try:
        return parse_farmers(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Farmers()


def save_farmers(path: Path, farmers: Farmers) -> None:
    """Write atomically with mode 0600 from the first byte, keeping the old file's owner when we may.

    The API container reads the file as its own user: an operator who gave it the file (chown) keeps it so.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        if path.exists():
            old = path.stat()
            try:
                os.fchown(fd, old.st_uid, old.st_gid)
            except PermissionError:
                logger.debug("could not keep the owner of %s", path)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(format_farmers(farmers))
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    temporary.replace(path)


class FarmersFile(WatchedFile[Farmers]):
    """The farmers file as the API sees it: re-read when it changes, the last good version kept on errors."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, parse=parse_farmers, empty=Farmers(), what="farmers list", errors=(FarmersFileError,))

    def loaded(self, content: Farmers) -> None:
        """Log the count, and warn when other users may read the links."""
        if self.path.stat().st_mode & 0o077:
            logger.warning("%s is readable by other users: chmod 600 it (it holds farmers' links)", self.path)
        logger.info("farmers file %s loaded: %d farmers", self.path, len(content.farmers))
