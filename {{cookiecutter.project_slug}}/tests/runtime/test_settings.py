"""Settings: defaults, the environment, explicit overrides and one-line errors.

An operator configures the service through variables named with its prefix (``ENV_PREFIX``)
and CLI flags. A wrong value must stop the service before it binds a port, with
one line that names the variable to fix (or the flag, when the value came from a flag), not
a pydantic traceback.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from dotenv import dotenv_values
from starlette.types import ASGIApp

import {{ cookiecutter.package_name }} as package
from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.runtime import settings as settings_module
from {{ cookiecutter.package_name }}.runtime.settings import ENV_PREFIX
from {{ cookiecutter.package_name }}.settings import (
    Settings,
    SettingsError,
    read_settings,
)

from ..support import credentials
from ..support.servers import RunningServer, assert_serves_mcp

pytestmark = pytest.mark.quick  # the quick loop (README, Development)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the developer's shell exports must not leak into these tests."""
    for name in list(os.environ):
        if name.upper().startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    # The settings that check clients, if any, are required; give the tests' own, as a
    # deployment would.
    for name, value in credentials.environment().items():
        monkeypatch.setenv(ENV_PREFIX + name, value)


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def test_env_prefix_is_the_package_name() -> None:
    assert package.__name__.upper() + "_" == ENV_PREFIX


def test_defaults() -> None:
    loaded = read_settings()
    assert loaded.host == "127.0.0.1"
    assert loaded.port == 8000
    assert loaded.log_level == "info"
    assert loaded.max_body_bytes == 4 * 1024 * 1024
    assert loaded.body_timeout == 30
    assert loaded.json_response == "auto"


def test_settings_are_frozen() -> None:
    """Settings are read once at startup; nothing may change them behind the request path."""
    loaded = read_settings()
    with pytest.raises(ValueError, match="frozen"):
        loaded.port = 1


@pytest.mark.parametrize(
    ("field", "raw", "expected"),
    [
        ("host", "::1", "::1"),
        ("port", "0", 0),
        ("json_response", "true", True),
        ("json_response", "false", False),
        ("json_response", "0", False),
        ("json_response", " Auto ", "auto"),
    ],
)
def test_environment_overrides_the_default(
    monkeypatch: pytest.MonkeyPatch, field: str, raw: str, expected: object
) -> None:
    monkeypatch.setenv(env_name(field), raw)
    assert getattr(read_settings(), field) == expected


def test_explicit_overrides_beat_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A CLI flag is the more specific instruction, so it wins over the environment."""
    monkeypatch.setenv(env_name("port"), "9001")
    monkeypatch.setenv(env_name("log_level"), "debug")
    loaded = read_settings(port=9002)
    assert loaded.port == 9002
    assert loaded.log_level == "debug"


def test_an_invalid_environment_value_is_ignored_when_a_flag_overrides_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(env_name("port"), "abc")
    assert read_settings(port=9003).port == 9003


@pytest.mark.parametrize(
    ("field", "raw"),
    [
        ("port", "70000"),
        ("port", "-1"),
        ("port", "abc"),
        ("host", ""),
        ("body_timeout", "0"),
        ("body_timeout", "inf"),
        ("max_body_bytes", "-1"),
        ("max_body_bytes", "0"),
        ("log_level", "loud"),
        ("json_response", "maybe"),
    ],
)
def test_an_invalid_environment_value_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, field: str, raw: str
) -> None:
    monkeypatch.setenv(env_name(field), raw)
    with pytest.raises(SettingsError) as caught:
        read_settings()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"invalid setting {env_name(field)}={raw!r}: "), message
    assert message.count(env_name(field)) == 1, message  # one problem, said once
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


@pytest.mark.parametrize(
    ("field", "value", "flag"),
    [
        ("port", 70000, "--port"),
        ("log_level", "loud", "--log-level"),
        ("host", "", "--host"),
    ],
)
def test_an_invalid_override_names_the_flag(field: str, value: object, flag: str) -> None:
    """The value came from a flag, so the message must point at the flag, not the variable."""
    with pytest.raises(SettingsError) as caught:
        read_settings(**{field: value})
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"invalid setting {flag}={value!r}: "), message
    assert ENV_PREFIX not in message


def test_every_invalid_value_is_named_on_the_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(env_name("port"), "abc")
    monkeypatch.setenv(env_name("log_level"), "loud")
    with pytest.raises(SettingsError) as caught:
        read_settings()
    message = str(caught.value)
    assert "\n" not in message
    assert env_name("port") in message
    assert env_name("log_level") in message


def test_unknown_keyword_is_rejected() -> None:
    """A misspelt override in code must fail loudly, not be silently dropped."""
    with pytest.raises(SettingsError, match="prot"):
        read_settings(prot=9000)


@pytest.fixture
def env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``.env`` that ``read_settings`` reads, as the service reads its working directory's."""
    path = tmp_path / ".env"
    monkeypatch.setattr(settings_module, "ENV_FILE", path)
    return path


def test_env_file_supplies_what_the_environment_does_not_set(
    env_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file.write_text(
        f"# a comment\n{env_name('port')}=9001\n{env_name('log_level')}=DEBUG\n"
        "OTHER_PROGRAM_SETTING=left alone\n",
        encoding="utf-8",
    )
    monkeypatch.setenv(env_name("log_level"), "warning")
    loaded = read_settings()
    assert (loaded.port, loaded.log_level) == (9001, "warning")


def test_a_bad_line_in_env_file_is_named_with_the_file(env_file: Path) -> None:
    env_file.write_text(f"{ENV_PREFIX}NO_SUCH_SETTING=1\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=rf"^unknown setting {ENV_PREFIX}NO_SUCH_SETTING \(in "):
        read_settings()
    env_file.write_text(f"{env_name('port')}=abc\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=rf"^invalid setting {env_name('port')} \(in \.env\)="):
        read_settings()


EXAMPLE = Path(__file__).parents[2] / ".env.example"
# A setting listed but commented out: ``# PREFIX_NAME=default``.
COMMENTED_OUT = re.compile(rf"^# ({ENV_PREFIX}[A-Z0-9_]+)=(.*)$", re.MULTILINE)


def test_env_example_lists_every_setting_with_its_default() -> None:
    """``.env.example`` is where a newcomer learns the settings: none missing, none stale, and
    every value that is filled in is the default, commented out or not."""
    lines = dotenv_values(EXAMPLE)
    commented = dict(COMMENTED_OUT.findall(EXAMPLE.read_text("utf-8")))
    assert set(lines).isdisjoint(commented), "a setting both set and commented out"
    listed = {
        name.removeprefix(ENV_PREFIX).lower(): value
        for name, value in {**lines, **commented}.items()
    }
    assert sorted(listed) == sorted(Settings.model_fields)
    defaults = Settings.model_construct()
    for field, value in listed.items():
        if value:  # required settings are listed empty
            parsed = Settings.model_validate({**_required(), field: value}).model_dump()[field]
            assert parsed == getattr(defaults, field), field


def test_env_example_leaves_the_address_to_where_the_service_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A container started with ``--env-file`` and an .env copied from ``.env.example`` listens
    where its image says, 0.0.0.0:8000, which a published port reaches: the file's lines win over
    the image's environment, and it has no address line that is not commented out."""
    monkeypatch.setenv(env_name("host"), "0.0.0.0")  # the image's environment
    monkeypatch.setenv(env_name("port"), "8000")
    required = {ENV_PREFIX + name for name in credentials.environment()}
    for name, value in dotenv_values(EXAMPLE).items():
        if name not in required:  # those are for whoever copies the file to fill in
            monkeypatch.setenv(name, value or "")
    loaded = read_settings()
    assert (loaded.host, loaded.port) == ("0.0.0.0", 8000)


def _required() -> dict[str, str]:
    """Values for the settings that have no default, so that one setting can be checked."""
    return {name.lower(): value for name, value in credentials.environment().items()}


# -- request-state keys: a secret, checked at startup --------------------------------------------


def test_request_state_keys_are_a_comma_separated_list_kept_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The order matters: the first key seals, every key unseals (rotation)."""
    assert read_settings().request_state_keys == ()
    first, second = secrets.token_hex(32), secrets.token_hex(32)
    monkeypatch.setenv(env_name("request_state_keys"), f"{first}, {second}")
    loaded = read_settings()
    assert [key.get_secret_value() for key in loaded.request_state_keys] == [first, second]
    # Secrets: however the settings are shown, the keys are not.
    assert first not in repr(loaded)
    assert first not in str(loaded)


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        pytest.param(
            lambda good: f"{good},{'x' * 31}",
            'every key needs at least 32 characters; generate one with: python -c "import '
            'secrets; print(secrets.token_hex(32))"',
            id="too-short",
        ),
        pytest.param(
            lambda good: f"{good},{good}", "a key is listed twice; list each key once", id="twice"
        ),
    ],
)
def test_a_bad_request_state_key_is_one_line_that_shows_no_key(
    monkeypatch: pytest.MonkeyPatch, keys: Callable[[str], str], problem: str
) -> None:
    good = secrets.token_hex(32)
    monkeypatch.setenv(env_name("request_state_keys"), keys(good))
    with pytest.raises(SettingsError) as caught:
        read_settings()
    message = str(caught.value)
    assert message == f"invalid setting {env_name('request_state_keys')}: Value error, {problem}"
    assert good not in message
    assert "x" * 31 not in message


def test_a_service_with_request_state_keys_serves_on_either_sdk_line(
    monkeypatch: pytest.MonkeyPatch, serve: Callable[[ASGIApp], RunningServer]
) -> None:
    """One configuration for both lines: the 1.x line accepts the keys and seals nothing."""
    keys = f"{secrets.token_hex(32)},{secrets.token_hex(32)}"
    monkeypatch.setenv(env_name("request_state_keys"), keys)
    assert_serves_mcp(serve(create_app(read_settings())).base_url)
