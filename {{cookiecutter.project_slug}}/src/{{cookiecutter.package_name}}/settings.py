"""The service's settings: the template's (``runtime/settings.py``) plus the team's own.

The team's file: the template's settings come in through the base class, yours go below.

Each field ``x`` is read once, at startup, from the environment variable
``{{ cookiecutter.package_name | upper }}_X``
(a bad value stops the service with one line that names the variable). Add the service's own
settings as fields of ``Settings``, with a default and a description, e.g.::

    upstream_url: str = Field(default="https://example.com", description="Where to ask.")

and use them in ``app.py``, where the settings meet the server and the tools.
"""

from __future__ import annotations

from .runtime.auth import AuthSettings
from .runtime.settings import SettingsError, load_settings

__all__ = ["Settings", "SettingsError", "read_settings"]


class Settings(AuthSettings):
    """Every setting of the service: the template's, the authentication's, then the team's."""


def read_settings(**overrides: object) -> Settings:
    """The settings from the environment, with ``overrides`` (e.g. command-line flags) on top."""
    return load_settings(Settings, **overrides)
