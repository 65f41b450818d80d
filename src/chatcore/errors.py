"""The one error tree of chatcore. Errors are facts about the domain, not HTTP statuses.

::

    ChatcoreError
    ├── ValidationFailed(field)           bad input the caller can fix
    ├── NotFound
    │   ├── ChatNotFound                  also for another user's chat (never reveal it exists)
    │   ├── UserNotFound
    │   ├── MessageNotFound
    │   ├── ApiKeyNotFound
    │   ├── ProviderNotFound              not a provider, or not configured on this server
    │   ├── NotLinked                     the user has no account of that provider linked
    │   ├── ScorecardNotFound             the chat has no scorecard (yet)
    │   └── NotebookEntryNotFound
    ├── Conflict
    │   ├── UsernameTaken
    │   ├── EmailTaken
    │   ├── TooManyApiKeys                a user holds at most MAX_API_KEYS personal keys
    │   ├── PasswordRequired              the account has no password to confirm a change with
    │   ├── NothingToScore                not an interview, or no answer to a question yet
    │   ├── LastAdmin                     the last administrator cannot delete their account
    │   └── LastLoginMethod               unlinking would leave no password and no other provider
    ├── AuthError
    │   ├── InvalidCredentials            same for unknown user and wrong password
    │   ├── InvalidToken
    │   │   └── AccountGone               a valid token of an account deleted since
    │   ├── TokenReused                   a rotated refresh token came back: its chain is revoked
    │   ├── TooManyAttempts(retry_after)
    │   ├── PermissionDenied
    │   └── InvalidLoginCode              a one-time OAuth code unknown, used or older than 60 s
    ├── OAuthFailed                       a Kakao/GitHub login or link did not finish
    │   ├── OAuthStateInvalid             unknown, used, expired, or started in another browser
    │   ├── OAuthDenied                   the user declined at the provider
    │   ├── ProviderError                 the provider answered with an error
    │   ├── ProviderUnavailable           the provider could not be reached in time
    │   └── AlreadyLinked                 that provider account belongs to another user
    ├── QuotaExceeded(quota)
    ├── StorageUnavailable(retry_after)   the database is locked or cannot be reached for now
    └── LLMError                          the tutor could not answer; the quota slot is given back
        ├── LLMTimeout
        ├── LLMUnavailable                connection refused, DNS
        ├── LLMBusy(retry_after)          upstream said 429
        ├── LLMUpstreamError              upstream 5xx or a broken answer
        └── LLMMisconfigured              upstream 401/403: our key or model is wrong
"""

from __future__ import annotations

from chatcore.model import Quota


class ChatcoreError(Exception):
    """Base of every error chatcore raises. ``str(error)`` is a sentence safe to show a user."""

    default_detail = "Something went wrong."

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.default_detail)

    @property
    def detail(self) -> str:
        return str(self)


class ValidationFailed(ChatcoreError):
    default_detail = "The request is not valid."

    def __init__(self, detail: str | None = None, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.field = field


class NotFound(ChatcoreError):
    default_detail = "Not found."


class ChatNotFound(NotFound):
    default_detail = "Chat not found."


class UserNotFound(NotFound):
    default_detail = "User not found."


class MessageNotFound(NotFound):
    default_detail = "Message not found."


class ApiKeyNotFound(NotFound):
    default_detail = "API key not found."


class ProviderNotFound(NotFound):
    default_detail = "This login provider is not available here."


class NotLinked(NotFound):
    default_detail = "No account of this provider is linked to yours."


class Conflict(ChatcoreError):
    default_detail = "This conflicts with existing data."


class NothingToScore(Conflict):
    default_detail = "There is nothing to score yet: answer at least one of the interviewer's questions."


class ScorecardNotFound(NotFound):
    default_detail = "This chat has no scorecard yet."


class NotebookEntryNotFound(NotFound):
    default_detail = "Notebook entry not found."


class UsernameTaken(Conflict):
    default_detail = "This username is already taken."


class EmailTaken(Conflict):
    default_detail = "This e-mail address is already registered."


class TooManyApiKeys(Conflict):
    default_detail = "You already have the most API keys allowed (20). Revoke one before creating another."


class PasswordRequired(Conflict):
    default_detail = "This account has no password, and this change needs the current password to confirm it."


class LastAdmin(Conflict):
    default_detail = (
        "You are the last administrator: make someone else an administrator before deleting your account."
    )


class LastLoginMethod(Conflict):
    default_detail = (
        "This is your only way to log in: set a password or link another provider before unlinking it."
    )


class AuthError(ChatcoreError):
    default_detail = "Authentication failed."


class InvalidCredentials(AuthError):
    default_detail = "The username or password is incorrect."


class InvalidToken(AuthError):
    default_detail = "The token is invalid or has expired."


class AccountGone(InvalidToken):
    """A signed-in request whose account no longer exists: its tokens stop working at once."""

    default_detail = "This account no longer exists."


class TokenReused(AuthError):
    default_detail = "This refresh token was already used; all sessions of this chain were signed out."


class TooManyAttempts(AuthError):
    default_detail = "Too many failed attempts. Try again later."

    def __init__(self, detail: str | None = None, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class PermissionDenied(AuthError):
    default_detail = "You are not allowed to do this."


class InvalidLoginCode(AuthError):
    default_detail = "This login code is invalid, was already used or has expired. Log in again."


class OAuthFailed(ChatcoreError):
    """A login or link through a provider did not finish. The callback turns each kind into the
    ``error`` of its redirect; nothing about the provider's answer is in the detail."""

    default_detail = "The login through the provider did not finish. Please try again."


class OAuthStateInvalid(OAuthFailed):
    default_detail = "This login link is invalid, was already used, has expired or was opened elsewhere."


class OAuthDenied(OAuthFailed):
    default_detail = "The login was cancelled at the provider."


class ProviderError(OAuthFailed):
    default_detail = "The provider refused the login."


class ProviderUnavailable(OAuthFailed):
    default_detail = "The provider cannot be reached right now. Please try again later."


class AlreadyLinked(OAuthFailed):
    default_detail = "This provider account is already linked to another user."


class QuotaExceeded(ChatcoreError):
    def __init__(self, quota: Quota) -> None:
        super().__init__(
            f"You have used all {quota.limit} tutor requests for today. "
            f"Your quota resets at {quota.resets_at.isoformat()}."
        )
        self.quota = quota


class StorageUnavailable(ChatcoreError):
    """The database did not serve in time (a lock held too long, a server that cannot be reached).
    Unless ``in_doubt``, nothing was changed: the caller may simply try again."""

    default_detail = "The service is busy right now. Please try again in a moment."

    def __init__(
        self, detail: str | None = None, *, retry_after: int = 1, reason: str = "", in_doubt: bool = False
    ) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
        self.reason = reason
        """What the database said, in a word (``SQLITE_BUSY``, a SQLSTATE): for the log, not the user."""
        self.in_doubt = in_doubt
        """A commit failed in a way that leaves open whether it was applied: do not repeat the
        change blindly (an insert could be stored twice, a slot given back twice)."""


class LLMError(ChatcoreError):
    default_detail = "The tutor could not answer. Your message was kept; please try again."


class LLMTimeout(LLMError):
    default_detail = "The tutor took too long to answer. Please try again."


class LLMUnavailable(LLMError):
    default_detail = "The tutor service cannot be reached right now. Please try again later."


class LLMBusy(LLMError):
    default_detail = "The tutor service is busy. Please try again shortly."

    def __init__(self, detail: str | None = None, *, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class LLMUpstreamError(LLMError):
    default_detail = "The tutor service returned an error. Please try again."


class LLMMisconfigured(LLMError):
    default_detail = "The tutor service is misconfigured. The administrator has been notified."
