"""chatcore: the domain of an English conversation and job-interview practice service.

Pure Python (standard library only). The use cases are services: ``ChatService`` and
``AccountService`` (exported here), ``RelayService`` and ``Housekeeping``; the outside world is
reached through the ports in :mod:`chatcore.ports`. Working fakes of the clock, the tutor, the
password hasher and the token service are in :mod:`chatcore.testing`; the in-memory storage
(every repository, the unit of work and the login limiter) is the ``adapters.memory`` package,
outside chatcore.
"""

from chatcore.accounts import AccountService
from chatcore.chats import ChatService
from chatcore.errors import ChatcoreError
from chatcore.model import Chat, Message, MessageStatus, Mode, Quota, Role, User
from chatcore.quota import QuotaPolicy
from chatcore.results import Exchange

__all__ = [
    "AccountService",
    "Chat",
    "ChatService",
    "ChatcoreError",
    "Exchange",
    "Message",
    "MessageStatus",
    "Mode",
    "Quota",
    "QuotaPolicy",
    "Role",
    "User",
]
