"""A live brandbot (real app, real Redis, temp SQLite, embedded workers) and a headless Chromium.

Chromium comes from Debian (``apt-get install -y chromium chromium-driver``), never
from a browser download. With CI=true a missing browser fails the run; locally the
browser tests are skipped with the same message.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bots.services import Services, build_services
from bots.settings import load_settings
from bots.stores.sql import upgrade

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
INSTALL_HINT = "apt-get update && apt-get install -y chromium chromium-driver"
CHROME_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=480,800",
)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_chromium() -> None:
    """Fail (CI) or skip (locally) with the install command when Debian's Chromium is missing."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if not missing:
        return
    message = f"browser tests need {' and '.join(missing)}: install them with `{INSTALL_HINT}`"
    if _in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture
def make_browser() -> Iterator[Callable[..., Any]]:
    """Start headless Chromiums (Selenium, fresh profile each, Accept-Language given); all closed afterwards."""
    require_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    started: list[tuple[Any, str]] = []

    def start(accept_language: str = "en-US,en") -> Any:
        profile = tempfile.mkdtemp(prefix="brandbot-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in CHROME_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        options.add_experimental_option("prefs", {"intl.accept_languages": accept_language})
        driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        started.append((driver, profile))
        return driver

    try:
        yield start
    finally:
        for driver, profile in started:
            driver.quit()
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(make_browser: Callable[..., Any]) -> Any:
    """A headless Chromium that prefers English."""
    return make_browser()


@dataclass
class LiveBot:
    url: str
    services: Services


@contextmanager
def serve(app: Any, services: Services, name: str) -> Iterator[LiveBot]:
    """Serve ``app`` on 127.0.0.1 (a free port) in a thread; shut it down on exit."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield LiveBot(url=f"http://127.0.0.1:{server.server_port}", services=services)
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def live_bot(redis_url: str, redis_client, tmp_path: Path, demo_nlu_dir: Path) -> Iterator[LiveBot]:
    """The example airline bot from the repo's config.yaml, served on 127.0.0.1 with embedded workers."""
    from bots.runtime import start_embedded
    from bots.web import create_app

    database_url = f"sqlite:///{tmp_path / 'brandbot.db'}"
    settings = load_settings(
        REPO / "config.yaml",
        env={},
        overrides={
            "stores.redis_url": redis_url,
            "stores.database_url": database_url,
            "nlu.model_dir": str(demo_nlu_dir),
            # a fresh demo booking database: seat 15C is free, X7K9QZ sits in 14C.
            "dialogue.actions_options.database": str(tmp_path / "airline.db"),
            "server.embedded_workers": 2,
        },
    )
    services = build_services(settings)
    upgrade(services.engine)
    app = create_app(settings, services)
    workers = start_embedded(services, settings.server.embedded_workers)
    try:
        with serve(app, services, "live-brandbot") as bot:
            yield bot
    finally:
        workers.stop()
        services.close()


@pytest.fixture
def live_chat(make_settings, sql_engine, redis_client) -> Iterator[LiveBot]:
    """The app alone (no workers, no NLU) on the test Redis: the test plays the bot."""
    from bots.web import create_app

    settings = make_settings()
    services = build_services(settings)
    try:
        with serve(create_app(settings, services), services, "live-chat") as bot:
            yield bot
    finally:
        services.close()


# -- Playwright (the console's browser tests) ------------------------------------------


@pytest.fixture(scope="session")
def playwright_browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (``executable_path``: no browser download)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[f for f in CHROME_FLAGS if f != "--headless"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(playwright_browser: Any) -> Iterator[Callable[..., Any]]:
    """Fresh browser contexts (own cookies) with pages; every dialog (alert) is recorded on ``page.dialogs``."""
    contexts: list[Any] = []

    def make(locale: str = "en-GB", width: int = 1280, height: int = 800) -> Any:
        context = playwright_browser.new_context(locale=locale, viewport={"width": width, "height": height})
        context.set_default_timeout(15000)
        contexts.append(context)
        page = context.new_page()
        page.dialogs = []  # test bookkeeping on Playwright's page

        def on_dialog(dialog: Any) -> None:
            page.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        return page

    try:
        yield make
    finally:
        for context in contexts:
            context.close()
