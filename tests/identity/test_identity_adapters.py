"""What only the real identity adapters do, beyond tests/contract/test_identity_contract.py.

``JoseTokenService`` against hand-made JWTs (``alg: none``, another algorithm, audience, issuer,
missing or malformed claims); ``Argon2PasswordHasher`` makes Argon2id hashes.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from adapters.identity import Argon2PasswordHasher, JoseTokenService
from adapters.identity.tokens import ISSUER, VERIFIED_CACHE_SIZE
from chatcore.errors import InvalidToken

SECRET = "identity-test-secret-0123456789-abcdefghij"
T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
ACCESS_TTL = 900
PURPOSE = "oauth_state"


# --- JoseTokenService -------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _claims(**changes: object) -> dict[str, object]:
    """The claims of a valid access token for user 42 at T0, with ``changes`` (None removes one)."""
    issued = int(T0.timestamp())
    claims: dict[str, object] = {
        "iss": ISSUER,
        "aud": "chatcore-api",
        "sub": "42",
        "iat": issued,
        "exp": issued + ACCESS_TTL,
        "jti": "contract-test",
        "typ": "access",
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def _signed_jwt(claims: dict[str, object], *, alg: str = "HS256", secret: str = SECRET) -> str:
    return jwt.encode({"alg": alg}, claims, OctKey.import_key(secret.encode()), algorithms=[alg])


@pytest.fixture
def jose() -> JoseTokenService:
    return JoseTokenService(SECRET, access_ttl=ACCESS_TTL)


def test_a_hand_made_jwt_with_the_right_claims_is_accepted(jose: JoseTokenService) -> None:
    """The control for the attacks below: the hand-made tokens differ only where intended."""
    assert jose.verify_access(_signed_jwt(_claims()), now=T0) == 42


def test_a_jwt_with_a_flipped_signature_bit_is_invalid(jose: JoseTokenService) -> None:
    header, payload, signature = jose.issue_access(42, now=T0).token.split(".")
    raw = bytearray(_unb64(signature))
    raw[0] ^= 0x01

    with pytest.raises(InvalidToken):
        jose.verify_access(f"{header}.{payload}.{_b64(bytes(raw))}", now=T0)


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_an_unsigned_alg_none_jwt_is_invalid(jose: JoseTokenService, alg: str) -> None:
    _, payload, signature = jose.issue_access(42, now=T0).token.split(".")
    header = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())

    for forged in (f"{header}.{payload}.", f"{header}.{payload}.{signature}"):
        with pytest.raises(InvalidToken):
            jose.verify_access(forged, now=T0)


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_a_jwt_signed_with_another_algorithm_is_invalid(jose: JoseTokenService, alg: str) -> None:
    with pytest.raises(InvalidToken):
        jose.verify_access(_signed_jwt(_claims(), alg=alg), now=T0)


def test_a_jwt_for_another_audience_is_invalid(jose: JoseTokenService) -> None:
    elsewhere = JoseTokenService(SECRET, access_ttl=ACCESS_TTL, audience="another-service")

    with pytest.raises(InvalidToken):
        jose.verify_access(elsewhere.issue_access(42, now=T0).token, now=T0)
    with pytest.raises(InvalidToken):
        jose.verify_access(_signed_jwt(_claims(aud="another-service")), now=T0)


def test_a_jwt_from_another_issuer_is_invalid(jose: JoseTokenService) -> None:
    with pytest.raises(InvalidToken):
        jose.verify_access(_signed_jwt(_claims(iss="someone-else")), now=T0)


@pytest.mark.parametrize("claim", ["iss", "aud", "sub", "iat", "exp", "jti", "typ"])
def test_a_jwt_missing_a_claim_is_invalid(jose: JoseTokenService, claim: str) -> None:
    token = _signed_jwt(_claims(**{claim: None}))

    with pytest.raises(InvalidToken):
        jose.verify_access(token, now=T0)


@pytest.mark.parametrize(
    "changes",
    [
        {"sub": 42},
        {"sub": "not-a-user-id"},
        {"exp": "tomorrow"},
        {"typ": PURPOSE},
        {"aud": ["another-service"]},
    ],
    ids=["numeric sub", "non-numeric sub", "text exp", "other type", "audience list without us"],
)
def test_a_jwt_with_a_malformed_claim_is_invalid(jose: JoseTokenService, changes: dict[str, object]) -> None:
    with pytest.raises(InvalidToken):
        jose.verify_access(_signed_jwt(_claims(**changes)), now=T0)


# --- Argon2PasswordHasher ---------------------------------------------------------------------


async def test_argon2_hashes_are_argon2id() -> None:
    hasher = Argon2PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

    assert (await hasher.hash("correct horse 1")).startswith("$argon2id$")


def test_a_token_checked_before_still_expires(jose: JoseTokenService) -> None:
    token = jose.issue_access(42, now=T0).token
    assert jose.verify_access(token, now=T0) == 42
    ttl = jose.issue_access(42, now=T0).expires_in

    assert jose.verify_access(token, now=T0 + timedelta(seconds=ttl - 1)) == 42  # remembered
    with pytest.raises(InvalidToken):  # as the full check: expired at its "exp"
        jose.verify_access(token, now=T0 + timedelta(seconds=ttl))
    with pytest.raises(InvalidToken):  # and stays refused
        jose.verify_access(token, now=T0 + timedelta(seconds=ttl + 60))


def test_a_remembered_token_does_not_vouch_for_a_changed_one(jose: JoseTokenService) -> None:
    token = jose.issue_access(42, now=T0).token
    assert jose.verify_access(token, now=T0) == 42
    header, payload, signature = token.split(".")
    claims = json.loads(_unb64(payload))
    forged_payload = _b64(json.dumps({**claims, "sub": "43"}).encode())

    with pytest.raises(InvalidToken):
        jose.verify_access(f"{header}.{forged_payload}.{signature}", now=T0)
    with pytest.raises(InvalidToken):
        jose.verify_access(token[:-2] + ("AA" if not token.endswith("AA") else "BB"), now=T0)


def test_remembered_tokens_are_bounded(jose: JoseTokenService) -> None:
    tokens = [jose.issue_access(n, now=T0).token for n in range(1, VERIFIED_CACHE_SIZE + 50)]
    for n, token in enumerate(tokens, start=1):
        assert jose.verify_access(token, now=T0) == n
    assert jose.remembered == VERIFIED_CACHE_SIZE
    assert jose.verify_access(tokens[0], now=T0) == 1  # forgotten, checked again in full
