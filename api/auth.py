"""Who is asking and what they may read: bearer tokens scoped to villages and to read or admin.

401 means "who are you?" (no token where one is needed, or a token we do not know); 403 means "we know you,
and you may not" (a village outside the token's scope, or an admin action with a read token).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from api.errors import Forbidden, Unauthorized
from api.settings import ALL_VILLAGES, ApiSettings, TokenGrant

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: `villages` None means every village."""

    name: str
    villages: frozenset[str] | None
    admin: bool = False
    anonymous: bool = False

    def may_read(self, village: str) -> bool:
        """Whether this caller may read data of `village`."""
        return self.villages is None or village in self.villages

    def readable(self, villages: Iterable[str]) -> list[str]:
        """The villages of `villages` this caller may read, in order."""
        return [v for v in villages if self.may_read(v)]

    def require_village(self, village: str) -> None:
        """Raises:
        Forbidden: the caller may not read `village`.
        """
        if not self.may_read(village):
            raise Forbidden("forbidden", f"this token may not read village {village!r}")

    def require_admin(self) -> None:
        """Raises:
        Unauthorized: an anonymous (open-data) caller: who is asking must be known first.
        Forbidden: the caller is not an admin.
        """
        if self.anonymous:
            raise Unauthorized("missing_token", "this action needs a bearer token with the admin scope")
        if not self.admin:
            raise Forbidden("admin_required", "this action needs a token with the admin scope")


PUBLIC = Principal(name="public", villages=None, anonymous=True)


def _principal(grant: TokenGrant) -> Principal:
    villages = None if ALL_VILLAGES in grant.villages else frozenset(grant.villages)
    return Principal(name=grant.name, villages=villages, admin=grant.scope == "admin")


def authenticate(settings: ApiSettings, token: str | None) -> Principal:
    """The principal for a bearer token (None when the request carried none).

    Every configured token is compared in constant time, so timing does not reveal how much of a guess matched.

    Raises:
        Unauthorized: no token while reads are not public, or a token that matches none configured.
    """
    if token is None:
        if settings.api_public_read:
            return PUBLIC
        raise Unauthorized("missing_token", "a bearer token is required (Authorization: Bearer <token>)")
    offered = token.encode()
    matched = [g for g in settings.api_tokens if secrets.compare_digest(offered, g.token.get_secret_value().encode())]
    if not matched:
        logger.info("refused a request with an unknown bearer token")
        raise Unauthorized("invalid_token", "the bearer token is not valid")
    return _principal(matched[0])
