"""Contract: IdempotencyRepository (SPEC §4.2: a retry within 24 h returns the first result)."""

from __future__ import annotations

import asyncio

from chatcore.ports.storage import IdempotencyRecord, UnitOfWork
from contract.conftest import Storage
from contract.helpers import T0, add_chat, add_user, at

WINDOW_START = at(-86_400)


async def test_the_first_claim_owns_the_key_and_later_ones_see_it(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        first = await tx.idempotency.claim(
            user_id=alice.id, key="k", chat_id=chat.id, now=T0, not_before=WINDOW_START
        )
        await tx.commit()
    assert first is None
    async with storage.uow() as tx:
        again = await tx.idempotency.claim(
            user_id=alice.id, key="k", chat_id=chat.id, now=at(5), not_before=at(5 - 86_400)
        )
    assert again == IdempotencyRecord(user_id=alice.id, key="k", chat_id=chat.id, created_at=T0)


async def test_a_finished_claim_returns_the_stored_ids(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        await tx.idempotency.claim(
            user_id=alice.id, key="k", chat_id=chat.id, now=T0, not_before=WINDOW_START
        )
        await tx.idempotency.attach(user_id=alice.id, key="k", message_id=11)
        await tx.idempotency.finish(user_id=alice.id, key="k", message_id=11, reply_id=12)
        await tx.commit()
    async with storage.uow() as tx:
        again = await tx.idempotency.claim(
            user_id=alice.id, key="k", chat_id=chat.id, now=at(1), not_before=WINDOW_START
        )
    assert again is not None
    assert (again.message_id, again.reply_id, again.created_at) == (11, 12, T0)


async def test_a_released_key_can_be_claimed_again(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        await tx.idempotency.claim(
            user_id=alice.id, key="k", chat_id=chat.id, now=T0, not_before=WINDOW_START
        )
        await tx.idempotency.attach(user_id=alice.id, key="k", message_id=11)
        await tx.idempotency.release(user_id=alice.id, key="k", message_id=11)
        await tx.commit()
    async with storage.uow() as tx:
        assert (
            await tx.idempotency.claim(
                user_id=alice.id, key="k", chat_id=chat.id, now=at(1), not_before=WINDOW_START
            )
            is None
        )


async def test_a_record_older_than_the_window_is_replaced(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    later = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        await tx.idempotency.claim(
            user_id=alice.id, key="k", chat_id=chat.id, now=T0, not_before=WINDOW_START
        )
        await tx.idempotency.attach(user_id=alice.id, key="k", message_id=1)
        await tx.idempotency.finish(user_id=alice.id, key="k", message_id=1, reply_id=2)
        await tx.commit()
    day_later = at(86_401)
    async with storage.uow() as tx:
        claimed = await tx.idempotency.claim(
            user_id=alice.id, key="k", chat_id=later.id, now=day_later, not_before=at(1)
        )
        assert claimed is None
        await tx.commit()
    async with storage.uow() as tx:
        now_stored = await tx.idempotency.claim(
            user_id=alice.id, key="k", chat_id=later.id, now=at(86_402), not_before=at(2)
        )
    assert now_stored == IdempotencyRecord(user_id=alice.id, key="k", chat_id=later.id, created_at=day_later)


async def test_keys_belong_to_one_user(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    bob = await add_user(storage.uow, "bob")
    alices = await add_chat(storage.uow, alice.id)
    bobs = await add_chat(storage.uow, bob.id)
    async with storage.uow() as tx:
        assert (
            await tx.idempotency.claim(
                user_id=alice.id, key="same", chat_id=alices.id, now=T0, not_before=WINDOW_START
            )
            is None
        )
        assert (
            await tx.idempotency.claim(
                user_id=bob.id, key="same", chat_id=bobs.id, now=T0, not_before=WINDOW_START
            )
            is None
        )
        await tx.idempotency.attach(user_id=bob.id, key="same", message_id=7)
        await tx.idempotency.release(user_id=bob.id, key="same", message_id=7)
        await tx.commit()
    async with storage.uow() as tx:
        still = await tx.idempotency.claim(
            user_id=alice.id, key="same", chat_id=alices.id, now=at(1), not_before=WINDOW_START
        )
    assert still is not None
    assert still.chat_id == alices.id


async def test_concurrent_claims_of_one_key_have_one_owner(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)

    async def claim() -> IdempotencyRecord | None:
        async with storage.uow() as tx:
            found = await tx.idempotency.claim(
                user_id=alice.id, key="k", chat_id=chat.id, now=T0, not_before=WINDOW_START
            )
            await tx.commit()
        return found

    results = await asyncio.gather(*(claim() for _ in range(20)))
    assert sum(r is None for r in results) == 1


async def test_purging_deletes_only_records_older_than_the_cut(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        for key, second in (("old", 0), ("new", 100)):
            await tx.idempotency.claim(
                user_id=alice.id, key=key, chat_id=chat.id, now=at(second), not_before=at(-1)
            )
        await tx.commit()
    async with storage.uow() as tx:
        assert await tx.idempotency.purge(before=at(50)) == 1
        await tx.commit()
    async with storage.uow() as tx:
        # "old" is gone (a new claim owns it), "new" is still there (a claim sees it).
        assert (
            await tx.idempotency.claim(
                user_id=alice.id, key="old", chat_id=chat.id, now=at(200), not_before=at(-1)
            )
            is None
        )
        seen = await tx.idempotency.claim(
            user_id=alice.id, key="new", chat_id=chat.id, now=at(200), not_before=at(-1)
        )
    assert seen is not None
    assert seen.created_at == at(100)


async def claim_at(
    tx: UnitOfWork, user_id: int, chat_id: int, key: str, second: float
) -> IdempotencyRecord | None:
    """A claim at ``second`` by the service's rules: claims in flight for 600 s are abandoned."""
    return await tx.idempotency.claim(
        user_id=user_id,
        key=key,
        chat_id=chat_id,
        now=at(second),
        not_before=at(-1),
        abandoned_before=at(second - 600),
    )


async def test_a_claim_left_in_flight_too_long_counts_as_abandoned(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        await claim_at(tx, alice.id, chat.id, "dead", 0)
        await claim_at(tx, alice.id, chat.id, "done", 0)
        await tx.idempotency.attach(user_id=alice.id, key="done", message_id=1)
        await tx.idempotency.finish(user_id=alice.id, key="done", message_id=1, reply_id=2)
        await tx.commit()
    async with storage.uow() as tx:
        early = await claim_at(tx, alice.id, chat.id, "dead", 5)  # not yet abandoned: in flight
        assert early is not None
        assert early.reply_id is None
        # Abandoned: claimed anew. A finished record is never abandoned: it replays.
        assert await claim_at(tx, alice.id, chat.id, "dead", 700) is None
        done = await claim_at(tx, alice.id, chat.id, "done", 700)
    assert done is not None
    assert (done.message_id, done.reply_id) == (1, 2)


async def test_only_the_request_that_owns_a_claim_finishes_or_releases_it(storage: Storage) -> None:
    # The first owner of a claim taken over as abandoned may still come back: it must not
    # finish or free the new owner's claim.
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        await claim_at(tx, alice.id, chat.id, "k", 0)
        await tx.idempotency.attach(user_id=alice.id, key="k", message_id=1)
        await tx.commit()
    async with storage.uow() as tx:
        assert await claim_at(tx, alice.id, chat.id, "k", 700) is None  # taken over
        await tx.idempotency.attach(user_id=alice.id, key="k", message_id=2)
        await tx.commit()
    async with storage.uow() as tx:
        await tx.idempotency.release(user_id=alice.id, key="k", message_id=1)  # the first owner
        await tx.idempotency.finish(user_id=alice.id, key="k", message_id=1, reply_id=10)
        await tx.commit()
    async with storage.uow() as tx:
        record = await claim_at(tx, alice.id, chat.id, "k", 701)
        assert record is not None
        assert (record.message_id, record.reply_id) == (2, None)
        await tx.idempotency.finish(user_id=alice.id, key="k", message_id=2, reply_id=20)
        await tx.commit()
    async with storage.uow() as tx:
        done = await claim_at(tx, alice.id, chat.id, "k", 702)
    assert done is not None
    assert (done.message_id, done.reply_id) == (2, 20)
