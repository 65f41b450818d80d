"""chatcore: the domain of an English conversation and job-interview practice service.

Pure Python (standard library only). The use cases live in :mod:`chatcore.service`; the
outside world is reached through the ports in :mod:`chatcore.ports`; in-memory fakes for
tests and for embedding live in :mod:`chatcore.testing`.
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
