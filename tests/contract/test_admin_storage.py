"""Contract: the storage of administration (SPEC §4.6) on memory, SQLite and PostgreSQL.

Deactivated accounts, the failure and refusal counters, what administrators read about users
and days, and the append-only audit trail.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from adapters.memory import MemoryAttemptLimiter
from chatcore.admin import SHELL, AdminService, Operator
from chatcore.errors import AccountDisabled, AdminOnly, LastAdmin
from chatcore.model import LinkedAccount, Provider
from chatcore.ports.storage import UnitOfWork
from chatcore.quota import QuotaPolicy
from chatcore.testing import FrozenClock
from contract.conftest import Storage
from contract.helpers import T0, add_chat, add_user, at

DAY = date(2026, 11, 26)
NEXT = DAY + timedelta(days=1)


async def test_a_user_is_active_until_deactivated_and_their_api_keys_go_quiet(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    assert alice.is_active is True
    async with storage.uow() as tx:
        await tx.api_keys.add(user_id=alice.id, name="k", prefix="ck_a", key_hash="a" * 64, now=T0)
        changed = await tx.users.update(alice.id, is_active=False)
        await tx.commit()
    assert changed.is_active is False
    async with storage.uow(read_only=True) as tx:
        assert (await tx.users.get(alice.id)) == changed
        assert await tx.api_keys.find("a" * 64) is None
        assert len(await tx.api_keys.list_for(alice.id)) == 1
    async with storage.uow() as tx:
        await tx.users.update(alice.id, is_active=True)
        await tx.commit()
    async with storage.uow(read_only=True) as tx:
        assert await tx.api_keys.find("a" * 64) is not None


async def test_active_administrators_are_listed_in_id_order(storage: Storage) -> None:
    async with storage.uow() as tx:
        ids = [
            (await tx.users.add(username=n, email=None, password_hash="h", now=T0, is_admin=admin)).id
            for n, admin in (("root", True), ("learner", False), ("ops", True), ("gone", True))
        ]
        await tx.users.update(ids[3], is_active=False)
        await tx.commit()
    async with storage.uow() as tx:
        assert await tx.users.lock_active_admins() == [ids[0], ids[2]]


async def test_failures_and_refusals_are_counted_per_day(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    async with storage.uow() as tx:
        for _ in range(3):
            await tx.quota.consume(alice.id, DAY, limit=5)
        await tx.quota.give_back(alice.id, DAY, failure="llm_timeout")
        await tx.quota.give_back(alice.id, DAY, failure="llm_busy")
        await tx.quota.give_back(alice.id, DAY)  # abandoned or unstored: not a tutor failure
        await tx.quota.give_back(alice.id, DAY, failure="llm_busy")  # nothing left to give back
        await tx.quota.count_refusal(DAY)
        await tx.quota.count_refusal(DAY)
        await tx.quota.count_refusal(NEXT)
        await tx.commit()
    async with storage.uow(read_only=True) as tx:
        assert await tx.quota.used(alice.id, DAY) == 0
        usage = await tx.admin.usage(alice.id, since=DAY)
        totals = await tx.admin.totals(since=DAY)
    assert [(u.day, u.requests, u.failed) for u in usage] == [(DAY, 0, 2)]
    assert [(t.day, t.requests, t.active_users, dict(t.events)) for t in totals] == [
        (DAY, 0, 0, {"llm_timeout": 1, "llm_busy": 1, "refused": 2}),
        (NEXT, 0, 0, {"refused": 1}),
    ]


async def test_users_are_read_newest_first_with_their_activity(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice", email="Alice@Example.com")
    bob = await add_user(storage.uow, "bob_50%", email="bob@example.org")
    carol = await add_user(storage.uow, "carol")
    await add_chat(storage.uow, alice.id, now=at(10))
    await add_chat(storage.uow, alice.id, now=at(30))
    async with storage.uow() as tx:
        await tx.quota.consume(alice.id, DAY, limit=5)
        await tx.quota.consume(alice.id, NEXT, limit=5)
        await tx.identities.link(alice.id, LinkedAccount(provider=Provider.KAKAO, subject="1", login="a"))
        await tx.identities.link(alice.id, LinkedAccount(provider=Provider.GITHUB, subject="2", login="a"))
        await tx.commit()
    async with storage.uow(read_only=True) as tx:
        everyone = await tx.admin.users(query=None, before=None, limit=10, today=DAY)
        page = await tx.admin.users(query=None, before=carol.id, limit=1, today=DAY)
        by_mail = await tx.admin.users(query="EXAMPLE.COM", before=None, limit=10, today=DAY)
        literal = await tx.admin.users(query="_50%", before=None, limit=10, today=DAY)
        wildcard = await tx.admin.users(query="b_b", before=None, limit=10, today=DAY)
        one = await tx.admin.user(alice.id, today=DAY)
        missing = await tx.admin.user(carol.id + 100, today=DAY)
    assert [o.user.id for o in everyone] == [carol.id, bob.id, alice.id]
    assert [o.user.id for o in page] == [bob.id]
    assert [o.user.id for o in by_mail] == [carol.id, alice.id]
    assert [o.user.id for o in literal] == [bob.id]
    assert wildcard == []
    assert one is not None
    assert missing is None
    assert (one.used_today, one.last_active_at, one.providers) == (
        1,
        at(30),
        (Provider.GITHUB, Provider.KAKAO),
    )
    assert (everyone[0].used_today, everyone[0].last_active_at, everyone[0].providers) == (0, None, ())


async def test_day_totals_keep_deleted_users_anonymously(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    bob = await add_user(storage.uow, "bob")
    async with storage.uow() as tx:
        for user, day, n in (
            (alice, DAY, 2),
            (bob, DAY, 1),
            (alice, NEXT, 3),
            (bob, NEXT - timedelta(days=5), 1),
        ):
            for _ in range(n):
                await tx.quota.consume(user.id, day, limit=5)
        await tx.commit()
    async with storage.uow() as tx:
        await tx.users.delete(alice.id, joined_day=DAY - timedelta(days=9))
        await tx.commit()
    async with storage.uow(read_only=True) as tx:
        joined_early = await tx.admin.totals(since=DAY - timedelta(days=9))
        totals = await tx.admin.totals(since=DAY)
        joined = await tx.admin.joined_since(T0)
        none_joined = await tx.admin.joined_since(at(1))
    assert [(t.day, t.requests, t.active_users, t.joined_deleted) for t in totals] == [
        (DAY, 3, 2, 0),
        (NEXT, 3, 1, 0),
    ]
    assert [(t.day, t.requests, t.joined_deleted) for t in joined_early][:2] == [
        (DAY - timedelta(days=9), 0, 1),
        (NEXT - timedelta(days=5), 1, 0),
    ]
    assert joined == [T0]
    assert none_joined == []


async def test_the_audit_trail_is_appended_and_read_newest_first(storage: Storage) -> None:
    admin = await add_user(storage.uow, "admin")
    alice = await add_user(storage.uow, "alice")
    async with storage.uow() as tx:
        first = await tx.audit.append(
            at=T0,
            admin_id=admin.id,
            admin_name="admin",
            action="set_limit",
            target_user_id=alice.id,
            target_name="alice",
            before={"daily_limit": None},
            after={"daily_limit": 7},
        )
        second = await tx.audit.append(
            at=at(1),
            admin_id=None,
            admin_name="(command line)",
            action="delete",
            target_user_id=alice.id,
            target_name="alice",
            before={"is_admin": False, "is_active": True, "daily_limit": 7},
            after=None,
        )
        await tx.commit()
    async with storage.uow(read_only=True) as tx:
        assert await tx.audit.page(before=None, limit=10) == [second, first]
        assert await tx.audit.page(before=second.id, limit=10) == [first]
    async with storage.uow() as tx:
        await tx.users.delete(alice.id)
        await tx.commit()
    async with storage.uow(read_only=True) as tx:
        kept = await tx.audit.page(before=None, limit=10)
    assert [(e.target_user_id, e.target_name, e.admin_id) for e in kept] == [
        (None, "alice", None),
        (None, "alice", admin.id),
    ]
    assert kept[1].after == {"daily_limit": 7}


async def test_two_administrators_deactivating_each_other_at_once_leave_one_active(storage: Storage) -> None:
    async with storage.uow() as tx:
        root, ops = [
            await tx.users.add(username=name, email=None, password_hash="h", now=T0, is_admin=True)
            for name in ("root", "ops")
        ]
        await tx.commit()

    def slow_commits(*, read_only: bool = False, one_write: bool = False) -> UnitOfWork:
        """Units of work that wait before committing: both deactivations look before either commits,
        unless the administrators' rows are locked."""
        uow = storage.uow(read_only=read_only, one_write=one_write)
        commit = uow.commit

        async def later() -> None:
            await asyncio.sleep(0.05)
            await commit()

        setattr(uow, "commit", later)  # noqa: B010
        return uow

    service = AdminService(
        uow=slow_commits,
        clock=FrozenClock(T0),
        policy=QuotaPolicy.from_names(limit=5, zone="Asia/Seoul"),
        limiter=MemoryAttemptLimiter(),
    )

    async def deactivate(by: int, target: int) -> bool:
        try:
            await service.deactivate(Operator(by), target)
        except (LastAdmin, AdminOnly, AccountDisabled):  # refused, one way or another
            return False
        return True

    outcomes = await asyncio.gather(deactivate(root.id, ops.id), deactivate(ops.id, root.id))

    assert sorted(outcomes) == [False, True]
    async with storage.uow() as tx:
        assert len(await tx.users.lock_active_admins()) == 1
    with pytest.raises(LastAdmin):
        await service.set_role(SHELL, (root if outcomes[0] else ops).id, is_admin=False)
