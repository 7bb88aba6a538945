"""The one settings object. Reads ``MYCLOTHES_*`` from the environment; nothing else in the code base does."""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

PREFIX = "MYCLOTHES_"
CART_STORES = ("memory", "cookie", "redis", "sql")
CACHES = ("none", "memory", "redis")
DEV_PLACEHOLDER_KEYS = {"change-me", "changeme", "secret", "dev"}
PLACEHOLDER_MARKERS = ("change-me", "changeme", "dev-only", "replace-me")
MIN_SECRET_KEY_LENGTH = 32


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"{PREFIX}{name} must be true or false, got {value!r}")


def _number(name: str, value: str, kind: type[int] | type[float]) -> Any:
    try:
        number = kind(value)
    except ValueError:
        raise SettingsError(f"{PREFIX}{name} must be a number, got {value!r}") from None
    if number < 0:
        raise SettingsError(f"{PREFIX}{name} must not be negative, got {value!r}")
    return number


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable about one MyClothes process."""

    data_dir: Path = Path("var")
    database_url: str = ""
    database_replica_urls: tuple[str, ...] = ()
    replica_max_lag_s: float = 1.0
    redis_url: str = ""
    redis_sentinels: tuple[str, ...] = ()
    redis_service: str = "myclothes"
    redis_wait: bool | None = None  # wait for a replica's acknowledgement of cart writes; default: on with Sentinel
    cart_store: str = "sql"
    cache: str = "memory"
    secret_keys: tuple[str, ...] = ()
    cookie_secure: bool = False
    session_idle_s: int = 7 * 24 * 3600
    session_absolute_s: int = 30 * 24 * 3600
    instance: str = field(default_factory=socket.gethostname)
    zone: str = "local"
    catalog_cache_ttl_s: float = 30.0
    login_account_max_per_hour: int = 100
    login_ip_max_per_window: int = 30
    register_ip_max_per_hour: int = 20
    login_ip_window_s: int = 300
    seed_products: int = 120
    request_deadline_s: float = 5.0  # a request that has sent nothing by then answers 503 with Retry-After
    trusted_proxies: tuple[str, ...] = ("127.0.0.0/8", "::1/128")  # whose X-Forwarded-For is believed
    api_docs: bool = False  # serve the Swagger UI at /schema/swagger (the JSON document is always served)

    @property
    def effective_database_url(self) -> str:
        """The writer's URL; the embedded default is a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'myclothes.db').resolve()}"

    @property
    def wait_for_replica(self) -> bool:
        return self.redis_wait if self.redis_wait is not None else bool(self.redis_sentinels)

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``MYCLOTHES_*`` variables; raise :class:`SettingsError` naming a bad one."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            return env.get(PREFIX + name)

        values: dict[str, Any] = {}
        if (v := get("DATA_DIR")) is not None:
            values["data_dir"] = Path(v)
        for name in ("DATABASE_URL", "REDIS_URL", "REDIS_SERVICE", "INSTANCE", "ZONE"):
            if (v := get(name)) is not None:
                values[name.lower()] = v.strip()
        for name in ("DATABASE_REPLICA_URLS", "REDIS_SENTINELS", "SECRET_KEYS", "TRUSTED_PROXIES"):
            if (v := get(name)) is not None:
                values[name.lower()] = _csv(v)
        for name in ("REPLICA_MAX_LAG_S", "CATALOG_CACHE_TTL_S", "REQUEST_DEADLINE_S"):
            if (v := get(name)) is not None:
                values[name.lower()] = _number(name, v, float)
        for name in (
            "SESSION_IDLE_S",
            "SESSION_ABSOLUTE_S",
            "LOGIN_ACCOUNT_MAX_PER_HOUR",
            "LOGIN_IP_MAX_PER_WINDOW",
            "LOGIN_IP_WINDOW_S",
            "REGISTER_IP_MAX_PER_HOUR",
            "SEED_PRODUCTS",
        ):
            if (v := get(name)) is not None:
                values[name.lower()] = _number(name, v, int)
        if (v := get("COOKIE_SECURE")) is not None:
            values["cookie_secure"] = _bool("COOKIE_SECURE", v)
        if (v := get("API_DOCS")) is not None:
            values["api_docs"] = _bool("API_DOCS", v)
        if (v := get("REDIS_WAIT")) is not None:
            values["redis_wait"] = _bool("REDIS_WAIT", v)
        if (v := get("CART_STORE")) is not None:
            values["cart_store"] = v.strip().lower()
        if (v := get("CACHE")) is not None:
            values["cache"] = v.strip().lower()
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Refuse combinations that cannot work, with a message naming the setting."""
        if self.cart_store not in CART_STORES:
            raise SettingsError(f"{PREFIX}CART_STORE must be one of {', '.join(CART_STORES)}, got {self.cart_store!r}")
        if self.cache not in CACHES:
            raise SettingsError(f"{PREFIX}CACHE must be one of {', '.join(CACHES)}, got {self.cache!r}")
        if self.session_idle_s <= 0 or self.session_absolute_s < self.session_idle_s:
            raise SettingsError(f"{PREFIX}SESSION_ABSOLUTE_S must be at least {PREFIX}SESSION_IDLE_S (> 0)")
        needs_redis = self.cart_store == "redis" or self.cache == "redis"
        if needs_redis and not (self.redis_url or self.redis_sentinels):
            raise SettingsError(f"{PREFIX}REDIS_URL or {PREFIX}REDIS_SENTINELS is required for Redis")
        if self.request_deadline_s <= 0:
            raise SettingsError(f"{PREFIX}REQUEST_DEADLINE_S must be more than 0, got {self.request_deadline_s!r}")
        for key in self.secret_keys:
            lowered = key.lower()
            if lowered in DEV_PLACEHOLDER_KEYS or any(marker in lowered for marker in PLACEHOLDER_MARKERS):
                raise SettingsError(
                    f"{PREFIX}SECRET_KEYS holds a placeholder key; generate one with: "
                    "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
                )
            if len(key) < MIN_SECRET_KEY_LENGTH:
                raise SettingsError(
                    f"{PREFIX}SECRET_KEYS entries must be random strings of at least {MIN_SECRET_KEY_LENGTH} "
                    "characters; generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
                )
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise SettingsError(
                    f"{PREFIX}TRUSTED_PROXIES must list IP addresses or networks (CIDR), got {proxy!r}"
                ) from None

    def with_secret_keys(self) -> Settings:
        """Return settings that have a secret key: the configured ones, else one generated once in the data dir."""
        if self.secret_keys:
            return self
        key_file = self.data_dir / "secret_key"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not key_file.exists():
            # Write aside, then link into place: concurrent first starts agree on one key.
            tmp = self.data_dir / f".secret_key.{os.getpid()}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            try:
                os.link(tmp, key_file)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return replace(self, secret_keys=(key_file.read_text().strip(),))
