"""The identity ports' contracts, run unchanged against the fake and the real adapter of each.

``TokenService``: ``chatcore.testing.HmacTokens`` and ``adapters.identity.JoseTokenService``.
``PasswordHasher``: ``chatcore.testing.QuickHasher`` and ``adapters.identity.Argon2PasswordHasher``.
The JWT attacks at the end (``alg: none``, another algorithm, audience, issuer, missing claims)
only make sense for the JWT adapter.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from adapters.identity import Argon2PasswordHasher, JoseTokenService
from adapters.identity.tokens import ISSUER
from chatcore.errors import InvalidToken
from chatcore.ports import PasswordHasher, TokenService
from chatcore.testing import HmacTokens, QuickHasher

SECRET = "contract-test-secret-0123456789-abcdefghij"
OTHER_SECRET = "another-secret-9876543210-zyxwvutsrqponmlk"
T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
ACCESS_TTL = 900
PURPOSE = "oauth_state"

# --- TokenService -----------------------------------------------------------------------------

TOKEN_SERVICES: dict[str, Callable[[str], TokenService]] = {
    "hmac": lambda secret: HmacTokens(secret.encode(), access_ttl=ACCESS_TTL),
    "jose": lambda secret: JoseTokenService(secret, access_ttl=ACCESS_TTL),
}


@pytest.fixture(params=list(TOKEN_SERVICES.values()), ids=list(TOKEN_SERVICES))
def make_tokens(request: pytest.FixtureRequest) -> Callable[[str], TokenService]:
    factory: Callable[[str], TokenService] = request.param
    return factory


@pytest.fixture
def tokens(make_tokens: Callable[[str], TokenService]) -> TokenService:
    return make_tokens(SECRET)


def _after(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_an_access_token_names_its_user_until_it_expires(tokens: TokenService) -> None:
    issued = tokens.issue_access(42, now=T0)

    assert issued.expires_in == ACCESS_TTL
    assert tokens.verify_access(issued.token, now=T0) == 42
    assert tokens.verify_access(issued.token, now=_after(ACCESS_TTL - 1)) == 42
    with pytest.raises(InvalidToken):
        tokens.verify_access(issued.token, now=_after(ACCESS_TTL))
    with pytest.raises(InvalidToken):
        tokens.verify_access(issued.token, now=_after(86_400 * 365))


@pytest.mark.parametrize("subject", ["abc-123", "github:4242|/#/chats?x=1&y=2", "한국어 주제"])
def test_a_signed_token_carries_its_subject_until_it_expires(tokens: TokenService, subject: str) -> None:
    token = tokens.issue_signed(PURPOSE, subject, ttl=60, now=T0)

    assert tokens.verify_signed(PURPOSE, token, now=T0) == subject
    assert tokens.verify_signed(PURPOSE, token, now=_after(59)) == subject
    with pytest.raises(InvalidToken):
        tokens.verify_signed(PURPOSE, token, now=_after(60))


def test_two_tokens_for_the_same_subject_both_work(tokens: TokenService) -> None:
    first = tokens.issue_access(7, now=T0).token
    second = tokens.issue_access(7, now=_after(1)).token

    assert tokens.verify_access(first, now=_after(2)) == 7
    assert tokens.verify_access(second, now=_after(2)) == 7


def test_a_signed_token_is_bound_to_its_purpose(tokens: TokenService) -> None:
    token = tokens.issue_signed(PURPOSE, "abc", ttl=60, now=T0)

    with pytest.raises(InvalidToken):
        tokens.verify_signed("link", token, now=T0)


@pytest.mark.parametrize("purpose", [PURPOSE, "link", "access"])
def test_an_access_token_is_not_a_signed_token_of_any_purpose(tokens: TokenService, purpose: str) -> None:
    access = tokens.issue_access(42, now=T0).token

    with pytest.raises(InvalidToken):
        tokens.verify_signed(purpose, access, now=T0)


@pytest.mark.parametrize("purpose", [PURPOSE, "link"])
def test_a_signed_token_is_not_an_access_token(tokens: TokenService, purpose: str) -> None:
    signed = tokens.issue_signed(purpose, "42", ttl=60, now=T0)

    with pytest.raises(InvalidToken):
        tokens.verify_access(signed, now=T0)


def test_an_access_token_cannot_be_minted_as_a_signed_token(tokens: TokenService) -> None:
    with pytest.raises(ValueError, match="access"):
        tokens.issue_signed("access", "42", ttl=60, now=T0)


def test_a_token_signed_with_another_key_is_invalid(make_tokens: Callable[[str], TokenService]) -> None:
    ours, theirs = make_tokens(SECRET), make_tokens(OTHER_SECRET)
    access = theirs.issue_access(42, now=T0).token
    signed = theirs.issue_signed(PURPOSE, "abc", ttl=60, now=T0)

    with pytest.raises(InvalidToken):
        ours.verify_access(access, now=T0)
    with pytest.raises(InvalidToken):
        ours.verify_signed(PURPOSE, signed, now=T0)


def _tampered(token: str) -> list[str]:
    """``token`` with one character changed at several places.

    The last character of each base64url segment is skipped: its low bits may be padding, so
    changing it need not change the decoded bytes.
    """
    variants = []
    for index in range(0, len(token), max(len(token) // 12, 1)):
        segment_end = index + 1 == len(token) or token[index + 1] == "."
        if token[index] == "." or segment_end:
            continue
        replacement = "A" if token[index] != "A" else "B"
        variants.append(token[:index] + replacement + token[index + 1 :])
    return variants


def test_a_tampered_access_token_is_invalid(tokens: TokenService) -> None:
    token = tokens.issue_access(42, now=T0).token
    variants = _tampered(token)
    assert len(variants) >= 8

    for variant in variants:
        with pytest.raises(InvalidToken):
            tokens.verify_access(variant, now=T0)


def test_a_tampered_signed_token_is_invalid(tokens: TokenService) -> None:
    token = tokens.issue_signed(PURPOSE, "abc", ttl=60, now=T0)

    for variant in _tampered(token):
        with pytest.raises(InvalidToken):
            tokens.verify_signed(PURPOSE, variant, now=T0)


def test_a_signature_moved_onto_another_token_is_invalid(tokens: TokenService) -> None:
    mine = tokens.issue_access(1, now=T0).token
    victims = tokens.issue_access(2, now=T0).token
    forged = victims.rpartition(".")[0] + "." + mine.rpartition(".")[2]

    with pytest.raises(InvalidToken):
        tokens.verify_access(forged, now=T0)


@pytest.mark.parametrize(
    "garbage", ["", ".", "..", "a.b", "a.b.c", "not a token", "é.é.é", "Bearer x", "\x00", "A" * 5000]
)
def test_garbage_is_an_invalid_token(tokens: TokenService, garbage: str) -> None:
    with pytest.raises(InvalidToken):
        tokens.verify_access(garbage, now=T0)
    with pytest.raises(InvalidToken):
        tokens.verify_signed(PURPOSE, garbage, now=T0)


# --- JWT-specific attacks on JoseTokenService ---------------------------------------------------


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


# --- PasswordHasher ---------------------------------------------------------------------------

# Each entry: the hasher under test and one of the same kind with other parameters.
HASHERS: dict[str, Callable[[], tuple[PasswordHasher, PasswordHasher]]] = {
    "quick": lambda: (QuickHasher(iterations=1_000), QuickHasher(iterations=500)),
    "argon2": lambda: (
        Argon2PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),
        Argon2PasswordHasher(time_cost=2, memory_cost=8, parallelism=1),
    ),
}


@pytest.fixture(params=list(HASHERS.values()), ids=list(HASHERS))
def hashers(request: pytest.FixtureRequest) -> tuple[PasswordHasher, PasswordHasher]:
    factory: Callable[[], tuple[PasswordHasher, PasswordHasher]] = request.param
    return factory()


@pytest.fixture
def hasher(hashers: tuple[PasswordHasher, PasswordHasher]) -> PasswordHasher:
    return hashers[0]


@pytest.mark.parametrize(
    "password", ["correct horse 1", "비밀번호는 한국어 123", " spaces around ", "x" * 1024]
)
async def test_a_hash_verifies_its_password_and_no_other(hasher: PasswordHasher, password: str) -> None:
    password_hash = await hasher.hash(password)

    assert password not in password_hash
    assert await hasher.verify(password_hash, password)
    for other in (password.upper(), password.strip() + "!", password[:-1], ""):
        if other != password:
            assert not await hasher.verify(password_hash, other)


async def test_hashes_are_salted(hasher: PasswordHasher) -> None:
    first = await hasher.hash("correct horse 1")
    second = await hasher.hash("correct horse 1")

    assert first != second
    assert await hasher.verify(first, "correct horse 1")
    assert await hasher.verify(second, "correct horse 1")


@pytest.mark.parametrize(
    "malformed",
    [
        "",
        "$",
        "garbage",
        "pbkdf2$1000$salt$zz",
        "pbkdf2$x$y$z",
        "$argon2id$v=19$m=8,t=1,p=1$bad",
        "$argon2id$",
        "$argon2id$v=19$m=8,t=1,p=1$sälz$häsh",
        "pbkdf2$1000$sälz$\u00e9",
    ],
)
async def test_a_malformed_hash_never_verifies(hasher: PasswordHasher, malformed: str) -> None:
    assert not await hasher.verify(malformed, "correct horse 1")
    assert hasher.needs_rehash(malformed)


async def test_a_fresh_hash_needs_no_rehash(hasher: PasswordHasher) -> None:
    assert not hasher.needs_rehash(await hasher.hash("correct horse 1"))


async def test_a_hash_made_with_other_parameters_still_verifies_but_needs_a_rehash(
    hashers: tuple[PasswordHasher, PasswordHasher],
) -> None:
    hasher, retuned = hashers
    old_hash = await retuned.hash("correct horse 1")

    assert await hasher.verify(old_hash, "correct horse 1")
    assert not await hasher.verify(old_hash, "correct horse 2")
    assert hasher.needs_rehash(old_hash)


async def test_argon2_hashes_are_argon2id() -> None:
    hasher = Argon2PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

    assert (await hasher.hash("correct horse 1")).startswith("$argon2id$")
