"""In-memory storage: every storage port, for tests, demos and embedding.

Transactions are real: a unit of work holds the store's lock for its whole block (so the
quota is exact under any asyncio concurrency) and restores a snapshot on rollback.
"""

from adapters.memory.limiter import MemoryAttemptLimiter
from adapters.memory.store import MemoryStore, MemoryUnitOfWork

__all__ = ["MemoryAttemptLimiter", "MemoryStore", "MemoryUnitOfWork"]
