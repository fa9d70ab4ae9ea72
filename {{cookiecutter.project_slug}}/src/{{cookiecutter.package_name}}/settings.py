"""Service settings, read once at startup from environment variables.

Each setting ``x`` is read from the variable ``ENV_PREFIX + "X"``, that is
``{{ cookiecutter.package_name | upper }}_X``.

Everything that shapes the request path is decided here, before the first request, so the
hot path only reads plain attributes.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "{{ cookiecutter.package_name | upper }}_"

LogLevel = Literal["debug", "info", "warning", "error", "critical"]


class SettingsError(ValueError):
    """A setting has a value the service cannot start with; the message names the variable."""


class Settings(BaseSettings):
    """What an operator may change without touching code."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    host: str = Field(default="127.0.0.1", min_length=1, description="Address to bind.")
    port: int = Field(default=8000, ge=0, le=65535, description="TCP port (0 picks a free one).")
    log_level: LogLevel = Field(default="info", description="Lowest level written to stderr.")
    max_body_bytes: int = Field(
        default=4 * 1024 * 1024,
        gt=0,
        description="Largest request body accepted; bigger ones get 413 without being read.",
    )
    body_timeout: float = Field(
        default=30.0,
        gt=0,
        allow_inf_nan=False,
        description="Seconds a client has to send its whole request body; then 408.",
    )
    json_response: bool = Field(
        default=False,
        description="Answer with plain JSON instead of SSE (progress notifications need SSE).",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_case_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value


def load_settings(**overrides: Any) -> Settings:
    """Read the environment (and explicit overrides, e.g. CLI flags) or fail in one line.

    Raises:
        SettingsError: naming the offending variable, its value and what is wrong with it.
    """
    unknown = sorted(
        name
        for name in os.environ
        if name.upper().startswith(ENV_PREFIX)
        and name[len(ENV_PREFIX) :].lower() not in Settings.model_fields
    )
    if unknown:
        known = ", ".join(ENV_PREFIX + field.upper() for field in Settings.model_fields)
        raise SettingsError(f"unknown setting {', '.join(unknown)} (known: {known})")
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_describe(exc, overrides)) from None


def _describe(exc: ValidationError, overrides: dict[str, Any]) -> str:
    problems = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "?"
        source = (
            f"--{field.replace('_', '-')}" if field in overrides else ENV_PREFIX + field.upper()
        )
        problems.append(f"{source}={error.get('input')!r}: {error['msg']}")
    return "invalid setting " + "; ".join(problems)
