"""Administration use cases (SPEC §4.6) with fakes: the rules live in the domain."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from adapters.memory import MemoryStore
from chatcore.accounts import AccountService
from chatcore.admin import SHELL, SHELL_NAME, AdminService, Operator
from chatcore.chats import ChatService
from chatcore.errors import (
    AccountDisabled,
    AdminOnly,
    InvalidCredentials,
    InvalidToken,
    LastAdmin,
    LLMBusy,
    LLMTimeout,
    QuotaExceeded,
    SelfDeactivation,
    UserNotFound,
    ValidationFailed,
)
from chatcore.model import DayTotals, LinkedAccount, Provider, User
from chatcore.ports.llm import Turn
from chatcore.relay import RelayService
from chatcore.statistics import FAILURE_CODES, daily_stats, days_between
from chatcore.testing import FrozenClock, ScriptedLLM
from chatcore.tutoring import TutorService

from .conftest import PASSWORD, _register


async def test_everyone_but_an_administrator_is_refused_every_use_case(
    admin_service: AdminService, alice: User, bob: User
) -> None:
    by = Operator(alice.id)
    calls = [
        admin_service.list_users(by),
        admin_service.user_detail(by, bob.id),
        admin_service.set_daily_limit(by, bob.id, 3),
        admin_service.deactivate(by, bob.id),
        admin_service.reactivate(by, bob.id),
        admin_service.set_role(by, alice.id, is_admin=True),
        admin_service.delete_user(by, bob.id),
        admin_service.stats(by),
        admin_service.audit(by),
    ]
    for call in calls:
        with pytest.raises(AdminOnly):
            await call
    assert (await admin_service.audit(SHELL)).items == ()


async def test_limits_are_0_to_10000_or_the_default_and_each_change_is_audited(
    admin_service: AdminService, admin: User, alice: User, clock: FrozenClock
) -> None:
    by = Operator(admin.id)
    assert (await admin_service.set_daily_limit(by, alice.id, 10_000)).user.daily_limit == 10_000
    assert (await admin_service.set_daily_limit(by, alice.id, 0)).user.daily_limit == 0
    assert (await admin_service.set_daily_limit(by, alice.id, None)).user.daily_limit is None
    for wrong in (-1, 10_001):
        with pytest.raises(ValidationFailed):
            await admin_service.set_daily_limit(by, alice.id, wrong)
    with pytest.raises(UserNotFound):
        await admin_service.set_daily_limit(by, 999, 3)

    entries = (await admin_service.audit(SHELL)).items
    assert [(e.action, e.before, e.after) for e in entries] == [
        ("set_limit", {"daily_limit": 0}, {"daily_limit": None}),
        ("set_limit", {"daily_limit": 10_000}, {"daily_limit": 0}),
        ("set_limit", {"daily_limit": None}, {"daily_limit": 10_000}),
    ]
    assert {(e.admin_id, e.admin_name, e.target_user_id, e.target_name, e.at) for e in entries} == {
        (admin.id, "admin", alice.id, "alice", clock.now())
    }


async def test_a_deactivated_user_can_use_nothing_until_reactivated(
    admin_service: AdminService,
    accounts: AccountService,
    tutor: TutorService,
    chats: ChatService,
    admin: User,
    alice: User,
) -> None:
    pair = await accounts.login(login="alice", password=PASSWORD, client="10.0.0.1")
    chat = await chats.start_chat(alice.id)
    _, key = await accounts.create_api_key(alice.id, name="laptop", password=PASSWORD)

    overview = await admin_service.deactivate(Operator(admin.id), alice.id)

    assert overview.user.is_active is False
    with pytest.raises(AccountDisabled):  # only with the right password: a guess learns nothing
        await accounts.login(login="alice", password=PASSWORD, client="10.0.0.1")
    with pytest.raises(InvalidCredentials):
        await accounts.login(login="alice", password="wrong password 1", client="10.0.0.1")
    with pytest.raises(AccountDisabled):
        await accounts.refresh(pair.refresh)
    with pytest.raises(AccountDisabled):
        await accounts.authenticate_user(pair.access)
    with pytest.raises(AccountDisabled):
        await accounts.profile(alice.id)
    with pytest.raises(AccountDisabled):
        await tutor.ask(alice.id, chat.id, "hello")
    with pytest.raises(AccountDisabled):
        await tutor.quota(alice.id)
    with pytest.raises(InvalidToken):
        await accounts.authenticate_api_key(key)
    with pytest.raises(AccountDisabled):
        await accounts.issue_tokens(alice.id)

    await admin_service.reactivate(Operator(admin.id), alice.id)

    assert await accounts.authenticate_user(pair.access) == alice.id
    assert await accounts.authenticate_api_key(key) == alice.id
    with pytest.raises(InvalidToken):  # the sessions ended by the deactivation stay ended
        await accounts.refresh(pair.refresh)
    await accounts.login(login="alice", password=PASSWORD, client="10.0.0.1")
    actions = [(e.action, e.before, e.after) for e in (await admin_service.audit(SHELL)).items]
    assert actions == [
        ("reactivate", {"is_active": False}, {"is_active": True}),
        ("deactivate", {"is_active": True}, {"is_active": False}),
    ]


async def test_an_administrator_cannot_deactivate_themself(admin_service: AdminService, admin: User) -> None:
    with pytest.raises(SelfDeactivation):
        await admin_service.deactivate(Operator(admin.id), admin.id)
    assert (await admin_service.user_detail(SHELL, admin.id)).overview.user.is_active


async def test_the_last_active_administrator_stays_one(
    admin_service: AdminService, accounts: AccountService, admin: User, alice: User
) -> None:
    by = Operator(admin.id)
    with pytest.raises(LastAdmin):
        await admin_service.set_role(by, admin.id, is_admin=False)
    with pytest.raises(LastAdmin):
        await admin_service.deactivate(SHELL, admin.id)
    with pytest.raises(LastAdmin):
        await admin_service.delete_user(by, admin.id)
    # An inactive administrator does not count.
    await admin_service.set_role(by, alice.id, is_admin=True)
    await admin_service.deactivate(by, alice.id)
    with pytest.raises(LastAdmin):
        await admin_service.set_role(by, admin.id, is_admin=False)
    # With another active one, an administrator may step down.
    await admin_service.reactivate(by, alice.id)
    assert (await admin_service.set_role(by, admin.id, is_admin=False)).user.is_admin is False
    with pytest.raises(AdminOnly):
        await admin_service.list_users(by)
    assert (await accounts.profile(alice.id)).user.is_admin


async def test_a_deactivated_administrator_acts_no_more(
    admin_service: AdminService, admin: User, alice: User, bob: User
) -> None:
    await admin_service.set_role(SHELL, alice.id, is_admin=True)
    await admin_service.deactivate(Operator(admin.id), alice.id)
    with pytest.raises(AccountDisabled):
        await admin_service.set_daily_limit(Operator(alice.id), bob.id, 1)


async def test_deleting_a_user_keeps_only_an_audit_entry_and_anonymous_usage(
    admin_service: AdminService,
    tutor: TutorService,
    chats: ChatService,
    admin: User,
    alice: User,
    store: MemoryStore,
) -> None:
    chat = await chats.start_chat(alice.id, title="my secret plans")
    await tutor.ask(alice.id, chat.id, "hello")
    await admin_service.set_daily_limit(Operator(admin.id), alice.id, 7)

    await admin_service.delete_user(Operator(admin.id), alice.id)

    assert alice.id not in store.tables.users
    with pytest.raises(UserNotFound):
        await admin_service.user_detail(SHELL, alice.id)
    with pytest.raises(UserNotFound):
        await admin_service.delete_user(Operator(admin.id), alice.id)
    entries = (await admin_service.audit(SHELL)).items
    deleted = entries[0]
    assert (deleted.action, deleted.target_user_id, deleted.target_name) == ("delete", None, "alice")
    assert deleted.before == {"is_admin": False, "is_active": True, "daily_limit": 7}
    assert deleted.after is None
    assert all(e.target_user_id is None for e in entries)
    assert "my secret plans" not in repr(entries)
    today = (await admin_service.stats(SHELL, days=1))[0]
    assert (today.requests, today.active_users, today.new_users) == (1, 1, 2)


async def test_an_administrator_may_delete_themself_when_another_remains(
    admin_service: AdminService, admin: User, alice: User
) -> None:
    await admin_service.set_role(Operator(admin.id), alice.id, is_admin=True)
    await admin_service.delete_user(Operator(admin.id), admin.id)
    entry = (await admin_service.audit(SHELL)).items[0]
    assert (entry.admin_id, entry.admin_name, entry.target_user_id, entry.target_name) == (
        None,
        "admin",
        None,
        "admin",
    )


async def test_users_are_listed_newest_first_searched_and_paged(
    admin_service: AdminService, accounts: AccountService, admin: User, store: MemoryStore
) -> None:
    for name in ("Minji", "minsu", "jisoo", "bora"):
        await _register(accounts, name)
    async with store.unit_of_work() as tx:
        bora = await tx.users.find_by_login("bora")
        assert bora is not None
        await tx.identities.link(bora.id, LinkedAccount(provider=Provider.GITHUB, subject="7", login="b"))
        await tx.commit()

    first = await admin_service.list_users(SHELL, limit=2)
    second = await admin_service.list_users(SHELL, limit=2, before=first.next_before)
    third = await admin_service.list_users(SHELL, limit=2, before=second.next_before)

    assert [o.user.username for o in first.items] == ["bora", "jisoo"]
    assert first.items[0].providers == (Provider.GITHUB,)
    assert [o.user.username for o in second.items] == ["minsu", "Minji"]
    assert [o.user.username for o in third.items] == ["admin"]
    assert third.next_before is None
    found = await admin_service.list_users(SHELL, query="MIN")
    assert [o.user.username for o in found.items] == ["minsu", "Minji", "admin"]
    by_mail = await admin_service.list_users(SHELL, query="jisoo@EXAMPLE")
    assert [o.user.username for o in by_mail.items] == ["jisoo"]
    assert (await admin_service.list_users(SHELL, query="%")).items == ()
    with pytest.raises(ValidationFailed):
        await admin_service.list_users(SHELL, limit=0)


async def test_a_users_detail_shows_30_days_of_requests_and_failures(
    admin_service: AdminService,
    tutor: TutorService,
    chats: ChatService,
    llm: ScriptedLLM,
    alice: User,
    clock: FrozenClock,
) -> None:
    chat = await chats.start_chat(alice.id)
    await tutor.ask(alice.id, chat.id, "two days ago")
    clock.advance(days=2)
    await tutor.ask(alice.id, chat.id, "today")
    llm.push(LLMTimeout())
    with pytest.raises(LLMTimeout):
        await tutor.ask(alice.id, chat.id, "fails")

    detail = await admin_service.user_detail(SHELL, alice.id)

    assert len(detail.usage) == 30
    assert detail.usage[-1].day == tutor.policy.day_of(clock.now())
    assert [(u.requests, u.failed) for u in detail.usage[-3:]] == [(1, 0), (0, 0), (1, 1)]
    assert detail.overview.used_today == 1
    assert detail.overview.last_active_at == clock.now()


async def test_statistics_count_requests_refusals_failures_and_users_per_quota_day(
    admin_service: AdminService,
    accounts: AccountService,
    tutor: TutorService,
    chats: ChatService,
    store: MemoryStore,
    clock: FrozenClock,
    llm: ScriptedLLM,
    alice: User,
    bob: User,
) -> None:
    await admin_service.set_daily_limit(SHELL, alice.id, 2)
    chat = await chats.start_chat(alice.id)
    await tutor.ask(alice.id, chat.id, "one")
    llm.push(LLMBusy(), LLMTimeout())
    with pytest.raises(LLMBusy):
        await tutor.ask(alice.id, chat.id, "busy")
    with pytest.raises(LLMTimeout):
        await tutor.ask(alice.id, chat.id, "timeout")
    await tutor.ask(alice.id, chat.id, "two")
    with pytest.raises(QuotaExceeded):
        await tutor.ask(alice.id, chat.id, "three")
    clock.advance(days=1)
    await _register(accounts, "carol")
    bob_chat = await chats.start_chat(bob.id)
    await tutor.ask(bob.id, bob_chat.id, "hi")

    days = await admin_service.stats(SHELL, days=3)

    assert [d.day for d in days] == [tutor.policy.day_of(clock.now()) - timedelta(days=n) for n in (2, 1, 0)]
    first, yesterday, today = days
    assert (first.requests, first.refused, first.active_users, first.new_users) == (0, 0, 0, 0)
    assert (yesterday.requests, yesterday.refused, yesterday.active_users) == (2, 1, 1)
    assert yesterday.new_users == 2  # alice and bob joined at noon yesterday
    assert dict(yesterday.failed_by_code) == {
        "llm_timeout": 1,
        "llm_unavailable": 0,
        "llm_busy": 1,
        "llm_error": 0,
        "llm_misconfigured": 0,
    }
    assert (today.requests, today.refused, today.active_users, today.new_users) == (1, 0, 1, 1)
    with pytest.raises(ValidationFailed):
        await admin_service.stats(SHELL, days=0)


async def test_the_command_line_finds_users_by_name_or_id_and_acts_as_itself(
    admin_service: AdminService, alice: User
) -> None:
    assert (await admin_service.find_user(SHELL, "ALICE")).id == alice.id
    assert (await admin_service.find_user(SHELL, str(alice.id))).id == alice.id
    with pytest.raises(UserNotFound):
        await admin_service.find_user(SHELL, "alice@example.com")
    await admin_service.deactivate(SHELL, alice.id)
    assert (await admin_service.audit(SHELL)).items[0].admin_name == SHELL_NAME
    assert (await admin_service.audit(SHELL)).items[0].admin_id is None


async def test_the_relay_counts_its_refusals_and_failures_too(
    admin_service: AdminService,
    store: MemoryStore,
    clock: FrozenClock,
    llm: ScriptedLLM,
    tutor: TutorService,
    alice: User,
) -> None:
    relay = RelayService(uow=store.unit_of_work, llm=llm, clock=clock, policy=tutor.policy)
    turns = [Turn(role="user", content="hi")]
    llm.push(LLMBusy())
    with pytest.raises(LLMBusy):
        await relay.complete(await relay.take_slot(alice.id, turns), turns)
    await admin_service.set_daily_limit(SHELL, alice.id, 0)
    with pytest.raises(QuotaExceeded):
        await relay.take_slot(alice.id, turns)

    today = (await admin_service.stats(SHELL, days=1))[0]
    assert (today.requests, today.refused, today.failed_by_code["llm_busy"]) == (0, 1, 1)
    assert (await admin_service.user_detail(SHELL, alice.id)).usage[-1].failed == 1


def test_daily_statistics_fill_every_day_and_keep_unknown_failure_codes() -> None:
    first = date(2026, 12, 1)
    totals = [
        DayTotals(day=first, requests=4, active_users=2, events={"refused": 3, "llm_busy": 1, "llm_new": 2})
    ]
    days = days_between(first, first + timedelta(days=2))

    stats = daily_stats(totals, joined=[first, first + timedelta(days=2)], days=days)

    assert [(s.day, s.requests, s.refused, s.active_users, s.new_users) for s in stats] == [
        (first, 4, 3, 2, 1),
        (first + timedelta(days=1), 0, 0, 0, 0),
        (first + timedelta(days=2), 0, 0, 0, 1),
    ]
    assert dict(stats[0].failed_by_code) == {
        "llm_timeout": 0,
        "llm_unavailable": 0,
        "llm_busy": 1,
        "llm_error": 0,
        "llm_misconfigured": 0,
        "llm_new": 2,
    }
    assert set(stats[1].failed_by_code) == set(FAILURE_CODES)
