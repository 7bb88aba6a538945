"""Settings come from MYCLOTHES_* only, and bad values are refused with the variable's name."""

from __future__ import annotations

from pathlib import Path

import pytest

from myclothes.db.pools import sqlite_engine
from myclothes.settings import Settings, SettingsError


def test_defaults_are_the_embedded_store() -> None:
    settings = Settings.from_env({})
    assert settings.cart_store == "sql"
    assert settings.cache == "memory"
    assert settings.effective_database_url.startswith("sqlite+aiosqlite:///")
    assert settings.effective_database_url.endswith("var/myclothes.db")
    assert settings.request_deadline_s == 5.0


def test_values_are_read_and_parsed() -> None:
    settings = Settings.from_env(
        {
            "MYCLOTHES_DATA_DIR": "/tmp/x",
            "MYCLOTHES_CART_STORE": "Memory",
            "MYCLOTHES_DATABASE_REPLICA_URLS": "a, b,,c",
            "MYCLOTHES_COOKIE_SECURE": "yes",
            "MYCLOTHES_SESSION_IDLE_S": "60",
            "MYCLOTHES_REQUEST_DEADLINE_S": "2.5",
            "MYCLOTHES_SECRET_KEYS": "k" * 32 + "," + "o" * 32,
        }
    )
    assert settings.data_dir == Path("/tmp/x")
    assert settings.cart_store == "memory"
    assert settings.database_replica_urls == ("a", "b", "c")
    assert settings.cookie_secure is True
    assert settings.session_idle_s == 60
    assert settings.request_deadline_s == 2.5
    assert settings.secret_keys == ("k" * 32, "o" * 32)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CART_STORE", "floppy"),
        ("CACHE", "disk"),
        ("COOKIE_SECURE", "maybe"),
        ("SESSION_IDLE_S", "soon"),
        ("SECRET_KEYS", "change-me"),
        ("SECRET_KEYS", "dev-only-secret-key-change-me-0123456789abcdef"),  # the k8s overlay's former key
        ("SECRET_KEYS", "replace-me-with-a-generated-key"),
        ("SECRET_KEYS", "x" * 31),
        ("TRUSTED_PROXIES", "10.0.0.0/8,the-load-balancer"),
        ("REPLICA_MAX_LAG_S", "-1"),
        ("REQUEST_DEADLINE_S", "0"),
        ("REQUEST_DEADLINE_S", "soon"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"MYCLOTHES_{name}"):
        Settings.from_env({f"MYCLOTHES_{name}": value})


def test_a_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path).with_secret_keys()
    second = Settings(data_dir=tmp_path).with_secret_keys()
    assert first.secret_keys == second.secret_keys
    assert len(first.secret_keys[0]) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_trusted_proxies_and_api_docs_are_read() -> None:
    settings = Settings.from_env({"MYCLOTHES_TRUSTED_PROXIES": "10.0.0.0/16, 127.0.0.1", "MYCLOTHES_API_DOCS": "true"})
    assert settings.trusted_proxies == ("10.0.0.0/16", "127.0.0.1") and settings.api_docs
    defaults = Settings.from_env({})
    assert defaults.trusted_proxies == ("127.0.0.0/8", "::1/128") and not defaults.api_docs


def test_the_embedded_database_file_is_private_to_its_owner(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    sqlite_engine(settings.effective_database_url, writer=True)
    database = tmp_path / "data" / "myclothes.db"
    assert database.exists() and database.stat().st_mode & 0o777 == 0o600
    database.chmod(0o644)  # an older install: tightened on the next start
    sqlite_engine(settings.effective_database_url, writer=False)
    assert database.stat().st_mode & 0o777 == 0o600
