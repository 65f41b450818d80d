"""JWT access tokens and purpose-bound signed tokens with joserfc (HS256 only, claims validated)."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from datetime import datetime
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from chatcore.errors import InvalidToken
from chatcore.ports.security import IssuedToken

ALGORITHM = "HS256"
ISSUER = "chatcore"
ACCESS = "access"
VERIFIED_CACHE_SIZE = 10_000
"""Access tokens whose signature and claims were checked, remembered with their expiry (about
200 bytes each): a token is checked in full once, not on every request it authenticates."""


class JoseTokenService:
    """Signs with ``secret_key``; accepts only HS256, the right issuer, audience and type."""

    def __init__(self, secret_key: str, *, access_ttl: int = 900, audience: str = "chatcore-api") -> None:
        self._key = OctKey.import_key(secret_key.encode())
        self._access_ttl = access_ttl
        self._audience = audience
        self._verified: OrderedDict[str, tuple[int, int]] = OrderedDict()
        """Access token -> (user id, expiry); only tokens that passed the full check."""

    @property
    def remembered(self) -> int:
        """How many checked access tokens are remembered (at most ``VERIFIED_CACHE_SIZE``)."""
        return len(self._verified)

    def _encode(self, *, typ: str, subject: str, ttl: int, now: datetime) -> str:
        issued = int(now.timestamp())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": self._audience,
            "sub": subject,
            "iat": issued,
            "exp": issued + ttl,
            "jti": secrets.token_urlsafe(12),
            "typ": typ,
        }
        return jwt.encode({"alg": ALGORITHM}, claims, self._key, algorithms=[ALGORITHM])

    def _decode(self, token: str, *, typ: str, now: datetime) -> dict[str, Any]:
        try:
            decoded = jwt.decode(token, self._key, algorithms=[ALGORITHM])
            if decoded.header.get("alg") != ALGORITHM:
                raise InvalidToken
            registry = jwt.JWTClaimsRegistry(
                now=int(now.timestamp()),
                iss={"essential": True, "value": ISSUER},
                aud={"essential": True, "value": self._audience},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
                jti={"essential": True},
                typ={"essential": True, "value": typ},
            )
            registry.validate(decoded.claims)
        except (JoseError, ValueError, TypeError) as exc:
            raise InvalidToken from exc
        if not isinstance(decoded.claims["sub"], str):
            raise InvalidToken
        return decoded.claims

    def issue_access(self, user_id: int, *, now: datetime) -> IssuedToken:
        token = self._encode(typ=ACCESS, subject=str(user_id), ttl=self._access_ttl, now=now)
        return IssuedToken(token=token, expires_in=self._access_ttl)

    def verify_access(self, token: str, *, now: datetime) -> int:
        """The user id of a valid access token. A token seen before is looked up: its signature
        and claims cannot have changed, only the time, so only its expiry is checked again."""
        known = self._verified.get(token)
        if known is not None:
            user_id, expires = known
            if expires > now.timestamp():
                return user_id
            del self._verified[token]
            raise InvalidToken
        claims = self._decode(token, typ=ACCESS, now=now)
        subject = claims["sub"]
        if not subject.isdigit():
            raise InvalidToken
        self._verified[token] = (int(subject), int(claims["exp"]))
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)  # the oldest first checked
        return int(subject)

    def issue_signed(self, purpose: str, subject: str, *, ttl: int, now: datetime) -> str:
        if purpose == ACCESS:
            raise ValueError("use issue_access for access tokens")
        return self._encode(typ=purpose, subject=subject, ttl=ttl, now=now)

    def verify_signed(self, purpose: str, token: str, *, now: datetime) -> str:
        if purpose == ACCESS:
            raise InvalidToken
        subject: str = self._decode(token, typ=purpose, now=now)["sub"]
        return subject
