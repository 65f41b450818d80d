"""Contract: ApiKeyRepository (SPEC §4.5: personal keys stored hashed, owner-scoped)."""

from __future__ import annotations

from chatcore.model import ApiKey
from contract.conftest import Storage
from contract.helpers import add_user, at


async def test_a_key_is_found_by_its_hash_and_listed_for_its_owner(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    bob = await add_user(storage.uow, "bob")
    async with storage.uow() as tx:
        first = await tx.api_keys.add(
            user_id=alice.id, name="laptop", prefix="ck_abc", key_hash="h1", now=at(1)
        )
        second = await tx.api_keys.add(
            user_id=alice.id, name="phone", prefix="ck_def", key_hash="h2", now=at(2)
        )
        bobs = await tx.api_keys.add(user_id=bob.id, name="bob's", prefix="ck_ghi", key_hash="h3", now=at(3))
        await tx.commit()
    assert first == ApiKey(id=first.id, user_id=alice.id, name="laptop", prefix="ck_abc", created_at=at(1))
    async with storage.uow() as tx:
        assert await tx.api_keys.find("h1") == first
        assert await tx.api_keys.find("h3") == bobs
        assert await tx.api_keys.find("nope") is None
        assert await tx.api_keys.list_for(alice.id) == [first, second]
        assert await tx.api_keys.list_for(bob.id) == [bobs]


async def test_only_the_owner_deletes_a_key(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    bob = await add_user(storage.uow, "bob")
    async with storage.uow() as tx:
        key = await tx.api_keys.add(
            user_id=alice.id, name="laptop", prefix="ck_abc", key_hash="h1", now=at(1)
        )
        await tx.commit()
    async with storage.uow() as tx:
        assert await tx.api_keys.delete(bob.id, key.id) is False
        assert await tx.api_keys.delete(alice.id, key.id) is True
        assert await tx.api_keys.delete(alice.id, key.id) is False
        await tx.commit()
    async with storage.uow() as tx:
        assert await tx.api_keys.find("h1") is None
        assert await tx.api_keys.list_for(alice.id) == []


async def test_a_use_is_recorded_unless_a_recent_one_is(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    async with storage.uow() as tx:
        key = await tx.api_keys.add(
            user_id=alice.id, name="laptop", prefix="ck_abc", key_hash="h1", now=at(1)
        )
        await tx.api_keys.record_use(key.id, now=at(100), unless_since=at(0))
        await tx.commit()
    async with storage.uow() as tx:
        found = await tx.api_keys.find("h1")
        assert found is not None
        assert found.last_used_at == at(100)
        # A use recorded at or after unless_since stays; an older one is replaced.
        await tx.api_keys.record_use(key.id, now=at(200), unless_since=at(100))
        assert (await tx.api_keys.list_for(alice.id))[0].last_used_at == at(100)
        await tx.api_keys.record_use(key.id, now=at(300), unless_since=at(101))
        await tx.api_keys.record_use(key.id + 1000, now=at(300), unless_since=at(101))  # unknown: no-op
        await tx.commit()
    async with storage.uow() as tx:
        assert (await tx.api_keys.list_for(alice.id))[0].last_used_at == at(300)
