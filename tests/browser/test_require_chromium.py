"""Without Debian's Chromium the browser tests fail in CI and skip locally, naming the apt command."""

from __future__ import annotations

import pytest

from . import conftest


def test_missing_chromium_fails_in_ci_with_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"apt-get install -y chromium chromium-driver"):
        conftest.require_chromium()


def test_missing_chromium_skips_locally_with_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "CHROMEDRIVER", "/nonexistent/chromedriver")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"/nonexistent/chromedriver.*apt-get update"):
        conftest.require_chromium()
