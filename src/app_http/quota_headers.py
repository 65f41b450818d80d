"""The rate-limit headers of SPEC §5."""

from __future__ import annotations

from datetime import datetime

from chatcore.model import Quota


def quota_headers(quota: Quota, now: datetime, *, refused: bool = False) -> dict[str, str]:
    reset = str(quota.seconds_until_reset(now))
    headers = {
        "X-RateLimit-Limit": str(quota.limit),
        "X-RateLimit-Remaining": str(quota.remaining),
        "X-RateLimit-Reset": reset,
    }
    if refused:
        headers["Retry-After"] = reset
    return headers
