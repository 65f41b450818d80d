"""Failed-login counting in Redis, for deployments that set ``CHATCORE_REDIS_URL``."""

from adapters.redis_limits.limiter import RedisAttemptLimiter

__all__ = ["RedisAttemptLimiter"]
