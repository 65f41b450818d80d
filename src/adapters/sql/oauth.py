"""SQL repository of started OAuth logins (states) and their one-time codes, stored hashed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, update

from adapters.sql.schema import oauth_codes, oauth_states
from adapters.sql.transaction import Repository
from chatcore.model import Provider
from chatcore.ports.storage import OAuthState


class SqlOAuthRepository(Repository):
    async def add_state(self, state: OAuthState) -> None:
        await self._tx.execute(
            insert(oauth_states).values(
                state_hash=state.state_hash,
                browser_hash=state.browser_hash,
                provider=state.provider.value,
                user_id=state.user_id,
                expires_at=state.expires_at,
            )
        )

    async def take_state(
        self, *, state_hash: str, browser_hash: str, provider: Provider, now: datetime
    ) -> OAuthState | None:
        # One DELETE ... RETURNING: of concurrent takers, the row goes to one (the others find
        # it gone once the first commits). Another browser's hash matches nothing and removes nothing.
        stmt = (
            delete(oauth_states)
            .where(
                oauth_states.c.state_hash == state_hash,
                oauth_states.c.browser_hash == browser_hash,
                oauth_states.c.provider == provider.value,
                oauth_states.c.expires_at > now,
            )
            .returning(oauth_states.c.user_id, oauth_states.c.expires_at)
        )
        row = (await self._tx.execute(stmt)).first()
        if row is None:
            return None
        return OAuthState(
            state_hash=state_hash,
            browser_hash=browser_hash,
            provider=provider,
            expires_at=row.expires_at,
            user_id=row.user_id,
        )

    async def add_code(self, *, code_hash: str, user_id: int, expires_at: datetime) -> None:
        await self._tx.execute(
            insert(oauth_codes).values(code_hash=code_hash, user_id=user_id, expires_at=expires_at)
        )

    async def use_code(self, code_hash: str, *, now: datetime) -> int | None:
        stmt = (
            update(oauth_codes)
            .where(
                oauth_codes.c.code_hash == code_hash,
                oauth_codes.c.used.is_(False),
                oauth_codes.c.expires_at > now,
            )
            .values(used=True)
            .returning(oauth_codes.c.user_id)
        )
        user_id: int | None = (await self._tx.execute(stmt)).scalar()
        return user_id

    async def purge(self, *, now: datetime) -> int:
        states = await self._tx.execute(delete(oauth_states).where(oauth_states.c.expires_at < now))
        codes = await self._tx.execute(delete(oauth_codes).where(oauth_codes.c.expires_at < now))
        return states.rowcount + codes.rowcount
