"""Contract: deleting a user (SPEC §4.1 ``DELETE /accounts/mypage/``) leaves no trace of them.

The check looks at every table (see ``contract.references``), so a table added later that keeps
rows of a deleted user fails here. Usage survives only as anonymous per-day totals.
"""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlalchemy import text

from adapters.sql import SqlAttemptLimiter, SqlUnitOfWorkFactory, create_engine_for
from chatcore.errors import LastAdmin
from chatcore.model import LinkedAccount, NewMessage, Provider, RefreshRecord, Role
from chatcore.ports.storage import OAuthState, UnitOfWorkFactory
from chatcore.throttling import account_key
from contract.conftest import Storage
from contract.helpers import CORRECTION, SCORECARD, T0, add_chat, add_user, at
from contract.references import sql_references

DAY = date(2026, 11, 26)


async def give_everything(uow: UnitOfWorkFactory, user_id: int, *, tag: str) -> list[int]:
    """A row of every kind for the user; returns the ids of their chats."""
    chats = [await add_chat(uow, user_id, title=f"{tag} {n}") for n in range(2)]
    async with uow() as tx:
        for chat in chats:
            first = await tx.messages.add(chat.id, NewMessage(role=Role.USER, content="hi"), now=at(1))
            await tx.messages.add(chat.id, NewMessage(role=Role.ASSISTANT, content="hello"), now=at(2))
            await tx.notebook.add(
                user_id=user_id, chat_id=chat.id, message_id=first.id, corrections=(CORRECTION,), now=at(2)
            )
            await tx.scorecards.add(user_id=user_id, chat_id=chat.id, scorecard=SCORECARD, now=at(3))
        await tx.identities.link(
            user_id, LinkedAccount(provider=Provider.GITHUB, subject=f"{tag}-gh", login=tag)
        )
        await tx.refresh_tokens.add(
            RefreshRecord(
                token_hash=f"{tag}-token".ljust(64, "0"), user_id=user_id, family=tag, expires_at=at(99)
            )
        )
        await tx.api_keys.add(
            user_id=user_id, name="cli", prefix="ck_x", key_hash=f"{tag}-key".ljust(64, "0"), now=T0
        )
        await tx.idempotency.claim(user_id=user_id, key="k", chat_id=chats[0].id, now=T0, not_before=at(-60))
        await tx.idempotency.attach(user_id=user_id, key="k", message_id=first.id)
        await tx.quota.consume(user_id, DAY, limit=5)
        await tx.quota.consume(user_id, DAY, limit=5)
        await tx.oauth.add_state(
            OAuthState(
                state_hash=f"{tag}-state".ljust(64, "0"),
                browser_hash="b" * 64,
                provider=Provider.KAKAO,
                expires_at=at(600),
                user_id=user_id,
            )
        )
        await tx.oauth.add_code(code_hash=f"{tag}-code".ljust(64, "0"), user_id=user_id, expires_at=at(60))
        await tx.commit()
    return [c.id for c in chats]


async def test_after_deletion_no_row_anywhere_refers_to_the_user(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    bob = await add_user(storage.uow, "bob")
    alice_chats = await give_everything(storage.uow, alice.id, tag="alice")
    bob_chats = await give_everything(storage.uow, bob.id, tag="bob")
    assert await storage.references(alice.id, alice_chats), "the check must see the rows before deletion"

    async with storage.uow() as tx:
        assert await tx.users.delete(alice.id) is True
        await tx.commit()

    assert await storage.references(alice.id, alice_chats) == []
    # Bob keeps every row of his.
    before = await storage.references(bob.id, bob_chats)
    assert len(before) >= 8, before
    async with storage.uow(read_only=True) as tx:
        assert await tx.users.get(alice.id) is None
        assert await tx.users.get(bob.id) == bob
        assert [c.id for c in await tx.chats.by_id(bob.id, after=None, limit=10)] == bob_chats


async def test_usage_is_kept_only_as_anonymous_daily_totals(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    bob = await add_user(storage.uow, "bob")
    async with storage.uow() as tx:
        for _ in range(3):
            await tx.quota.consume(alice.id, DAY, limit=5)
        await tx.quota.consume(alice.id, date(2026, 11, 27), limit=5)
        await tx.quota.consume(bob.id, DAY, limit=5)
        await tx.commit()

    for user in (alice, bob):
        async with storage.uow() as tx:
            await tx.users.delete(user.id)
            await tx.commit()

    async with storage.uow(read_only=True) as tx:
        assert await tx.quota.anonymous_totals() == [(DAY, 4), (date(2026, 11, 27), 1)]
        assert await tx.quota.days(alice.id) == []


async def test_a_rolled_back_deletion_deletes_nothing(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    chats = await give_everything(storage.uow, alice.id, tag="alice")
    before = await storage.references(alice.id, chats)
    async with storage.uow() as tx:
        await tx.users.delete(alice.id)  # no commit
    assert await storage.references(alice.id, chats) == before
    async with storage.uow(read_only=True) as tx:
        assert await tx.quota.anonymous_totals() == []


async def test_the_last_administrator_cannot_be_deleted(storage: Storage) -> None:
    async with storage.uow() as tx:
        root = await tx.users.add(username="root", email=None, password_hash="h", now=T0, is_admin=True)
        ops = await tx.users.add(username="ops", email=None, password_hash="h", now=T0, is_admin=True)
        await tx.commit()
    async with storage.uow() as tx:
        assert await tx.users.delete(ops.id) is True
        await tx.commit()
    async with storage.uow() as tx:
        with pytest.raises(LastAdmin):
            await tx.users.delete(root.id)
    async with storage.uow(read_only=True) as tx:
        assert await tx.users.get(root.id) == root


async def test_deleting_an_unknown_user_is_false(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    async with storage.uow() as tx:
        assert await tx.users.delete(alice.id + 1000) is False


async def test_chats_and_messages_page_by_id_for_export(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    bob = await add_user(storage.uow, "bob")
    chats = [await add_chat(storage.uow, alice.id, now=at(-n)) for n in range(5)]
    await add_chat(storage.uow, bob.id)
    async with storage.uow() as tx:
        sent = [
            await tx.messages.add(chats[0].id, NewMessage(role=Role.USER, content=str(n)), now=at(n))
            for n in range(7)
        ]
        await tx.commit()
    async with storage.uow(read_only=True) as tx:
        first = await tx.chats.by_id(alice.id, after=None, limit=3)
        rest = await tx.chats.by_id(alice.id, after=first[-1].id, limit=3)
        page1 = await tx.messages.after(chats[0].id, after=None, limit=4)
        page2 = await tx.messages.after(chats[0].id, after=page1[-1].id, limit=4)
    assert [c.id for c in first + rest] == sorted(c.id for c in chats)
    assert page1 + page2 == sent


async def test_quota_days_of_a_user(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    async with storage.uow() as tx:
        await tx.quota.consume(alice.id, date(2026, 11, 27), limit=5)
        await tx.quota.consume(alice.id, DAY, limit=5)
        await tx.quota.consume(alice.id, date(2026, 11, 28), limit=5)
        await tx.quota.give_back(alice.id, date(2026, 11, 28))
        await tx.commit()
    async with storage.uow(read_only=True) as tx:
        assert await tx.quota.days(alice.id) == [(DAY, 1), (date(2026, 11, 27), 1)]


async def test_sql_the_check_sees_a_table_added_without_cascade_and_the_throttle_rows(sql_url: str) -> None:
    """The erasure check itself: a new table that keeps a user id without ON DELETE CASCADE is
    reported, and so are login failures counted under the user's id until the deletion."""
    engine = create_engine_for(sql_url)
    try:
        storage = SqlUnitOfWorkFactory(engine)
        alice = await add_user(storage, "alice")
        await SqlAttemptLimiter(engine).record_failure([account_key(alice.id)], now=T0)
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE later_notes (owner_id INTEGER, user_id INTEGER)"))
            await conn.execute(text("INSERT INTO later_notes VALUES (1, :uid)"), {"uid": alice.id})
        async with storage() as tx:
            await tx.users.delete(alice.id)
            await tx.commit()

        assert await sql_references(engine, alice.id, []) == ["later_notes.user_id: 1 row(s)"]
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("DROP TABLE IF EXISTS later_notes"))
        await engine.dispose()


async def test_two_administrators_deleting_themselves_at_once_leave_one(storage: Storage) -> None:
    async with storage.uow() as tx:
        admins = [
            await tx.users.add(username=name, email=None, password_hash="h", now=T0, is_admin=True)
            for name in ("root", "ops")
        ]
        await tx.commit()

    async def delete(user_id: int) -> bool:
        try:
            async with storage.uow() as tx:
                await tx.users.delete(user_id)
                await asyncio.sleep(0.05)  # both have looked before either commits, unless locked out
                await tx.commit()
        except LastAdmin:
            return False
        return True

    outcomes = await asyncio.gather(*(delete(admin.id) for admin in admins))

    assert sorted(outcomes) == [False, True]
    async with storage.uow(read_only=True) as tx:
        left = [await tx.users.get(admin.id) for admin in admins]
    assert [user for user in left if user is not None] == [admins[outcomes.index(False)]]
