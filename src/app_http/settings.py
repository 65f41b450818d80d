"""Settings from the environment (SPEC §2): frozen, validated, secrets kept out of ``repr``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app_http.client_address import Network, parse_networks


class ConfigError(Exception):
    """Bad configuration: the message is one line for the operator; start-up exits with 2."""


GITHUB_ENDPOINTS = (
    "https://github.com/login/oauth/authorize",
    "https://github.com/login/oauth/access_token",
    "https://api.github.com/user",
)
KAKAO_ENDPOINTS = (
    "https://kauth.kakao.com/oauth/authorize",
    "https://kauth.kakao.com/oauth/token",
    "https://kapi.kakao.com/v2/user/me",
)
MIN_METRICS_TOKEN = 16
"""Characters, at least, of ``CHATCORE_METRICS_TOKEN``: ``/metrics`` does not throttle guesses."""


@dataclass(frozen=True, slots=True)
class OAuthClientSettings:
    client_id: str
    client_secret: str = field(repr=False)
    authorize_url: str
    token_url: str
    userinfo_url: str


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = Path("var")
    database_url: str = ""
    """Empty means the embedded SQLite database in ``data_dir``."""
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    secret_key: str = field(default="", repr=False)
    """Empty means generated once and stored in ``data_dir`` (development only)."""
    env: str = "development"
    daily_limit: int = 5
    quota_timezone: str = "Asia/Seoul"
    openai_api_key: str = field(default="", repr=False)
    openai_base_url: str = ""
    llm_model: str = "gpt-4o-mini"
    llm_timeout: float = 30.0
    request_read_timeout: float = 30.0
    """Seconds a client has to send its request headers, and again its body (else 408)."""
    access_token_ttl: int = 900
    refresh_token_ttl: int = 1_209_600
    cors_origins: tuple[str, ...] = ()
    public_url: str = ""
    redis_url: str = field(default="", repr=False)
    trusted_proxies: tuple[Network, ...] = ()
    login_address_limit: int = 100
    """Failed password checks per client address within 15 minutes (every account together)."""
    signup_address_limit: int = 300
    """Sign-ups per client address within 15 minutes."""
    metrics_token: str = field(default="", repr=False)
    """Bearer token ``GET /metrics`` asks for; empty means loopback clients only."""
    oauth_address_limit: int = 300
    """Kakao/GitHub logins and links started per client address within 15 minutes."""
    github: OAuthClientSettings | None = None
    kakao: OAuthClientSettings | None = None
    oauth_timeout: float = 10.0
    """Seconds a provider has to answer a login's code exchange (token and account calls)."""

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def embedded_database(self) -> bool:
        return not self.database_url

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'chatcore.sqlite3').resolve()}"

    @property
    def effective_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate ``CHATCORE_*`` / ``OPENAI_*`` variables; raise ``ConfigError``."""
        e = os.environ if env is None else env

        def get(name: str, default: str = "") -> str:
            return e.get(name, default).strip()

        settings = cls(
            data_dir=Path(get("CHATCORE_DATA_DIR", "var") or "var"),
            database_url=get("CHATCORE_DATABASE_URL"),
            host=get("CHATCORE_HOST", "127.0.0.1") or "127.0.0.1",
            port=_int(get("CHATCORE_PORT", "8000"), "CHATCORE_PORT", low=1, high=65535),
            workers=_int(get("CHATCORE_WORKERS", "1"), "CHATCORE_WORKERS", low=1, high=64),
            secret_key=get("CHATCORE_SECRET_KEY"),
            env=get("CHATCORE_ENV", "development") or "development",
            daily_limit=_int(get("CHATCORE_DAILY_LIMIT", "5"), "CHATCORE_DAILY_LIMIT", low=1),
            quota_timezone=_zone(get("CHATCORE_QUOTA_TIMEZONE", "Asia/Seoul") or "Asia/Seoul"),
            openai_api_key=get("OPENAI_API_KEY"),
            openai_base_url=_url(get("OPENAI_BASE_URL"), "OPENAI_BASE_URL"),
            llm_model=get("CHATCORE_LLM_MODEL", "gpt-4o-mini") or "gpt-4o-mini",
            llm_timeout=_float(get("CHATCORE_LLM_TIMEOUT", "30"), "CHATCORE_LLM_TIMEOUT"),
            request_read_timeout=_float(
                get("CHATCORE_REQUEST_READ_TIMEOUT", "30"), "CHATCORE_REQUEST_READ_TIMEOUT"
            ),
            access_token_ttl=_int(
                get("CHATCORE_ACCESS_TOKEN_TTL", "900"), "CHATCORE_ACCESS_TOKEN_TTL", low=30
            ),
            refresh_token_ttl=_int(
                get("CHATCORE_REFRESH_TOKEN_TTL", "1209600"), "CHATCORE_REFRESH_TOKEN_TTL", low=60
            ),
            cors_origins=tuple(o.strip() for o in get("CHATCORE_CORS_ORIGINS").split(",") if o.strip()),
            public_url=_url(get("CHATCORE_PUBLIC_URL"), "CHATCORE_PUBLIC_URL"),
            redis_url=get("CHATCORE_REDIS_URL"),
            trusted_proxies=_networks(get("CHATCORE_TRUSTED_PROXIES"), "CHATCORE_TRUSTED_PROXIES"),
            login_address_limit=_int(
                get("CHATCORE_LOGIN_ADDRESS_LIMIT", "100"), "CHATCORE_LOGIN_ADDRESS_LIMIT", low=10
            ),
            signup_address_limit=_int(
                get("CHATCORE_SIGNUP_ADDRESS_LIMIT", "300"), "CHATCORE_SIGNUP_ADDRESS_LIMIT", low=1
            ),
            metrics_token=get("CHATCORE_METRICS_TOKEN"),
            oauth_address_limit=_int(
                get("CHATCORE_OAUTH_ADDRESS_LIMIT", "300"), "CHATCORE_OAUTH_ADDRESS_LIMIT", low=1
            ),
            github=_oauth(e, "GITHUB", GITHUB_ENDPOINTS),
            kakao=_oauth(e, "KAKAO", KAKAO_ENDPOINTS),
            oauth_timeout=_float(get("CHATCORE_OAUTH_TIMEOUT", "10"), "CHATCORE_OAUTH_TIMEOUT"),
        )
        if settings.env not in {"development", "production"}:
            raise ConfigError("CHATCORE_ENV must be 'development' or 'production'.")
        if settings.production and not settings.secret_key:
            raise ConfigError("CHATCORE_SECRET_KEY must be set when CHATCORE_ENV=production.")
        if settings.production and not settings.database_url:
            raise ConfigError("CHATCORE_DATABASE_URL must be set when CHATCORE_ENV=production.")
        if settings.secret_key and len(settings.secret_key) < 32:
            raise ConfigError("CHATCORE_SECRET_KEY must be at least 32 characters long.")
        if settings.metrics_token and len(settings.metrics_token) < MIN_METRICS_TOKEN:
            raise ConfigError(f"CHATCORE_METRICS_TOKEN must be at least {MIN_METRICS_TOKEN} characters long.")
        if settings.database_url and not settings.database_url.startswith(
            ("sqlite+aiosqlite://", "postgresql+asyncpg://")
        ):
            raise ConfigError(
                "CHATCORE_DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://."
            )
        return settings


def _int(raw: str, name: str, *, low: int, high: int | None = None) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}.") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ConfigError(f"{name} must be {bound}, not {value}.")
    return value


def _float(raw: str, name: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, not {raw!r}.") from None
    if not 0 < value <= 3600:
        raise ConfigError(f"{name} must be between 0 and 3600 seconds, not {value}.")
    return value


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"CHATCORE_QUOTA_TIMEZONE {name!r} is not a known IANA time zone (e.g. Asia/Seoul)."
        ) from None
    return name


def _networks(raw: str, name: str) -> tuple[Network, ...]:
    try:
        return parse_networks(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc} (give comma-separated addresses or CIDRs).") from None


def _url(raw: str, name: str) -> str:
    if not raw:
        return raw
    parts = urlsplit(raw)
    if "@" in parts.netloc:  # never echoed: it would show the password
        raise ConfigError(f"{name} must not contain a user name or password (use the API key setting).")
    if parts.scheme not in {"http", "https"}:
        raise ConfigError(f"{name} must be an http(s) URL, not {raw!r}.")
    return raw


def _oauth(e: Mapping[str, str], provider: str, defaults: tuple[str, str, str]) -> OAuthClientSettings | None:
    client_id = e.get(f"CHATCORE_{provider}_CLIENT_ID", "").strip()
    secret = e.get(f"CHATCORE_{provider}_CLIENT_SECRET", "").strip()
    if not client_id or not secret:
        return None
    urls = [
        _url(
            e.get(f"CHATCORE_{provider}_{part}_URL", "").strip() or default,
            f"CHATCORE_{provider}_{part}_URL",
        )
        for part, default in zip(("AUTHORIZE", "TOKEN", "USERINFO"), defaults, strict=True)
    ]
    return OAuthClientSettings(
        client_id=client_id,
        client_secret=secret,
        authorize_url=urls[0],
        token_url=urls[1],
        userinfo_url=urls[2],
    )
