"""Administration (SPEC §4.6): users, their limits, deactivation, roles, deletion, usage
statistics and the audit trail. One public method per use case.

Every use case names who acts (an :class:`Operator`): an active administrator, checked in the
same transaction as the action, or the server's shell (``chatcore admin ...``), which is trusted
as the machine's operator. Every change is appended to the audit trail in the transaction that
makes it. Administrators see counts and dates, never chats, topics or messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from chatcore.errors import (
    AccountDisabled,
    AccountGone,
    AdminOnly,
    LastAdmin,
    SelfDeactivation,
    UserNotFound,
    ValidationFailed,
)
from chatcore.model import AuditEntry, UsageDay, User, UserOverview
from chatcore.ports.clock import Clock
from chatcore.ports.security import AttemptLimiter
from chatcore.ports.storage import UnitOfWork, UnitOfWorkFactory
from chatcore.quota import QuotaPolicy
from chatcore.statistics import DayStats, daily_stats, days_between
from chatcore.throttling import account_key

MAX_DAILY_LIMIT = 10_000
USAGE_DAYS = 30
"""How many quota days a user's detail shows."""
MAX_STATS_DAYS = 366
MAX_PAGE = 200
SHELL_NAME = "(command line)"
"""The actor name of actions taken with ``chatcore admin`` without ``--as`` (no username has
spaces or brackets, so it cannot be mistaken for one)."""

LAST_ADMIN_CHANGE = "This is the last active administrator: make someone else an administrator first."


@dataclass(frozen=True, slots=True)
class Operator:
    """Who performs an administrative action: an administrator by id, or (``user_id=None``)
    the operator of the server's shell."""

    user_id: int | None = None


SHELL = Operator()


@dataclass(frozen=True, slots=True)
class UserDetail:
    overview: UserOverview
    usage: tuple[UsageDay, ...]
    """One entry per quota day of the last :data:`USAGE_DAYS`, oldest first (zeros included)."""


@dataclass(frozen=True, slots=True)
class UserPage:
    items: tuple[UserOverview, ...]
    next_before: int | None
    """Pass as ``before`` for the next page; ``None`` on the last one."""


@dataclass(frozen=True, slots=True)
class AuditPage:
    items: tuple[AuditEntry, ...]
    next_before: int | None


class AdminService:
    """What administrators do to users, and what they read about usage."""

    def __init__(
        self, *, uow: UnitOfWorkFactory, clock: Clock, policy: QuotaPolicy, limiter: AttemptLimiter
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._limiter = limiter

    async def list_users(
        self, by: Operator, *, query: str | None = None, limit: int = 50, before: int | None = None
    ) -> UserPage:
        """Users, newest first; ``query`` matches a part of the username or e-mail, any case."""
        size = _page_size(limit)
        needle = (query or "").strip() or None
        async with self._uow(read_only=True) as uow:
            await _actor_name(uow, by)
            found = await uow.admin.users(query=needle, before=before, limit=size + 1, today=self._today())
        items = tuple(found[:size])
        return UserPage(items=items, next_before=items[-1].user.id if len(found) > size else None)

    async def user_detail(self, by: Operator, user_id: int) -> UserDetail:
        """One user, with their usage of the last :data:`USAGE_DAYS` quota days."""
        today = self._today()
        since = today - timedelta(days=USAGE_DAYS - 1)
        async with self._uow(read_only=True) as uow:
            await _actor_name(uow, by)
            overview = await uow.admin.user(user_id, today=today)
            if overview is None:
                raise UserNotFound
            recorded = {u.day: u for u in await uow.admin.usage(user_id, since=since)}
        usage = tuple(
            recorded.get(day, UsageDay(day=day, requests=0, failed=0)) for day in days_between(since, today)
        )
        return UserDetail(overview=overview, usage=usage)

    async def find_user(self, by: Operator, reference: str) -> User:
        """The user named by ``reference``: a username, or else an id (for the command line).
        Raises ``UserNotFound``."""
        async with self._uow(read_only=True) as uow:
            await _actor_name(uow, by)
            user = await _find(uow, reference)
        if user is None:
            raise UserNotFound
        return user

    async def set_daily_limit(self, by: Operator, user_id: int, limit: int | None) -> UserOverview:
        """Set the user's daily limit (0 to :data:`MAX_DAILY_LIMIT`), or with ``None`` return
        them to the default."""
        if limit is not None and not 0 <= limit <= MAX_DAILY_LIMIT:
            raise ValidationFailed(
                f"The daily limit must be between 0 and {MAX_DAILY_LIMIT:,}, or null for the default.",
                field="daily_limit",
            )
        async with self._uow() as uow:
            name = await _actor_name(uow, by)
            target = await _target(uow, user_id)
            await uow.users.set_daily_limit(user_id, limit)
            await self._record(
                uow,
                by,
                name,
                "set_limit",
                target,
                {"daily_limit": target.daily_limit},
                {"daily_limit": limit},
            )
            overview = await self._overview(uow, user_id)
            await uow.commit()
        return overview

    async def deactivate(self, by: Operator, user_id: int) -> UserOverview:
        """Deactivate the user: no more logins; their refresh chains are revoked here, and their
        access tokens and API keys are refused at their next use. An administrator cannot
        deactivate themself, nor anyone the last active administrator."""
        async with self._uow() as uow:
            admins = await uow.users.lock_active_admins()
            name = await _actor_name(uow, by, active_admins=admins)
            if by.user_id == user_id:
                raise SelfDeactivation
            target = await _target(uow, user_id)
            if set(admins) == {user_id}:
                raise LastAdmin(LAST_ADMIN_CHANGE)
            await uow.users.update(user_id, is_active=False)
            await uow.refresh_tokens.revoke_user(user_id)
            await self._record(
                uow, by, name, "deactivate", target, {"is_active": target.is_active}, {"is_active": False}
            )
            overview = await self._overview(uow, user_id)
            await uow.commit()
        return overview

    async def reactivate(self, by: Operator, user_id: int) -> UserOverview:
        """Let a deactivated user sign in again (their old sessions stay ended)."""
        async with self._uow() as uow:
            name = await _actor_name(uow, by)
            target = await _target(uow, user_id)
            await uow.users.update(user_id, is_active=True)
            await self._record(
                uow, by, name, "reactivate", target, {"is_active": target.is_active}, {"is_active": True}
            )
            overview = await self._overview(uow, user_id)
            await uow.commit()
        return overview

    async def set_role(self, by: Operator, user_id: int, *, is_admin: bool) -> UserOverview:
        """Make the user an administrator or not; the last active administrator stays one."""
        async with self._uow() as uow:
            admins = await uow.users.lock_active_admins()
            name = await _actor_name(uow, by, active_admins=admins)
            target = await _target(uow, user_id)
            if not is_admin and set(admins) == {user_id}:
                raise LastAdmin(LAST_ADMIN_CHANGE)
            await uow.users.update(user_id, is_admin=is_admin)
            await self._record(
                uow, by, name, "set_role", target, {"is_admin": target.is_admin}, {"is_admin": is_admin}
            )
            overview = await self._overview(uow, user_id)
            await uow.commit()
        return overview

    async def delete_user(self, by: Operator, user_id: int) -> None:
        """Delete the user and everything of theirs, as their own account deletion does (usage
        stays as anonymous totals). The audit entry keeps their username and settings, none of
        their content. The last active administrator cannot be deleted (``LastAdmin``)."""
        async with self._uow() as uow:
            admins = await uow.users.lock_active_admins()
            name = await _actor_name(uow, by, active_admins=admins)
            target = await _target(uow, user_id)
            if by.user_id != user_id and set(admins) == {user_id}:  # (their own: the repository's words)
                raise LastAdmin(LAST_ADMIN_CHANGE)
            # Recorded first: the deletion then clears the entry's ids of the user, not its names.
            await self._record(uow, by, name, "delete", target, _settings(target), None)
            if not await uow.users.delete(user_id, joined_day=self._policy.day_of(target.date_joined)):
                raise UserNotFound
            await uow.commit()
        await self._limiter.reset((account_key(user_id),))

    async def stats(self, by: Operator, *, days: int = 30) -> tuple[DayStats, ...]:
        """Usage per quota day for the last ``days`` (1 to :data:`MAX_STATS_DAYS`), oldest first,
        every day present: ``requests`` accepted and not given back, ``refused`` by the quota,
        ``failed_by_code`` given back after a tutor failure, ``active_users`` with at least one
        request, ``new_users`` who joined (:mod:`chatcore.statistics`)."""
        if not 1 <= days <= MAX_STATS_DAYS:
            raise ValidationFailed(f"days must be between 1 and {MAX_STATS_DAYS}.", field="days")
        now = self._clock.now()
        today = self._policy.day_of(now)
        since = today - timedelta(days=days - 1)
        async with self._uow(read_only=True) as uow:
            await _actor_name(uow, by)
            totals = await uow.admin.totals(since=since)
            joined = await uow.admin.joined_since(now - timedelta(days=days + 1))
        return daily_stats(
            totals,
            joined=[self._policy.day_of(instant) for instant in joined],
            days=days_between(since, today),
        )

    async def audit(self, by: Operator, *, limit: int = 50, before: int | None = None) -> AuditPage:
        """The audit trail, newest first."""
        size = _page_size(limit)
        async with self._uow(read_only=True) as uow:
            await _actor_name(uow, by)
            found = await uow.audit.page(before=before, limit=size + 1)
        items = tuple(found[:size])
        return AuditPage(items=items, next_before=items[-1].id if len(found) > size else None)

    def _today(self) -> date:
        return self._policy.day_of(self._clock.now())

    async def _overview(self, uow: UnitOfWork, user_id: int) -> UserOverview:
        overview = await uow.admin.user(user_id, today=self._today())
        if overview is None:
            raise UserNotFound
        return overview

    async def _record(
        self,
        uow: UnitOfWork,
        by: Operator,
        name: str,
        action: str,
        target: User,
        before: dict[str, object] | None,
        after: dict[str, object] | None,
    ) -> None:
        await uow.audit.append(
            at=self._clock.now(),
            admin_id=by.user_id,
            admin_name=name,
            action=action,
            target_user_id=target.id,
            target_name=target.username,
            before=before,
            after=after,
        )


async def _actor_name(uow: UnitOfWork, by: Operator, *, active_admins: list[int] | None = None) -> str:
    """The acting administrator's name; raises ``AdminOnly`` for anyone else (and, for the
    caller's own account, ``AccountGone`` or ``AccountDisabled``). ``active_admins``, when the
    caller locked them, must include the actor: one demoted meanwhile acts no more."""
    if by.user_id is None:
        return SHELL_NAME
    actor = await uow.users.get(by.user_id)
    if actor is None:
        raise AccountGone
    if not actor.is_active:
        raise AccountDisabled
    if not actor.is_admin or (active_admins is not None and actor.id not in active_admins):
        raise AdminOnly
    return actor.username


async def _target(uow: UnitOfWork, user_id: int) -> User:
    user = await uow.users.get(user_id)
    if user is None:
        raise UserNotFound
    return user


async def _find(uow: UnitOfWork, reference: str) -> User | None:
    """By username (any case; an e-mail does not count), else by id when all digits."""
    text = reference.strip()
    user = await uow.users.find_by_login(text)
    if user is not None and user.username.casefold() == text.casefold():
        return user
    return await uow.users.get(int(text)) if text.isascii() and text.isdigit() and len(text) < 10 else None


def _settings(user: User) -> dict[str, object]:
    return {"is_admin": user.is_admin, "is_active": user.is_active, "daily_limit": user.daily_limit}


def _page_size(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(f"limit must be between 1 and {MAX_PAGE}.", field="limit")
    return limit
