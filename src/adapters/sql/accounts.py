"""SQL repositories of the account side: users, linked identities, refresh tokens, API keys."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Integer,
    Row,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    update,
)

from adapters.sql.schema import (
    anonymous_usage,
    api_keys,
    identities,
    login_failures,
    quota_usage,
    refresh_tokens,
    users,
)
from adapters.sql.transaction import Repository
from chatcore.errors import (
    Conflict,
    EmailTaken,
    LastAdmin,
    LastLoginMethod,
    TooManyApiKeys,
    UsernameTaken,
    UserNotFound,
)
from chatcore.model import ApiKey, LinkedAccount, Provider, RefreshRecord, User
from chatcore.throttling import account_key

USER_COLUMNS = (
    users.c.id,
    users.c.username,
    users.c.email,
    users.c.password_hash,
    users.c.date_joined,
    users.c.is_admin,
    users.c.daily_limit,
    users.c.is_active,
)
_GET_USER = select(*USER_COLUMNS).where(users.c.id == bindparam("user_id"))


def user_of(row: Row[Any]) -> User:
    return User(
        id=row.id,
        username=row.username,
        email=row.email,
        password_hash=row.password_hash,
        date_joined=row.date_joined,
        is_admin=bool(row.is_admin),
        daily_limit=row.daily_limit,
        is_active=bool(row.is_active),
    )


class SqlUserRepository(Repository):
    async def add(
        self,
        *,
        username: str,
        email: str | None,
        password_hash: str | None,
        now: datetime,
        is_admin: bool = False,
    ) -> User:
        # ON CONFLICT DO NOTHING instead of catching the violation: on PostgreSQL a failed
        # statement would poison the whole transaction.
        values = {
            "username": username,
            "username_key": username.casefold(),
            "email": email,
            "email_key": None if email is None else email.casefold(),
            "password_hash": password_hash,
            "date_joined": now,
            "is_admin": is_admin,
        }
        stmt = self._tx.upsert(users).values(values).on_conflict_do_nothing().returning(*USER_COLUMNS)
        row = (await self._tx.execute(stmt)).first()
        if row is not None:
            return user_of(row)
        clash = users.c.username_key == values["username_key"]
        if email is not None:  # (comparing with None would mean IS NULL: every user without one)
            clash = or_(clash, users.c.email_key == values["email_key"])
        taken = select(users.c.username_key).where(clash)
        keys = (await self._tx.execute(taken)).scalars().all()
        if values["username_key"] in keys:
            raise UsernameTaken
        if keys:
            raise EmailTaken
        raise Conflict

    async def get(self, user_id: int) -> User | None:
        row = (await self._tx.execute(_GET_USER, {"user_id": user_id})).first()
        return None if row is None else user_of(row)

    async def find_by_login(self, login: str) -> User | None:
        key = login.casefold()
        # Usernames cannot contain "@" and e-mails must: at most one user matches.
        stmt = (
            select(*USER_COLUMNS).where(or_(users.c.username_key == key, users.c.email_key == key)).limit(1)
        )
        row = (await self._tx.execute(stmt)).first()
        return None if row is None else user_of(row)

    async def username_exists(self, username: str) -> bool:
        stmt = select(exists().where(users.c.username_key == username.casefold()))
        return bool((await self._tx.execute(stmt)).scalar())

    async def update(
        self,
        user_id: int,
        *,
        email: str | None = None,
        password_hash: str | None = None,
        is_admin: bool | None = None,
        is_active: bool | None = None,
    ) -> User:
        values: dict[str, Any] = {}
        stmt = update(users).where(users.c.id == user_id)
        if email is not None:
            values.update(email=email, email_key=email.casefold())
            # Checked in the same statement; a concurrent taker still hits the unique index.
            others = select(users.c.id).where(users.c.email_key == email.casefold(), users.c.id != user_id)
            stmt = stmt.where(~others.exists())
        if password_hash is not None:
            values["password_hash"] = password_hash
        if is_admin is not None:
            values["is_admin"] = is_admin
        if is_active is not None:
            values["is_active"] = is_active
        if not values:
            user = await self.get(user_id)
            if user is None:
                raise UserNotFound
            return user
        row = (await self._tx.execute(stmt.values(values).returning(*USER_COLUMNS))).first()
        if row is not None:
            return user_of(row)
        if await self.get(user_id) is None:
            raise UserNotFound
        raise EmailTaken

    async def set_daily_limit(self, user_id: int, limit: int | None) -> User:
        stmt = update(users).where(users.c.id == user_id).values(daily_limit=limit).returning(*USER_COLUMNS)
        row = (await self._tx.execute(stmt)).first()
        if row is None:
            raise UserNotFound
        return user_of(row)

    async def lock_active_admins(self) -> list[int]:
        # Locked in id order, so two such transactions queue instead of deadlocking; the second
        # then re-reads the rows and no longer counts an administrator the first one removed.
        admins = (
            select(users.c.id)
            .where(users.c.is_admin.is_(True), users.c.is_active.is_(True))
            .order_by(users.c.id)
            .with_for_update()
        )
        return list((await self._tx.execute(admins)).scalars().all())

    async def delete(self, user_id: int, *, joined_day: date | None = None) -> bool:
        user = await self.get(user_id)
        if user is None:
            return False
        if user.is_admin and user.is_active and set(await self.lock_active_admins()) <= {user_id}:
            raise LastAdmin
        mine = select(quota_usage.c.day, quota_usage.c.used, literal(1, Integer)).where(
            quota_usage.c.user_id == user_id, quota_usage.c.used > 0
        )
        fold = self._tx.upsert(anonymous_usage).from_select(["day", "used", "users"], mine)
        await self._tx.execute(
            fold.on_conflict_do_update(
                index_elements=[anonymous_usage.c.day],
                set_={
                    "used": anonymous_usage.c.used + fold.excluded.used,
                    "users": anonymous_usage.c.users + fold.excluded.users,
                },
            )
        )
        if joined_day is not None:
            joined = self._tx.upsert(anonymous_usage).values(day=joined_day, used=0, users=0, joined=1)
            await self._tx.execute(
                joined.on_conflict_do_update(
                    index_elements=[anonymous_usage.c.day], set_={"joined": anonymous_usage.c.joined + 1}
                )
            )
        await self._tx.execute(delete(login_failures).where(login_failures.c.key == account_key(user_id)))
        # Everything else that refers to the user goes by ON DELETE CASCADE, in this statement.
        return (await self._tx.execute(delete(users).where(users.c.id == user_id))).rowcount == 1


class SqlIdentityRepository(Repository):
    async def find_user_id(self, provider: Provider, subject: str) -> int | None:
        stmt = select(identities.c.user_id).where(
            identities.c.provider == provider.value, identities.c.subject == subject
        )
        user_id: int | None = (await self._tx.execute(stmt)).scalar()
        return user_id

    async def link(self, user_id: int, account: LinkedAccount) -> None:
        # One statement: insert, or refresh the login of a link this user already has; a link
        # owned by someone else is left alone and reported.
        stmt = self._tx.upsert(identities).values(
            provider=account.provider.value,
            subject=account.subject,
            user_id=user_id,
            login=account.login,
        )
        upsert = stmt.on_conflict_do_update(
            index_elements=[identities.c.provider, identities.c.subject],
            set_={"login": stmt.excluded.login},
            where=identities.c.user_id == stmt.excluded.user_id,
        ).returning(identities.c.user_id)
        if (await self._tx.execute(upsert)).first() is None:
            raise Conflict("This account is already linked to another user.")

    async def list_for(self, user_id: int) -> list[LinkedAccount]:
        stmt = (
            select(identities.c.provider, identities.c.subject, identities.c.login)
            .where(identities.c.user_id == user_id)
            .order_by(identities.c.provider, identities.c.subject)
        )
        rows = (await self._tx.execute(stmt)).all()
        return [LinkedAccount(provider=Provider(r.provider), subject=r.subject, login=r.login) for r in rows]

    async def unlink(self, user_id: int, provider: Provider) -> bool:
        # The user's row is locked first (PostgreSQL; SQLite's writers take turns anyway), so two
        # unlinks of one user's last two accounts queue, and the second sees the first's effect.
        lock = select(users.c.password_hash).where(users.c.id == user_id).with_for_update()
        owner = (await self._tx.execute(lock)).first()
        mine = select(identities.c.provider).where(identities.c.user_id == user_id)
        linked = list((await self._tx.execute(mine)).scalars().all())
        if provider.value not in linked:
            return False
        if (owner is None or owner.password_hash is None) and set(linked) == {provider.value}:
            raise LastLoginMethod
        gone = delete(identities).where(
            identities.c.user_id == user_id, identities.c.provider == provider.value
        )
        await self._tx.execute(gone)
        return True


_TOKEN = (
    refresh_tokens.c.token_hash,
    refresh_tokens.c.user_id,
    refresh_tokens.c.family,
    refresh_tokens.c.expires_at,
    refresh_tokens.c.used,
    refresh_tokens.c.revoked,
)


class SqlRefreshTokenRepository(Repository):
    async def add(self, record: RefreshRecord) -> None:
        await self._tx.execute(
            insert(refresh_tokens).values(
                token_hash=record.token_hash,
                user_id=record.user_id,
                family=record.family,
                expires_at=record.expires_at,
                used=record.used,
                revoked=record.revoked,
            )
        )

    async def find(self, token_hash: str) -> RefreshRecord | None:
        stmt = select(*_TOKEN).where(refresh_tokens.c.token_hash == token_hash)
        row = (await self._tx.execute(stmt)).first()
        if row is None:
            return None
        return RefreshRecord(
            token_hash=row.token_hash,
            user_id=row.user_id,
            family=row.family,
            expires_at=row.expires_at,
            used=bool(row.used),
            revoked=bool(row.revoked),
        )

    async def mark_used(self, token_hash: str) -> bool:
        stmt = (
            update(refresh_tokens)
            .where(
                refresh_tokens.c.token_hash == token_hash,
                refresh_tokens.c.used.is_(False),
                refresh_tokens.c.revoked.is_(False),
            )
            .values(used=True)
        )
        return (await self._tx.execute(stmt)).rowcount == 1

    async def revoke_family(self, family: str) -> None:
        stmt = update(refresh_tokens).where(refresh_tokens.c.family == family).values(revoked=true())
        await self._tx.execute(stmt)

    async def revoke_user(self, user_id: int) -> None:
        stmt = update(refresh_tokens).where(refresh_tokens.c.user_id == user_id).values(revoked=true())
        await self._tx.execute(stmt)

    async def purge_expired(self, now: datetime) -> int:
        # NOT EXISTS, not NOT IN: PostgreSQL plans it as an anti-join on the family index
        # (NOT IN over a large subquery degrades to a nested scan).
        live = refresh_tokens.alias("live")
        still_live = (
            select(live.c.token_hash)
            .where(live.c.family == refresh_tokens.c.family, live.c.expires_at >= now)
            .exists()
        )
        stmt = delete(refresh_tokens).where(refresh_tokens.c.expires_at < now, ~still_live)
        return (await self._tx.execute(stmt)).rowcount


_API_KEY = (
    api_keys.c.id,
    api_keys.c.user_id,
    api_keys.c.name,
    api_keys.c.prefix,
    api_keys.c.created_at,
    api_keys.c.last_used_at,
)


class SqlApiKeyRepository(Repository):
    async def add(
        self,
        *,
        user_id: int,
        name: str,
        prefix: str,
        key_hash: str,
        now: datetime,
        at_most: int | None = None,
    ) -> ApiKey:
        if at_most is not None:
            # The user's row is locked first (PostgreSQL; SQLite's write transactions take turns
            # anyway), so two concurrent adds cannot both count the same keys.
            await self._tx.execute(select(users.c.id).where(users.c.id == user_id).with_for_update())
            count = select(func.count()).select_from(api_keys).where(api_keys.c.user_id == user_id)
            if (await self._tx.execute(count)).scalar_one() >= at_most:
                raise TooManyApiKeys
        stmt = (
            insert(api_keys)
            .values(user_id=user_id, name=name, prefix=prefix, key_hash=key_hash, created_at=now)
            .returning(api_keys.c.id)
        )
        key_id: int = (await self._tx.execute(stmt)).scalar_one()
        return ApiKey(id=key_id, user_id=user_id, name=name, prefix=prefix, created_at=now)

    async def find(self, key_hash: str) -> ApiKey | None:
        # The owner's state in the same statement: a deactivated account's keys stop working
        # without another round trip.
        stmt = (
            select(*_API_KEY)
            .join(users, users.c.id == api_keys.c.user_id)
            .where(api_keys.c.key_hash == key_hash, users.c.is_active.is_(True))
        )
        row = (await self._tx.execute(stmt)).first()
        return None if row is None else ApiKey(**row._asdict())

    async def record_use(self, key_id: int, *, now: datetime, unless_since: datetime) -> None:
        stmt = (
            update(api_keys)
            .where(
                api_keys.c.id == key_id,
                or_(api_keys.c.last_used_at.is_(None), api_keys.c.last_used_at < unless_since),
            )
            .values(last_used_at=now)
        )
        await self._tx.execute(stmt)

    async def list_for(self, user_id: int) -> list[ApiKey]:
        stmt = select(*_API_KEY).where(api_keys.c.user_id == user_id).order_by(api_keys.c.id)
        return [ApiKey(**row._asdict()) for row in (await self._tx.execute(stmt)).all()]

    async def delete(self, user_id: int, key_id: int) -> bool:
        stmt = delete(api_keys).where(api_keys.c.id == key_id, api_keys.c.user_id == user_id)
        return (await self._tx.execute(stmt)).rowcount == 1
