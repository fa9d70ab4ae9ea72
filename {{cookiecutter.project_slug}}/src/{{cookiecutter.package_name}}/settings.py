"""The service's settings: the template's (``runtime/settings.py``) plus the team's own.

The team's file: the template's settings come in through the base class, yours go below.

Each field ``x`` is read once, at startup, from the environment variable
``{{ cookiecutter.package_name | upper }}_X``
(or a line of ``.env``); a bad value stops the service with one line that names the variable.
Add a setting as a field with a default and a description, list it in ``docs/settings.md``
and ``.env.example`` (tests hold both to the fields), and reach it in a tool through
``shared().settings`` (``shared.py``).
"""

from __future__ import annotations

from pydantic import Field, HttpUrl

from .runtime.auth import AuthSettings
from .runtime.settings import SettingsError, load_settings

__all__ = ["Settings", "SettingsError", "read_settings"]


class Settings(AuthSettings):
    """Every setting of the service: the template's, the authentication's, then the team's."""

    # The example upstream of ``tools.py`` (``package_info``): replace with your own.
    pypi_url: HttpUrl = Field(
        default=HttpUrl("https://pypi.org"),
        description="Base URL of the PyPI JSON API that package_info calls.",
    )
    pypi_timeout: float = Field(
        default=10.0,
        gt=0,
        allow_inf_nan=False,
        description="Seconds a call to PyPI may take before the tool reports it as failed.",
    )


def read_settings(**overrides: object) -> Settings:
    """The settings from the environment, with ``overrides`` (e.g. command-line flags) on top."""
    return load_settings(Settings, **overrides)
