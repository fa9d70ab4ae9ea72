"""What every entry point does first, in one place: the settings read, or one line saying what is
wrong with them; logging set up; traces and metrics started in the process that serves; and
once the app is built, the start-up heap frozen."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from starlette.applications import Starlette

from ..about import SERVER_NAME
from ..auth import AuthSettings
from ..sdk import QUIET_LOGGERS
from ..settings import ServiceSettings, SettingsError
from ..tracing import start_tracing, wanted
from .heap import freeze_startup_heap
from .logs import configure_logging

if TYPE_CHECKING:
    from .service import Service

SettingsT = TypeVar("SettingsT", bound=AuthSettings)


class StartupFailed(Exception):
    """The service cannot start; the message is the one line to show, naming what to fix."""


def start(service: Service[SettingsT], **overrides: object) -> SettingsT:
    """The settings (``overrides``, e.g. command-line flags, on top), with logging set up.

    Raises:
        StartupFailed: a setting has a value the service cannot start with.
    """
    try:
        settings = service.read_settings(**overrides)
        wanted()  # the OpenTelemetry variables, checked before anything starts
        wanted(signal="metrics")
    except SettingsError as exc:
        raise StartupFailed(f"{SERVER_NAME}: error: {exc}") from None
    start_logging(settings)
    return settings


def start_logging(settings: ServiceSettings) -> None:
    """Logging as the settings say, for this process (a worker sets it up again)."""
    configure_logging(settings.log_level, settings.log_format, quiet=QUIET_LOGGERS)


def started_app(service: Service[SettingsT], settings: SettingsT) -> Starlette:
    """The HTTP app this process serves, its traces started; what start-up made is frozen once
    it is built.

    Raises:
        StartupFailed: the settings are not for an HTTP app (``TRANSPORT=stdio``), or the
            OpenTelemetry variables ask for what the service does not have.
    """
    try:
        start_tracing(settings)
        app = service.create_app(settings)
    except SettingsError as exc:
        raise StartupFailed(f"{SERVER_NAME}: error: {exc}") from None
    freeze_startup_heap()
    return app
