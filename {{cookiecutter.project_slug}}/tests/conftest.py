"""The team's and the template's: fixtures every test needs, the team's own included.

Every test meets the service as deployed (the settings it needs to start in the environment,
a developer's ``.env`` ignored), and ``server`` is the service on a real server. The fixtures
only the template's tests use are in ``runtime/conftest.py``; the helpers, in ``support/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.runtime import settings as settings_module
from {{ cookiecutter.package_name }}.runtime.settings import ENV_PREFIX
from {{ cookiecutter.package_name }}.settings import Settings

from .support import credentials
from .support.servers import RunningServer, serving


@pytest.fixture(scope="session", autouse=True)
def credentials_in_the_environment() -> Iterator[None]:
    """Every test meets the service as deployed, its clients checked as this bake checks them:
    ``Settings()`` reads the settings of ``credentials.py`` and ``rpc.py`` sends its headers
    (with no authentication, there are none of either)."""
    with credentials.active(), pytest.MonkeyPatch.context() as patch:
        for name, value in credentials.environment().items():
            patch.setenv(ENV_PREFIX + name, value)
        yield


@pytest.fixture(scope="session", autouse=True)
def no_env_file() -> Iterator[None]:
    """Settings read in this process ignore a developer's ``.env`` (the processes the tests
    start run elsewhere: ``processes.NEUTRAL_CWD``)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings_module, "ENV_FILE", Path("/nonexistent/.env"))
        yield


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    """The service as deployed by default (SSE responses), on a real server shared by a module.

    Tests that change settings, stall connections or stop the server start their own.
    """
    with serving(create_app(Settings())) as running:
        yield running
