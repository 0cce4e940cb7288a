"""Settings read from the environment fail loudly on malformed values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import database_from_url, env_bool, env_int, env_list, env_secret, env_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("raw,expected", [("1", True), ("yes", True), ("off", False), ("", False)])
def test_env_bool_accepts_common_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("X_FLAG", raw)
    assert env_bool("X_FLAG") is expected


def test_env_bool_rejects_garbage(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG='maybe' is not a boolean"):
        env_bool("X_FLAG")


def test_env_int_rejects_non_numbers_and_below_minimum(monkeypatch):
    monkeypatch.setenv("X_NUM", "12a")
    with pytest.raises(ImproperlyConfigured, match="not an integer"):
        env_int("X_NUM", 1)
    monkeypatch.setenv("X_NUM", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("X_NUM", 5, minimum=1)


def test_env_list_splits_and_trims(monkeypatch):
    monkeypatch.setenv("X_LIST", " a.example, b.example ,,")
    assert env_list("X_LIST") == ["a.example", "b.example"]


def test_env_url_requires_scheme_and_host(monkeypatch):
    monkeypatch.setenv("X_URL", "localhost:8055")
    with pytest.raises(ImproperlyConfigured, match="X_URL"):
        env_url("X_URL")
    monkeypatch.setenv("X_URL", "http://127.0.0.1:8055/")
    assert env_url("X_URL") == "http://127.0.0.1:8055"


def test_secret_read_from_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cret-from-file\n")
    monkeypatch.setenv("X_SECRET_FILE", str(secret))
    assert env_secret("X_SECRET") == "s3cret-from-file"
    monkeypatch.setenv("X_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        env_secret("X_SECRET")


def test_database_url_parsing(tmp_path):
    pg = database_from_url(
        "postgres://u:p%40ss@db.example:5433/agora?sslmode=require", base_dir=tmp_path
    )
    assert pg["NAME"] == "agora" and pg["PASSWORD"] == "p@ss" and pg["PORT"] == "5433"
    assert pg["OPTIONS"] == {"sslmode": "require"}
    lite = database_from_url("sqlite:///var/x.db", base_dir=tmp_path)
    assert lite["NAME"] == str(tmp_path / "var" / "x.db")
    with pytest.raises(ImproperlyConfigured, match="unsupported scheme"):
        database_from_url("mysql://x/y", base_dir=tmp_path)
    with pytest.raises(ImproperlyConfigured, match="invalid port"):
        database_from_url("postgres://h:notaport/db", base_dir=tmp_path)


def _check(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if k not in {"DEBUG", "AGORA_TESTING", "SECRET_KEY"}
    }
    clean.update(env)
    clean.pop("PYTEST_CURRENT_TEST", None)
    clean.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_startup_fails_without_secret_key_in_production():
    result = _check({"DEBUG": "0", "ALLOWED_HOSTS": "agora.example"}, "check")
    assert result.returncode != 0
    assert "SECRET_KEY (or SECRET_KEY_FILE) must be set" in result.stderr


def test_startup_fails_on_malformed_value():
    result = _check({"DEBUG": "perhaps"}, "check")
    assert result.returncode != 0
    assert "DEBUG='perhaps' is not a boolean" in result.stderr


def test_production_settings_pass_deploy_check():
    result = _check(
        {
            "DEBUG": "0",
            "SECRET_KEY": "k" * 20 + "a-long-and-random-production-secret-9f8e7d6c5b4a",
            "ALLOWED_HOSTS": "agora.example",
            "CSRF_TRUSTED_ORIGINS": "https://agora.example",
        },
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_unconfigured_checkout_runs_manage_py_in_development_mode():
    result = _check({}, "shell", "-c", "from django.conf import settings; print(settings.DEBUG)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True"


def test_configured_secret_means_production_unless_debug_is_asked_for():
    env = {"SECRET_KEY": "s" * 40, "ALLOWED_HOSTS": "agora.example"}
    code = "from django.conf import settings; print(settings.DEBUG)"
    result = _check(env, "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"
