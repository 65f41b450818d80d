"""Identity adapters: Argon2id passwords, JWT access tokens (joserfc), OAuth2 clients (authlib)."""

from adapters.identity.passwords import Argon2PasswordHasher
from adapters.identity.tokens import JoseTokenService

__all__ = ["Argon2PasswordHasher", "JoseTokenService"]
