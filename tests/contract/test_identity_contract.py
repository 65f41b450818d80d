"""The identity ports' contracts, run unchanged against the fake and the real adapter of each.

``TokenService``: ``chatcore.testing.HmacTokens`` and ``adapters.identity.JoseTokenService``.
``PasswordHasher``: ``chatcore.testing.QuickHasher`` and ``adapters.identity.Argon2PasswordHasher``.
What only the real adapters do (JWT attacks, Argon2id) is tested in ``tests/identity/``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from adapters.identity import Argon2PasswordHasher, JoseTokenService
from chatcore.errors import InvalidToken
from chatcore.ports.security import PasswordHasher, TokenService
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
