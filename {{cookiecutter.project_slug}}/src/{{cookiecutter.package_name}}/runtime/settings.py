"""The template's settings, read once at startup from environment variables and ``.env``.

Each setting ``x`` is read from the variable ``ENV_PREFIX + "X"``, that is
``{{ cookiecutter.package_name | upper }}_X``, in the environment or else in ``.env``.

Everything that shapes the request path is decided here, before the first request, so the
hot path only reads plain attributes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeVar
{% if cookiecutter.mcp_sdk == "2.x" %}
from urllib.parse import urlsplit
{% endif %}

from dotenv import dotenv_values
from pydantic import (
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "{{ cookiecutter.package_name | upper }}_"
# Read at startup, from the working directory, under the environment (``load_settings``).
ENV_FILE = Path(".env")
_IN_FILE = " (in .env)"

LogLevel = Literal["debug", "info", "warning", "error", "critical"]
LogFormat = Literal["text", "json"]
Transport = Literal["http", "stdio"]
# JSON_RESPONSE: auto (JSON, or a stream where a call needs one), true (JSON), false (streams).
JsonResponse = Literal["auto"] | bool

# Lists come from the environment as ``a,b,c``: NoDecode stops pydantic-settings from expecting
# JSON, and ``split_commas`` does the splitting.
CommaList = Annotated[tuple[str, ...], NoDecode]
# The same for secrets: SecretStr keeps them out of every repr, so no log line can show one.
SecretList = Annotated[tuple[SecretStr, ...], NoDecode]

# What the SDK asks of a key that seals request state: 32 bytes of secret randomness. A key of
# 32 characters has at least 32 bytes; the hint makes one of 64 hex digits (32 random bytes).
MIN_REQUEST_STATE_KEY_LENGTH = 32
NEW_KEY_HINT = 'generate one with: python -c "import secrets; print(secrets.token_hex(32))"'

# How pydantic reads a boolean from a string (``JSON_RESPONSE``).
_BOOLEAN = TypeAdapter(bool)

# What the SDK's host check accepts: a name or address, optionally ``:port`` or ``:*``.
_HOST = r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::(?:[0-9]{1,5}|\*))?"
# What each list setting must look like, and how to say so when an entry does not.
LIST_FORMS = {
    "allowed_hosts": (re.compile(_HOST), "a host, host:port or host:* (no scheme or path)"),
    "allowed_origins": (re.compile(r"https?://" + _HOST), "an origin like https://host[:port]"),
}


class SettingsError(ValueError):
    """A setting has a value the service cannot start with; the message names the variable."""


class ServiceSettings(BaseSettings):
    """What an operator may change without touching code: the template's settings.

    The service's ``Settings`` (``settings.py``, a level up) extends this class, through the
    chosen authentication's settings (``auth.py``).
    """

    # Fields whose values an error message must never repeat.
{% if cookiecutter.mcp_sdk == "2.x" %}
    # The request-state keys, and a broker URL's password.
    SECRET_FIELDS: ClassVar[frozenset[str]] = frozenset({"request_state_keys", "subscriptions"})
{% else %}
    SECRET_FIELDS: ClassVar[frozenset[str]] = frozenset({"request_state_keys"})
{% endif %}

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    # First, so that the validators below can tell whether the HTTP-only settings matter.
    transport: Transport = Field(
        default="http",
        description="http: serve /mcp over streamable HTTP; stdio: one client on stdin/stdout.",
    )
    host: str = Field(default="127.0.0.1", min_length=1, description="Address to bind.")
    port: int = Field(default=8000, ge=0, le=65535, description="TCP port (0 picks a free one).")
    log_level: LogLevel = Field(default="info", description="Lowest level written to stderr.")
    log_format: LogFormat = Field(
        default="text",
        description="text: readable lines; json: one JSON object per line, for log shippers.",
    )
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
    shutdown_grace: float = Field(
        default=25.0,
        ge=0,
        allow_inf_nan=False,
        description="Seconds requests in flight get to finish after SIGTERM before they are cut.",
    )
    json_response: JsonResponse = Field(
        default="auto",
        description=(
            "auto: an SSE stream for a call that can get messages before its answer (it asked "
            "for progress), plain JSON for every other request; true: always JSON (no progress "
            "notifications); false: always an SSE stream."
        ),
    )
    allowed_hosts: CommaList = Field(
        default=(),
        description="Host headers accepted besides the bind address's: name, name:port or name:*.",
    )
    allowed_origins: CommaList = Field(
        default=(),
        description="Origin headers accepted besides the bind address's, e.g. https://name.",
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        min_length=1,
        description="Proxies whose X-Forwarded-For/-Proto are trusted: IPs, networks or *.",
    )
    limit_concurrency: int = Field(
        default=1000,
        gt=0,
        description="HTTP requests in flight per process beyond which the service answers 503.",
    )
    header_timeout: float = Field(
        default=10.0,
        gt=0,
        allow_inf_nan=False,
        description="Seconds a connection has to send a complete request head; then it is closed.",
    )
    keep_alive_timeout: float = Field(
        default=5.0,
        gt=0,
        allow_inf_nan=False,
        description="Seconds a connection may stay idle between requests before it is closed.",
    )
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Server processes sharing the port, each with its own limits and drain.",
    )
    max_header_bytes: int = Field(
        default=16 * 1024,
        ge=1024,
        description="Largest total size of a request's headers; larger requests get 431.",
    )
    metrics: bool = Field(
        default=True,
        description="Serve Prometheus metrics at GET /metrics (not behind MCP auth).",
    )
    trace_exception_text: bool = Field(
        default=False,
        description=(
            "Let exported spans carry error messages and exception text (status descriptions, "
            "exception events); unset, they carry the error's type and code only. Traces are on "
            "when OTEL_EXPORTER_OTLP_ENDPOINT is set (docs/operating.md)."
        ),
    )
    request_state_keys: SecretList = Field(
        default=(),
        description=(
            "Keys that seal the state a client carries between the rounds of a call that asks "
            "it for input (MCP 2026-07-28, the 2.x line), comma-separated, 32+ characters: the "
            "first seals, every one unseals. Unset, each process has a key of its own (the "
            "workers of --workers share one); replicas need the same keys. A secret. The 1.x "
            "line has no such calls and seals nothing with them."
        ),
    )

{% if cookiecutter.mcp_sdk == "2.x" %}
    # A URL may carry a password: kept as a secret, and never repeated in an error.
    subscriptions: Literal["auto", "off"] | SecretStr = Field(
        default="auto",
        description=(
            "subscriptions/listen: auto (in-process; refused under --workers), off, or the "
            "redis:// or rediss:// URL of a broker that carries events between processes."
        ),
    )

    @field_validator("subscriptions", mode="before")
    @classmethod
    def _lower_case_mode(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in ("auto", "off"):
            return value.strip().lower()
        return value

    @field_validator("subscriptions")
    @classmethod
    def _check_broker_url(cls, value: str | SecretStr) -> str | SecretStr:
        """Let through ``redis[s]://[[user]:password@]host[:port][/db]`` and nothing else."""
        if not isinstance(value, SecretStr):
            return value
        try:
            url = urlsplit(value.get_secret_value())
            url.port  # noqa: B018 (raises ValueError for a port that is not a number)
        except ValueError:
            raise ValueError("not auto, off or a valid URL") from None
        if url.scheme not in ("redis", "rediss"):
            raise ValueError("not auto, off or a redis:// or rediss:// URL")
        if not url.hostname:
            raise ValueError("the broker URL names no host")
        if url.path.strip("/") and not url.path.strip("/").isdigit():
            raise ValueError("the broker URL's path must be empty or a database number, e.g. /0")
        if url.query or url.fragment:
            raise ValueError("the broker URL takes no ?query or #fragment")
        return value

{% endif %}
    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_case_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("json_response", mode="before")
    @classmethod
    def _auto_or_boolean(cls, value: object) -> object:
        """``auto``, or a boolean as pydantic reads one (``true``, ``0``...), in any case;
        anything else in one message rather than one per member of the union."""
        if not isinstance(value, str):
            return value
        word = value.strip().lower()
        if word == "auto":
            return word
        try:
            return _BOOLEAN.validate_python(word)
        except ValidationError:
            raise ValueError("not auto, true or false") from None

    @field_validator("allowed_hosts", "allowed_origins", "request_state_keys", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        return split_commas(value)

    @field_validator("allowed_hosts", "allowed_origins")
    @classmethod
    def _check_list_entries(cls, entries: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        pattern, form = LIST_FORMS[str(info.field_name)]
        for entry in entries:
            if not pattern.fullmatch(entry):
                raise ValueError(f"{entry!r} is not {form}")
        return entries

    @field_validator("request_state_keys")
    @classmethod
    def _check_keys(cls, keys: tuple[SecretStr, ...]) -> tuple[SecretStr, ...]:
        # Messages say what is wrong, never which key: the error line must not leak one.
        values = [key.get_secret_value() for key in keys]
        if any(len(value) < MIN_REQUEST_STATE_KEY_LENGTH for value in values):
            raise ValueError(
                f"every key needs at least {MIN_REQUEST_STATE_KEY_LENGTH} characters; "
                + NEW_KEY_HINT
            )
        if len(set(values)) < len(values):
            raise ValueError("a key is listed twice; list each key once")
        return keys


def split_commas(value: object) -> object:
    """A ``CommaList`` from the environment: ``"a, b,c"`` becomes ``("a", "b", "c")``."""
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return value


SettingsType = TypeVar("SettingsType", bound="ServiceSettings")


def load_settings(cls: type[SettingsType], **overrides: Any) -> SettingsType:
    """Read ``cls`` from the environment and ``.env`` (and explicit overrides, e.g. CLI flags)
    or fail in one line.

    ``.env`` in the working directory, if there is one, supplies the variables with this
    service's prefix that the environment does not set (the environment wins); its other
    lines are left alone, for the other programs that read it.

    Raises:
        SettingsError: naming the offending variable, its value and what is wrong with it.
    """
    from_file = {
        name: value
        for name, value in read_env_file().items()
        if name.upper().startswith(ENV_PREFIX) and name not in os.environ
    }
    unknown = sorted(
        name
        for name in [*os.environ, *from_file]
        if name.upper().startswith(ENV_PREFIX)
        and name[len(ENV_PREFIX) :].lower() not in cls.model_fields
    )
    if unknown:
        known = ", ".join(ENV_PREFIX + field.upper() for field in cls.model_fields)
        described = ", ".join(f"{name}{_IN_FILE * (name in from_file)}" for name in unknown)
        raise SettingsError(f"unknown setting {described} (known: {known})")
    from_file_fields = {name[len(ENV_PREFIX) :].lower(): value for name, value in from_file.items()}
    try:
        return cls(**{**from_file_fields, **overrides})
    except ValidationError as exc:
        raise SettingsError(
            _describe(exc, overrides, from_file_fields, cls.SECRET_FIELDS)
        ) from None


def read_env_file() -> dict[str, str]:
    """The variables ``ENV_FILE`` sets, if it exists: ``KEY=value`` lines (``export`` and
    quotes are accepted too)."""
    if not ENV_FILE.is_file():
        return {}
    return {name: value for name, value in dotenv_values(ENV_FILE).items() if value is not None}


def _describe(
    exc: ValidationError,
    overrides: dict[str, Any],
    from_file: dict[str, Any],
    secrets: frozenset[str],
) -> str:
    problems = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "?"
        if field in overrides:
            source = f"--{field.replace('_', '-')}"
        else:
            source = ENV_PREFIX + field.upper() + (_IN_FILE if field in from_file else "")
        if field in secrets:
            # Never echo a secret's value, not even a wrong one: error lines end up in logs.
            problems.append(f"{source}: {error['msg']}")
        else:
            problems.append(f"{source}={error.get('input')!r}: {error['msg']}")
    return "invalid setting " + "; ".join(problems)
