"""Production settings: `check --deploy` is clean with only the required environment, and unsafe setups refuse."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, **env: str) -> subprocess.CompletedProcess:
    """`python <args>` in a clean environment with the production settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "DJANGO_", "DEBUG", "SECRET_KEY"))}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings.production", **env)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120)


def _required() -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "shop.example.com",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "sqlite:////tmp/lookaway-deploy-check.sqlite3"),
    }


@pytest.mark.slow
def test_check_deploy_is_clean_with_the_production_defaults():
    done = _run("manage.py", "check", "--deploy", "--fail-level", "WARNING", **_required())
    assert done.returncode == 0, done.stderr + done.stdout
    assert "no issues" in done.stdout


@pytest.mark.slow
def test_check_deploy_fails_when_https_is_switched_off():
    done = _run(
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **_required(),
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        SECURE_HSTS_SECONDS="0",
    )
    assert done.returncode != 0
    for check in ("security.W008", "security.W012", "security.W004"):
        assert check in done.stderr + done.stdout


@pytest.mark.parametrize(
    "env",
    [
        {"SECRET_KEY": ""},
        {"SECRET_KEY": "django-insecure-lookaway-development-key-do-not-use-in-production"},
        {"SECRET_KEY": "short-key"},
        {"SECRET_KEY": "a" * 60},
        {"DEBUG": "true"},
    ],
    ids=["empty", "development key", "short", "one character", "debug"],
)
def test_production_settings_refuse_unsafe_setups(env):
    done = _run("-c", "from django.conf import settings; settings.SECRET_KEY", **{**_required(), **env})
    assert done.returncode != 0 and "ImproperlyConfigured" in done.stderr
