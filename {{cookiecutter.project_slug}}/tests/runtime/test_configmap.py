"""The Kubernetes ConfigMap against the settings: what every pod starts with.

Written by hand, so held to the fields here: a key that is no setting, or a value the service
would refuse, fails. The hook removes this file from a bake without Kubernetes manifests.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.runtime.settings import ENV_PREFIX
from {{ cookiecutter.package_name }}.settings import Settings

from ..support import credentials

pytestmark = pytest.mark.quick  # the quick loop (README, Development)

CONFIGMAP = Path(__file__).resolve().parents[2] / "deploy" / "k8s" / "configmap.yaml"


def test_the_configmap_holds_settings_the_service_accepts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every key is a setting, and the pods' values together are settings the service starts
    with (the Secret's keys aside)."""
    for name in list(os.environ):  # only the ConfigMap counts
        if name.upper().startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    data = CONFIGMAP.read_text("utf-8").split("\ndata:\n", 1)[1]
    lines = [line for line in data.splitlines() if line.strip() and line.lstrip()[0] != "#"]
    values = dict(re.findall(r'^  ([A-Z][A-Z0-9_]*): "([^"]*)"$', data, flags=re.MULTILINE))
    assert len(values) == len(lines), f'lines that are not `NAME: "value"`: {lines}'
    fields = {name.removeprefix(ENV_PREFIX).lower(): value for name, value in values.items()}
    assert all(name.startswith(ENV_PREFIX) for name in values), sorted(values)
    assert sorted(set(fields) - set(Settings.model_fields)) == []
    required = {name.lower(): value for name, value in credentials.environment().items()}
    Settings.model_validate({**required, **fields})
