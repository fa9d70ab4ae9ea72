"""Fast tier: the baked Kubernetes manifests are valid, and agree with the service they run.

Every option combination that has manifests (both SDK lines, each auth option) is baked, and
each manifest is validated against the Kubernetes API schemas of ``KUBERNETES_VERSION``
(``kubernetes-validate``, whose wheel carries the schemas, so no network is needed), strictly:
an unknown or misspelt field fails. Then what the schemas cannot know is checked against the
bake itself: probes on the service's ``/healthz`` at the port the Dockerfile sets, a grace
period that outlasts the preStop pause plus the service's drain, ConfigMap keys that are the
service's own settings (read from the baked ``settings.py``), the request-state keys from a
Secret on every bake, the image's non-root uid, and one place that names the image.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from _support import Bake, iter_files, read_text_or_none

# The Kubernetes release whose API the manifests are written for and checked against.
KUBERNETES_VERSION = "1.31.0"
PREFIX = "MY_MCP_SERVER_"
MANIFESTS = ("configmap.yaml", "deployment.yaml", "service.yaml", "hpa.yaml", "pdb.yaml")
APPLY = "kubectl apply -k deploy/k8s"


@dataclass(frozen=True)
class K8sBake:
    """A bake with manifests: its answers, directory and parsed manifests by file name."""

    sdk: str
    auth: str
    path: Path
    docs: dict[str, dict[str, Any]]

    @property
    def deployment(self) -> dict[str, Any]:
        """The Deployment."""
        return self.docs["deployment.yaml"]

    @property
    def pod(self) -> dict[str, Any]:
        """The Deployment's pod spec."""
        spec: dict[str, Any] = self.deployment["spec"]["template"]["spec"]
        return spec

    @property
    def container(self) -> dict[str, Any]:
        """The pod's one container."""
        (container,) = self.pod["containers"]
        return dict(container)

    @property
    def config(self) -> dict[str, str]:
        """The ConfigMap's data."""
        return dict(self.docs["configmap.yaml"]["data"])


COMBINATIONS = [(sdk, auth) for sdk in ("2.x", "1.x") for auth in ("none", "bearer", "oauth")]


@pytest.fixture(
    scope="module", params=COMBINATIONS, ids=[f"{sdk}-{auth}" for sdk, auth in COMBINATIONS]
)
def k8s(
    request: pytest.FixtureRequest, bake: Bake, tmp_path_factory: pytest.TempPathFactory
) -> K8sBake:
    """Bake one combination once, and parse its manifests."""
    sdk, auth = request.param
    path = bake(tmp_path_factory.mktemp(f"k8s-{sdk}-{auth}"), mcp_sdk=sdk, auth=auth)
    directory = path / "deploy" / "k8s"
    docs = {file.name: yaml.safe_load(file.read_text("utf-8")) for file in directory.glob("*.yaml")}
    return K8sBake(sdk, auth, path, docs)


def settings_defaults(path: Path) -> dict[str, Any]:
    """Read the baked settings fields and their literal defaults from their source.

    The fields are spread over the class chain ``Settings(AuthSettings(ServiceSettings))``: the
    team's ``settings.py``, the chosen auth module and the template's base settings.
    """
    package = path / "src" / "my_mcp_server"
    sources = [package / "runtime" / "settings.py", package / "runtime" / "auth.py"]
    sources.append(package / "settings.py")
    fields: dict[str, Any] = {}
    for source in sources:
        for settings in ast.parse(source.read_text("utf-8")).body:
            if not isinstance(settings, ast.ClassDef) or not settings.name.endswith("Settings"):
                continue
            for node in settings.body:
                if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                    fields[node.target.id] = field_default(node.value)
    for name in ("model_config", "SECRET_FIELDS"):
        fields.pop(name, None)
    return fields


def field_default(value: ast.expr | None) -> object:
    """Return a ``Field(default=...)`` literal, or None for anything computed."""
    if isinstance(value, ast.Call):
        for keyword in value.keywords:
            if keyword.arg == "default":
                try:
                    return ast.literal_eval(keyword.value)
                except ValueError:
                    return None  # an expression such as 4 * 1024 * 1024
    return None


def dockerfile_port(path: Path) -> int:
    """Return the port the image's service listens on (its ENV), which EXPOSE must repeat."""
    dockerfile = (path / "Dockerfile").read_text("utf-8")
    (port,) = re.findall(rf"\b{PREFIX}PORT=(\d+)", dockerfile)
    assert f"\nEXPOSE {port}\n" in dockerfile
    return int(port)


def test_the_manifests_match_the_kubernetes_schemas(k8s: K8sBake) -> None:
    """Each manifest is one valid object of the stated Kubernetes version, strictly."""
    assert sorted(k8s.docs) == sorted([*MANIFESTS, "kustomization.yaml"])
    for name in MANIFESTS:
        try:
            kubernetes_validate.validate(k8s.docs[name], KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{name}: {error}", pytrace=False)


def test_the_schema_check_can_fail(k8s: K8sBake) -> None:
    """A misspelt field is refused, so the check above is not vacuous."""
    broken = yaml.safe_load(yaml.safe_dump(k8s.deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["containerPorts"] = []
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_kustomization_applies_every_manifest_and_names_the_image_once(k8s: K8sBake) -> None:
    """One image name, replaced in one place; every manifest is a resource of it."""
    kustomization = k8s.docs["kustomization.yaml"]
    assert sorted(kustomization["resources"]) == sorted(MANIFESTS)
    (image,) = kustomization["images"]
    assert k8s.container["image"] == image["name"] == "my-mcp-server"
    assert image["newName"].endswith("/my-mcp-server")
    assert image["newTag"]
    mentions = [
        name
        for name in MANIFESTS
        if image["newName"] in (k8s.path / "deploy/k8s" / name).read_text()
    ]
    assert mentions == [], f"the registry name must be in kustomization.yaml only: {mentions}"


def test_probes_and_ports_are_the_services_own(k8s: K8sBake) -> None:
    """Readiness and liveness ask /healthz at the port the image and the settings say."""
    port = dockerfile_port(k8s.path)
    (declared,) = k8s.container["ports"]
    assert declared == {"name": "http", "containerPort": port}
    assert int(k8s.config[f"{PREFIX}PORT"]) == port == settings_defaults(k8s.path)["port"]
    app = (k8s.path / "src" / "my_mcp_server" / "runtime" / "http" / "app.py").read_text("utf-8")
    assert '"/healthz"' in app
    for probe in ("readinessProbe", "livenessProbe"):
        assert k8s.container[probe]["httpGet"] == {"path": "/healthz", "port": "http"}, probe
    (service_port,) = k8s.docs["service.yaml"]["spec"]["ports"]
    assert service_port["targetPort"] == "http"


def test_the_grace_period_outlasts_the_pause_and_the_drain(k8s: K8sBake) -> None:
    """Kubernetes kills the pod only after preStop's pause plus the service's SHUTDOWN_GRACE."""
    command = k8s.container["lifecycle"]["preStop"]["exec"]["command"]
    (pause,) = re.findall(r"time\.sleep\((\d+(?:\.\d+)?)\)", " ".join(command))
    assert command[0] == "python3"
    grace = float(
        k8s.config.get(f"{PREFIX}SHUTDOWN_GRACE", settings_defaults(k8s.path)["shutdown_grace"])
    )
    assert grace == settings_defaults(k8s.path)["shutdown_grace"]
    assert k8s.pod["terminationGracePeriodSeconds"] > float(pause) + grace


def test_settings_come_from_the_configmap_and_secrets_from_a_secret(k8s: K8sBake) -> None:
    """Every ConfigMap key is a setting of this bake; bearer tokens only come from a Secret."""
    fields = settings_defaults(k8s.path)
    unknown = [key for key in k8s.config if key.removeprefix(PREFIX).lower() not in fields]
    assert all(key.startswith(PREFIX) for key in k8s.config), list(k8s.config)
    assert unknown == [], f"not settings of this bake: {unknown}"
    assert k8s.config[f"{PREFIX}HOST"] == "0.0.0.0"
    assert "my-mcp-server" in k8s.config[f"{PREFIX}ALLOWED_HOSTS"].split(",")
    sources = k8s.container["envFrom"]
    assert {"configMapRef": {"name": "my-mcp-server"}} in sources
    secret = {"secretRef": {"name": "my-mcp-server"}}
    assert (secret in sources) == (k8s.auth == "bearer")
    assert f"{PREFIX}AUTH_TOKENS" not in k8s.config
    assert f"{PREFIX}REQUEST_STATE_KEYS" not in k8s.config


def test_every_pod_gets_the_request_state_keys_from_the_secret_or_does_not_start(
    k8s: K8sBake,
) -> None:
    """On every bake: replicas must share the keys, so a pod without them must not start."""
    (variable,) = k8s.container["env"]
    name = f"{PREFIX}REQUEST_STATE_KEYS"
    assert variable == {
        "name": name,
        "valueFrom": {"secretKeyRef": {"name": "my-mcp-server", "key": name}},
    }
    assert name.removeprefix(PREFIX).lower() in settings_defaults(k8s.path)
    if k8s.auth == "oauth":
        required = ("AUTH_ISSUER", "AUTH_JWKS_URL", "AUTH_RESOURCE_URL")
        assert all(f"{PREFIX}{name}" in k8s.config for name in required)


def test_the_pod_runs_locked_down_as_the_images_user(k8s: K8sBake) -> None:
    """Non-root with the Dockerfile's numeric uid, read-only, no privileges, RuntimeDefault."""
    dockerfile = (k8s.path / "Dockerfile").read_text("utf-8")
    (uid,) = re.findall(r"^USER (\d+):\d+$", dockerfile, flags=re.MULTILINE)
    pod_security = k8s.pod["securityContext"]
    assert pod_security["runAsNonRoot"] is True
    assert pod_security["runAsUser"] == int(uid)
    assert pod_security["seccompProfile"] == {"type": "RuntimeDefault"}
    security = k8s.container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    resources = k8s.container["resources"]
    assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}


def test_replicas_autoscaling_and_disruptions_fit_together(k8s: K8sBake) -> None:
    """At least two pods, the autoscaler's minimum, and one allowed down at a time."""
    labels = k8s.deployment["spec"]["template"]["metadata"]["labels"]
    hpa, pdb, service = (k8s.docs[name] for name in ("hpa.yaml", "pdb.yaml", "service.yaml"))
    assert k8s.deployment["spec"]["replicas"] == hpa["spec"]["minReplicas"] >= 2
    assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == k8s.deployment["metadata"]["name"]
    assert k8s.deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert pdb["spec"]["maxUnavailable"] == 1
    for selector in (
        k8s.deployment["spec"]["selector"]["matchLabels"],
        pdb["spec"]["selector"]["matchLabels"],
        service["spec"]["selector"],
    ):
        assert selector.items() <= labels.items()


def test_the_docs_apply_them_as_the_tests_read_them(k8s: K8sBake) -> None:
    """docs/kubernetes.md makes the Secret with every key the Deployment reads, then applies."""
    page = (k8s.path / "docs" / "kubernetes.md").read_text("utf-8")
    assert APPLY in page
    create = "kubectl create secret generic my-mcp-server \\\n"
    assert page.count(create) == 1
    command = page.split(create, 1)[1].split(f"\n{APPLY}\n", 1)[0]
    assert all(line.endswith(" \\") for line in command.splitlines()[:-1]), command
    literals = re.findall(rf"--from-literal=({PREFIX}\w+)=", command)
    expected = ["REQUEST_STATE_KEYS", *(["AUTH_TOKENS"] if k8s.auth == "bearer" else [])]
    assert literals == [PREFIX + name for name in expected]


def test_without_the_option_there_are_no_manifests(bake: Bake, tmp_path: Path) -> None:
    """kubernetes=no leaves the nginx config and no trace of the manifests, in files or docs."""
    path = bake(tmp_path, kubernetes="no")
    assert (path / "deploy" / "nginx.conf").is_file()
    assert not (path / "deploy" / "k8s").exists()
    assert not (path / "docs" / "kubernetes.md").exists()
    traces = [
        f"{file.relative_to(path)}: {word}"
        for file in iter_files(path)
        if (text := read_text_or_none(file)) is not None
        for word in ("kubectl", "deploy/k8s", "kubernetes.md", "ConfigMap")
        if word in text
    ]
    assert traces == []
