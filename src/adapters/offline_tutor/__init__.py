"""The built-in offline tutor: deterministic replies in both practice modes, no API key needed."""

from adapters.offline_tutor.gateway import OfflineTutorGateway

__all__ = ["OfflineTutorGateway"]
