"""Browser test harness: the real ASGI server in a subprocess, driven by Debian's Chromium.

Fixtures
- ``live_url``: base URL of ``uvicorn config.asgi:application`` (HTTP + websockets) using
  the pytest test database and the same Redis; session-scoped. Tests that use it must be
  ``@pytest.mark.django_db(transaction=True)`` so their data is committed and visible.
- ``page``: a Playwright page in a fresh browser context per test; a screenshot lands in
  ``test-results/`` when the test fails.
- ``login(page, user, password=...)``: signs in through the form (and the TOTP step, for
  users whose TOTP secret was set up with ``totp_enrol``).
- ``mailbox()``: the emails the server has sent during this test.
- ``totp_enrol(user)`` / ``totp_code(secret)``: real TOTP authenticators for stewards.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connections

from tests.browser.server import ROOT, database_url_for, uvicorn_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
PASSWORD = "correct-horse-battery"
RESULTS_DIR = ROOT / "test-results"
TIMEOUT_MS = 15_000


@pytest.fixture(autouse=True)
def _orm_between_browser_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Playwright's sync API runs an event loop in this thread while a browser is open;
    the ORM calls a browser test makes between steps are still plain synchronous code.
    Only browser tests get this, and the browser is closed after each test, so no other
    test runs with a loop left in its thread."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


# --- the server ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mail_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mail")


@pytest.fixture(scope="session")
def live_server_env(django_db_setup: Any, mail_dir: Path) -> dict[str, str]:
    """Environment for the server process: the test database, this run's Redis, file mail."""
    database_url = database_url_for(settings.DATABASES["default"])
    if database_url is None:
        pytest.skip(
            "browser tests need a database another process can open: run them with "
            "`make test` (PostgreSQL), not on in-memory SQLite"
        )
    env = {
        "DATABASE_URL": database_url,
        "AGORA_TESTING": "1",
        "DEBUG": "1",
        "LOG_JSON": "0",
        "LOG_LEVEL": "WARNING",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "STEWARD_REQUIRES_2FA": "1",
        "SECURE_SSL_REDIRECT": "0",
        # Browser tests sign in many times from one IP within a minute.
        "API_THROTTLE_ANON": "100000/min",
        "API_THROTTLE_USER": "100000/min",
    }
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    return env


@pytest.fixture(scope="session")
def live_url(
    live_server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    log_path = tmp_path_factory.mktemp("uvicorn") / "server.log"
    with uvicorn_server(env=live_server_env, log_path=log_path) as url:
        yield url


# --- the browser -----------------------------------------------------------------------


@pytest.fixture
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium; `make test` does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            # While Playwright's loop runs in this thread, Django keeps the test's database
            # connections apart from the thread's own (per asyncio context): close them
            # now, or they outlive the loop open and block dropping the test database.
            connections.close_all()
            chromium.close()


@pytest.fixture
def page(browser: Any, live_url: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(base_url=live_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.js_errors = errors  # tests may assert the page threw nothing
    try:
        yield pg
    finally:
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            RESULTS_DIR.mkdir(exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
            try:
                pg.screenshot(path=str(RESULTS_DIR / f"{name}.png"), full_page=True)
                (RESULTS_DIR / f"{name}.html").write_text(pg.content())
            except Exception as exc:  # a failed screenshot must not hide the failure
                print(f"screenshot failed: {exc}")
        context.close()


# --- people, TOTP, mail ----------------------------------------------------------------

_totp_secrets: dict[int, str] = {}


def totp_code(secret: str) -> str:
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


@pytest.fixture
def totp_enrol() -> Iterator[Callable[[Any], str]]:
    """``totp_enrol(user)`` gives the user a real TOTP authenticator; returns the secret."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    def enrol(user: Any) -> str:
        secret = generate_totp_secret()
        TOTP.activate(user, secret)
        _totp_secrets[user.pk] = secret
        return secret

    yield enrol
    _totp_secrets.clear()


@pytest.fixture
def login(live_url: str) -> Callable[..., None]:
    def sign_in(page: Any, user: Any, password: str = PASSWORD) -> None:
        page.goto("/accounts/login/")
        page.fill("#id_login", user.email)
        page.fill("#id_password", password)
        page.click("form.stack-form button[type=submit]")
        page.wait_for_load_state()
        if "/accounts/2fa/authenticate/" in page.url:
            secret = _totp_secrets.get(user.pk)
            assert secret, f"{user.email} has TOTP but no secret from totp_enrol()"
            page.fill("#id_code", totp_code(secret))
            page.click("form.stack-form button[type=submit]")
            page.wait_for_load_state()
        assert "/accounts/login/" not in page.url, f"login failed for {user.email}"

    return sign_in


@dataclass(frozen=True)
class SentMail:
    subject: str
    to: list[str]
    body: str

    def links(self) -> list[str]:
        return re.findall(r"https?://[^\s<>\"]+", self.body)


@pytest.fixture
def mailbox(mail_dir: Path) -> Callable[[], list[SentMail]]:
    """``mailbox()`` → the emails sent during this test, oldest first."""
    shutil.rmtree(mail_dir, ignore_errors=True)
    mail_dir.mkdir(parents=True, exist_ok=True)

    def read() -> list[SentMail]:
        messages: list[SentMail] = []
        for path in sorted(mail_dir.glob("*.log"), key=lambda p: p.stat().st_mtime):
            for raw in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
                if not raw.strip():
                    continue
                msg = email.message_from_bytes(raw, policy=email.policy.default)
                part = msg.get_body(preferencelist=("plain", "html"))
                body = part.get_content() if part is not None else ""
                to = [a.strip() for a in str(msg.get("To", "")).split(",") if a.strip()]
                messages.append(SentMail(str(msg.get("Subject", "")), to, body))
        return messages

    return read
