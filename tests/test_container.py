"""Slow tier: build each SDK line's image on a real Docker engine, run it, stop it.

No image registry is reachable from CI, so the official ``python:3.12-slim`` cannot be pulled.
The tests build a stand-in base instead: ``debootstrap --variant=minbase`` of the Debian suite
this machine's apt uses, with python3, its venv module and pip, imported with ``docker import``.
If this machine reaches PyPI through a TLS-intercepting proxy, the stand-in carries the
machine's CA bundle and points ``SSL_CERT_FILE``/``PIP_CERT`` at it, so the generated Dockerfile
stays as it would be anywhere. The stand-in is tagged with a hash of its recipe and reused while
that tag exists, so only the first run pays for debootstrap.

Each SDK line's bake is built with the ``docker build`` command of its ``docs/container.md``
(plus ``--network host`` and ``--build-arg BASE_IMAGE=<stand-in>``), its lock holding one
package back from its newest release so that an image of the lock and an image of the newest
releases differ. The page's quick start runs as written, ``.env`` made its way, on the host's
network rather than with its published port, with the README's curl commands against it; the
other tests run the page's host-network ``docker run`` command on a free loopback port. Every
container is on the host's network or in a network namespace of its own (never on a bridge:
tests talk to loopback only), and is removed afterwards.

Without a Docker engine (or debootstrap, or root) these tests skip and say how to enable them;
under ``CI=true`` they fail instead, since ``.ci/run`` installs and starts the engine. Figures
(image size, build and start-up times, call latency) are recorded as test properties and printed
at the end of the run (``tests/conftest.py``); they are reported, not asserted.
"""

from __future__ import annotations

import fcntl
import hashlib
import http.client
import json
import os
import re
import secrets
import shlex
import shutil
import socket
import statistics
import tempfile
import threading
import time
import tomllib
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import Marker
from packaging.utils import canonicalize_name

from _support import Bake, CommandResult, python_module, run, unavailable

# Each test sees both SDK lines' images; one worker builds them, one after the other, so the
# second build reuses the first one's uv layer and both reuse the stand-in.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("container")]

HOW_TO_ENABLE = (
    "to run them, as root: apt-get install -y docker.io debootstrap, start "
    "`dockerd --bridge=none --iptables=false` in the background, wait for `docker info` "
    "(what .ci/run does)"
)
PREFIX = "MY_MCP_SERVER_"
PROTOCOL = "2025-06-18"

STANDIN_PACKAGES = ("python3", "python3-venv", "python3-pip", "ca-certificates")
STANDIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
STANDIN_CA = "/etc/ssl/certs/ca-certificates.crt"
# Bump when the way the stand-in is made changes, so a cached one is not reused.
STANDIN_RECIPE_VERSION = 1

DOCKER_TIMEOUT = 60.0
BUILD_TIMEOUT = 900.0
READY_TIMEOUT = 30.0


def docker(*args: str, timeout: float = DOCKER_TIMEOUT, cwd: Path | None = None) -> CommandResult:
    """Run a docker command, capturing its output."""
    return run(["docker", *args], cwd=cwd or Path.cwd(), timeout=timeout)


def docker_ok(*args: str, timeout: float = DOCKER_TIMEOUT, cwd: Path | None = None) -> str:
    """Run a docker command that must succeed; return its output."""
    result = docker(*args, timeout=timeout, cwd=cwd)
    if result.returncode != 0:
        pytest.fail(result.describe(), pytrace=False)
    return result.output


@pytest.fixture(scope="session")
def engine() -> None:
    """Require a Docker engine that answers, and what building the stand-in needs."""
    if shutil.which("docker") is None:
        unavailable("no docker command", HOW_TO_ENABLE)
    info = docker("info", "--format", "{{.ServerVersion}}", timeout=20)
    if info.returncode != 0:
        unavailable(
            f"no Docker engine answers (`docker info`: {info.output.strip()[-300:]})", HOW_TO_ENABLE
        )
    if shutil.which("debootstrap") is None:
        unavailable("no debootstrap, which builds the stand-in base image", HOW_TO_ENABLE)
    if os.geteuid() != 0:
        unavailable("debootstrap needs root", HOW_TO_ENABLE)


def debian_source() -> tuple[str, str]:
    """Return the Debian mirror and suite this machine's apt is configured with."""
    files = [Path("/etc/apt/sources.list")]
    files += sorted(Path("/etc/apt/sources.list.d").glob("*.list"))
    files += sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))
    for path in files:
        if not path.is_file():
            continue
        text = path.read_text("utf-8", errors="replace")
        # One-line style: deb [options] URI SUITE COMPONENTS...
        for match in re.finditer(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)", text, re.MULTILINE):
            uri, suite = match.groups()
            if uri.rstrip("/").endswith("/debian") and "-" not in suite:
                return uri, suite
        # deb822 style: stanzas of Types, URIs, Suites, ...
        for stanza in re.split(r"\n\s*\n", text):
            fields = dict(re.findall(r"^([A-Za-z-]+):\s*(.*)$", stanza, re.MULTILINE))
            if "deb" not in fields.get("Types", "").split():
                continue
            uris = [uri for uri in fields.get("URIs", "").split() if "/debian" in uri]
            suites = [suite for suite in fields.get("Suites", "").split() if "-" not in suite]
            if uris and suites and uris[0].rstrip("/").endswith("/debian"):
                return uris[0], suites[0]
    unavailable(
        "no Debian archive in /etc/apt/sources.list*, so no stand-in base to build", HOW_TO_ENABLE
    )
    raise AssertionError("unreachable")


def ca_bundle() -> Path | None:
    """Return the CA bundle this machine's pip and uv trust (a proxy's CA may be in it)."""
    for name in ("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE"):
        value = os.environ.get(name)
        if value and Path(value).is_file():
            return Path(value)
    default = Path(STANDIN_CA)
    return default if default.is_file() else None


@pytest.fixture(scope="session")
def standin(engine: None, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Return the stand-in base image's tag; built once, reused while its recipe is unchanged."""
    mirror, suite = debian_source()
    bundle = ca_bundle()
    changes = [f"ENV PATH={STANDIN_PATH}", "ENV LANG=C.UTF-8", 'CMD ["python3"]']
    if bundle is not None:
        changes += [f"ENV SSL_CERT_FILE={STANDIN_CA}", f"ENV PIP_CERT={STANDIN_CA}"]
    recipe = {
        "version": STANDIN_RECIPE_VERSION,
        "mirror": mirror,
        "suite": suite,
        "packages": STANDIN_PACKAGES,
        "changes": changes,
        "ca": hashlib.sha256(bundle.read_bytes()).hexdigest() if bundle else None,
    }
    digest = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]
    tag = f"mcp-template-standin:{suite}-{digest}"
    # Runs in parallel (xdist workers, other checkouts on this machine) build it only once.
    with (Path(tempfile.gettempdir()) / "mcp-template-standin.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if docker("image", "inspect", tag).returncode != 0:
            build_standin(tag, mirror, suite, bundle, changes, tmp_path_factory.mktemp("standin"))
    return tag


def build_standin(
    tag: str, mirror: str, suite: str, bundle: Path | None, changes: list[str], work: Path
) -> None:
    """Debootstrap a minimal Debian with Python into ``work`` and import it as ``tag``."""
    rootfs = work / "rootfs"
    debootstrap = run(
        [
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(STANDIN_PACKAGES)}",
            suite,
            str(rootfs),
            mirror,
        ],
        cwd=work,
        timeout=BUILD_TIMEOUT,
    )
    if debootstrap.returncode != 0:
        pytest.fail(debootstrap.describe(), pytrace=False)
    if bundle is not None:
        shutil.copyfile(bundle, rootfs / STANDIN_CA.lstrip("/"))
    for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for entry in (rootfs / cache).glob("*"):
            if entry.is_file():
                entry.unlink()
    tarball = work / "rootfs.tar"
    tar = run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(tarball), "."], cwd=work)
    if tar.returncode != 0:
        pytest.fail(tar.describe(), pytrace=False)
    shutil.rmtree(rootfs)
    change_args = [arg for change in changes for arg in ("--change", change)]
    docker_ok("import", *change_args, str(tarball), tag, timeout=BUILD_TIMEOUT)
    tarball.unlink()


def docs_commands(page: str) -> list[list[str]]:
    """Return the `docker ...` lines of the bake's docs/container.md, split like a shell."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", page, flags=re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            if line.startswith("docker "):
                commands.append(shlex.split(line))
    return commands


def replaced(argv: list[str], old: str, new: str) -> list[str]:
    """Replace the one argument ``old`` by ``new``; the documented command must have ``old``."""
    assert argv.count(old) == 1, f"expected one {old!r} in the documented {shlex.join(argv)}"
    return [new if arg == old else arg for arg in argv]


# A package every bake locks (httpx's), held back in the images' locks to this older release,
# which its requirement admits: an image of the newest releases would have another.
HELD_BACK = ("certifi", "2024.8.30")


@dataclass(frozen=True)
class Image:
    """One SDK line's bake, built into an image, and the documented command that runs it."""

    sdk: str
    path: Path
    tag: str
    slug: str
    run_command: list[str]
    build_seconds: float
    cached_steps: int
    size_bytes: int
    base_size_bytes: int


@pytest.fixture(scope="module", params=["2.x", "1.x"])
def image(
    request: pytest.FixtureRequest,
    bake: Bake,
    standin: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Image]:
    """Bake one SDK line, build it on the stand-in with its documented command; removed after.

    Its lock holds ``HELD_BACK`` back first, as ``uv lock --upgrade-package`` does for a team.
    """
    sdk: str = request.param
    path = bake_held_back(bake, tmp_path_factory.mktemp(f"container-{sdk}"), mcp_sdk=sdk)
    slug = path.name
    tag = f"mcp-template-test-{slug}-{sdk.replace('.', '')}:{uuid.uuid4().hex[:8]}"
    built = build_image(path, tag, standin)
    (host_run,) = [
        argv
        for argv in docs_commands((path / "docs" / "container.md").read_text("utf-8"))
        if argv[:2] == ["docker", "run"] and "host" in argv
    ]
    try:
        size = int(docker_ok("image", "inspect", "--format", "{{.Size}}", tag))
        base_size = int(docker_ok("image", "inspect", "--format", "{{.Size}}", standin))
        yield Image(sdk, path, tag, slug, host_run, *built, size, base_size)
    finally:
        # Only the tag: the untagged layers below it are build cache that a build running in
        # parallel may be using.
        docker("image", "rm", "--no-prune", tag)


def bake_held_back(bake: Bake, output_dir: Path, **answers: str) -> Path:
    """Bake ``answers``, then hold ``HELD_BACK`` back in the bake's lock; return the bake."""
    path = bake(output_dir, **answers)
    held = run(python_module("uv", "lock", "--upgrade-package", "==".join(HELD_BACK)), cwd=path)
    if held.returncode != 0:
        pytest.fail(held.describe(), pytrace=False)
    return path


def build_image(path: Path, tag: str, standin: str) -> tuple[float, int]:
    """Build the bake at ``path`` as ``tag`` with its docs' ``docker build`` on the stand-in.

    Returns the seconds the build took and the number of steps reused from the build cache.
    """
    commands = docs_commands((path / "docs" / "container.md").read_text("utf-8"))
    (build,) = [argv for argv in commands if argv[:2] == ["docker", "build"]]
    build = replaced(build, path.name, tag)
    build[2:2] = ["--network", "host", "--build-arg", f"BASE_IMAGE={standin}"]
    started = time.monotonic()
    output = docker_ok(*build[1:], timeout=BUILD_TIMEOUT, cwd=path)
    # The legacy builder says "Using cache" for each reused step, BuildKit "CACHED".
    return time.monotonic() - started, len(re.findall(r"Using cache|CACHED", output))


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Container:
    """A running container of the image, on the host's network at 127.0.0.1:port."""

    name: str
    port: int
    started_at: float

    def logs(self) -> str:
        """Return what the container has written to stdout and stderr so far."""
        return docker_ok("logs", self.name)

    def log_lines(self, level: str) -> list[str]:
        """Return the service's log records at ``level`` (format: date time LEVEL logger: ...)."""
        return [
            line
            for line in self.logs().splitlines()
            if len(line.split()) > 2 and line.split()[2] == level
        ]

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
        """Poll ``condition`` until it holds; fail saying ``what`` did not happen, with the log."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(f"{what} within {timeout:g} s; log:\n{self.logs()}", pytrace=False)
            time.sleep(0.1)

    def connection(self, timeout: float = 30) -> http.client.HTTPConnection:
        """Open a keep-alive HTTP connection to the service."""
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)


def healthz(port: int) -> bool:
    """Whether GET /healthz on 127.0.0.1:port answers 200 right now."""
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200
        finally:
            connection.close()
    except OSError:
        return False


@pytest.fixture
def start(image: Image, tmp_path: Path) -> Iterator[Callable[..., Container]]:
    """Start containers with the documented host-network command on free ports; removed after.

    Settings beyond the documented ones go in through ``--env-file``, as the docs say to pass them.
    """
    names: list[str] = []

    def start_container(**settings: str) -> Container:
        port = free_port()
        name = f"mcp-template-test-{uuid.uuid4().hex[:12]}"
        argv = replaced(image.run_command, f"{PREFIX}PORT=8000", f"{PREFIX}PORT={port}")
        argv = replaced(argv, image.slug, image.tag)
        argv.remove("--rm")  # kept until the finalizer, so its log and exit code can be read
        env_file = tmp_path / f"{name}.env"
        env_file.write_text("".join(f"{PREFIX}{k}={v}\n" for k, v in settings.items()), "utf-8")
        argv[2:2] = ["--detach", "--name", name, "--env-file", str(env_file)]
        started_at = time.monotonic()
        names.append(name)
        docker_ok(*argv[1:])
        container = Container(name, port, started_at)
        deadline = started_at + READY_TIMEOUT
        while not healthz(port):
            state = docker_ok("inspect", "--format", "{{.State.Status}}", name).strip()
            if state != "running" or time.monotonic() > deadline:
                pytest.fail(f"container {state}, /healthz not answering; log:\n{container.logs()}")
            time.sleep(0.05)
        return container

    yield start_container
    for name in names:
        docker("rm", "--force", name)


def rpc(
    connection: http.client.HTTPConnection,
    method: str,
    params: dict[str, Any],
    request_id: int,
    on_headers: Callable[[], None] = lambda: None,
) -> dict[str, Any]:
    """Send one JSON-RPC request over ``connection``; return its response, from JSON or SSE.

    ``on_headers`` runs when the response's headers are in: for an SSE answer, that is when
    the service has started on the request.
    """
    body = json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
    connection.request("POST", "/mcp", body.encode(), headers=request_headers())
    response = connection.getresponse()
    on_headers()
    text = response.read().decode()
    assert response.status == 200, (response.status, text)
    if response.getheader("content-type", "").startswith("application/json"):
        messages = [json.loads(text)]
    else:
        messages = [
            json.loads(line.removeprefix("data:"))
            for line in text.splitlines()
            if line.startswith("data:") and line.removeprefix("data:").strip()
        ]
    answers: list[dict[str, Any]] = [
        message for message in messages if message.get("id") == request_id
    ]
    assert len(answers) == 1, text
    return answers[0]


def request_headers() -> dict[str, str]:
    """Return the headers of a handshake-era MCP request (both SDK lines speak it)."""
    return {
        "content-type": "application/json",
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": PROTOCOL,
    }


def add(connection: http.client.HTTPConnection, request_id: int = 1) -> object:
    """Call the bake's ``add`` tool with 2 and 3; return the structured result."""
    params = {"name": "add", "arguments": {"a": 2, "b": 3}}
    return rpc(connection, "tools/call", params, request_id)["result"]["structuredContent"]


def test_image_is_small_and_carries_no_build_tools(
    image: Image, record_property: Callable[[str, object], None]
) -> None:
    """The runtime stage has the virtualenv, not the build's tools; size, build time reported.

    Neither uv nor cyclonedx-bom, which only the build stage needs.
    """
    check = (
        "import importlib.util, os, shutil, sys; "
        "sys.exit(any(shutil.which(tool) for tool in ('uv', 'cyclonedx-py')) "
        "or os.path.exists('/opt/tools') "
        "or any(importlib.util.find_spec(module) for module in ('uv', 'cyclonedx')))"
    )
    docker_ok("run", "--rm", "--network", "none", "--entrypoint", "python3", image.tag, "-c", check)
    record_property("figure", f"{image.sdk} image size: {image.size_bytes / 1e6:.0f} MB")
    added = (image.size_bytes - image.base_size_bytes) / 1e6
    record_property("figure", f"{image.sdk} image over the stand-in base: {added:.0f} MB")
    record_property(
        "figure",
        f"{image.sdk} image build: {image.build_seconds:.1f} s "
        f"({image.cached_steps} steps reused from the build cache)",
    )


# What the image's Python says about itself: the environment markers evaluate against (as
# packaging.markers.default_environment() gives them) and every distribution installed.
INSPECT = """
import importlib.metadata, json, os, platform, sys
info = sys.implementation.version
version = f"{info.major}.{info.minor}.{info.micro}"
print(json.dumps({
    "environment": {
        "implementation_name": sys.implementation.name,
        "implementation_version": version,
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    },
    "installed": {d.metadata["Name"]: d.version for d in importlib.metadata.distributions()},
}))
"""


def in_image(image: Image, *argv: str) -> str:
    """Run a command in a fresh container of the image, off any network; return its output."""
    network = ("--network", "none")
    return docker_ok("run", "--rm", *network, "--entrypoint", argv[0], image.tag, *argv[1:])


def installed(image: Image) -> tuple[dict[str, str], dict[str, str]]:
    """Return the image's marker environment, and its distributions' versions by name."""
    found = json.loads(in_image(image, "python3", "-c", INSPECT))
    versions = {canonicalize_name(name): v for name, v in found["installed"].items()}
    return found["environment"], versions


def locked_for(lock: dict[str, Any], environment: dict[str, str]) -> dict[str, str]:
    """Return the packages uv.lock installs for its project without extras, in ``environment``.

    The project's dependencies, and theirs, each with the extras asked for and the markers that
    hold in the environment; a name locked at two versions (one per Python range) is told
    apart by the version its dependent names.
    """
    packages = lock["package"]
    (root,) = [package for package in packages if package.get("source") == {"editable": "."}]
    found = {root["name"]: root["version"]}
    pending = list(root["dependencies"])
    while pending:
        dependency = pending.pop()
        marker = dependency.get("marker")
        if marker and not Marker(marker).evaluate(environment):
            continue
        (package,) = [
            package
            for package in packages
            if package["name"] == dependency["name"]
            and dependency.get("version", package["version"]) == package["version"]
        ]
        extras = package.get("optional-dependencies", {})
        wanted = package.get("dependencies", [])
        wanted += [entry for extra in dependency.get("extra", []) for entry in extras[extra]]
        if found.setdefault(package["name"], package["version"]) == package["version"]:
            pending += [entry for entry in wanted if entry["name"] not in found]
    return found


def test_the_image_installs_exactly_the_lock(image: Image) -> None:
    """Every package of uv.lock the service needs, at the lock's version, and nothing else.

    Not the [dev] extra, and not the newest release of the package the lock holds back.
    """
    lock = tomllib.loads((image.path / "uv.lock").read_text("utf-8"))
    environment, versions = installed(image)
    expected = locked_for(lock, environment)
    assert versions == expected
    name, version = HELD_BACK
    assert versions[name] == version
    assert "mcp" in versions
    assert not {"pytest", "mypy", "ruff"} & set(versions)


def test_the_image_carries_its_sbom(image: Image) -> None:
    """A CycloneDX document of the image's virtualenv, at /opt/venv/sbom.cdx.json.

    The service as its main component, then each package installed at its version, mcp among
    them; reproducible (no timestamp, no serial number).
    """
    sbom = json.loads(in_image(image, "cat", "/opt/venv/sbom.cdx.json"))
    assert (sbom["bomFormat"], sbom["specVersion"]) == ("CycloneDX", "1.6")
    assert "serialNumber" not in sbom
    assert "timestamp" not in sbom["metadata"]
    main = sbom["metadata"]["component"]
    assert (main["type"], main["name"], main["version"]) == ("application", image.slug, "0.1.0")
    _, versions = installed(image)
    listed = {canonicalize_name(c["name"]): c["version"] for c in sbom["components"]}
    assert listed == {name: v for name, v in versions.items() if name != image.slug}
    assert listed["mcp"] == versions["mcp"]
    assert all(c["purl"].startswith("pkg:pypi/") for c in sbom["components"])


DOCUMENTED_URL = "http://127.0.0.1:8000/mcp"
DOCUMENTED_PORT = "-p 127.0.0.1:8000:8000"


def sh_blocks(page: Path) -> list[str]:
    """Return the page's ``sh`` code blocks, continuation lines joined."""
    blocks = re.findall(r"```sh\n(.*?)```", page.read_text("utf-8"), re.DOTALL)
    return [block.replace("\\\n", " ") for block in blocks]


@pytest.mark.parametrize("auth", ["none", "bearer"])
def test_the_quick_start_serves_on_every_interface_and_answers_the_readme_calls(
    image: Image,
    auth: str,
    bake: Bake,
    standin: str,
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    """docs/container.md's quick start, then the README's curl commands against it.

    In a fresh bake, so .env is made the page's way; the tools are listed and ``add`` answers 5.
    As written, but for the image's tag, ``--detach`` and a name instead of ``--rm`` (so the log
    can be read and the container removed), and the network: tests run containers on the host's
    network only, bound to 127.0.0.1, where ``-p`` has nothing to publish, so the address is
    given as settings after the page's ``--env-file``. What makes ``-p`` reach a container is
    that the service listens on every interface of the container's own network, not on its
    loopback, so the settings the image and the page's ``.env`` give must say 0.0.0.0:8000 (a
    ``.env.example`` that set HOST=127.0.0.1 made the quick start unreachable). The image's
    build command is the fixture's; with auth=bearer the bake is built here, on the fixture's
    cached layers.
    """
    if shutil.which("curl") is None:
        unavailable("no curl, which the README's commands use", "apt-get install curl")
    tag, path = image.tag, image.path
    if auth != "none":
        path = bake_held_back(bake, tmp_path / "bake", mcp_sdk=image.sdk, auth=auth)
        tag = f"mcp-template-test-{image.slug}-{auth}:{uuid.uuid4().hex[:8]}"
        build_image(path, tag, standin)
    project = tmp_path / "project"
    shutil.copytree(path, project, ignore=shutil.ignore_patterns(".git"))
    assert not (project / ".env").exists(), "a fresh bake has no .env"
    port, name = free_port(), f"mcp-template-test-{uuid.uuid4().hex[:12]}"
    script = []
    for line in sh_blocks(project / "docs" / "container.md")[0].splitlines():
        if line.startswith("docker build "):
            continue  # the image is built already, with this command
        if line.startswith("docker run "):
            assert line.count(DOCUMENTED_PORT) == 1, line
            assert line.endswith(f" {image.slug}"), line
            line = line.replace(DOCUMENTED_PORT, "--network host")
            line = line.replace("docker run --rm ", f"docker run --detach --name {name} ", 1)
            address = f"-e {PREFIX}HOST=127.0.0.1 -e {PREFIX}PORT={port}"
            line = line.removesuffix(image.slug) + f"{address} {tag}"
            assert name in line, line
        script.append(line)
    (curls,) = [block for block in sh_blocks(project / "README.md") if block.startswith("curl ")]
    assert curls.count(DOCUMENTED_URL) == 2, curls
    healthz = f"http://127.0.0.1:{port}/healthz"
    script.append(
        f"timeout {READY_TIMEOUT:.0f} sh -c "
        f"'until curl -fsS -o /dev/null {healthz}; do sleep 0.1; done'"
    )
    script.append(curls.replace(DOCUMENTED_URL, f"http://127.0.0.1:{port}/mcp"))
    started = time.monotonic()
    try:
        result = run(["sh", "-e", "-c", "\n".join(script)], cwd=project)
        log = docker("logs", name).output
        # Where the service listens with the page's command and .env, in a network namespace
        # of its own (the script's command gives the address as settings after the .env).
        read = (
            "from my_mcp_server.settings import read_settings as r; s = r(); print(s.host, s.port)"
        )
        env_file = ("--env-file", str(project / ".env"))
        if auth == "bearer":  # required, and no part of the address
            env_file += ("-e", f"{PREFIX}AUTH_TOKENS={secrets.token_hex(16)}")
        where = docker(
            "run",
            "--rm",
            "--network",
            "none",
            *env_file,
            "--entrypoint",
            "python3",
            tag,
            "-c",
            read,
        ).output
    finally:
        docker("rm", "--force", name)
        if tag != image.tag:
            docker("image", "rm", "--no-prune", tag)
    assert result.returncode == 0, f"{result.describe()}\ncontainer log:\n{log}"
    record_property(
        "figure",
        f"{image.sdk} auth={auth} quick start, docker run to both curl answers: "
        f"{time.monotonic() - started:.1f} s",
    )
    answers = {message["id"]: message for message in json_rpc_messages(result.output)}
    assert "add" in [tool["name"] for tool in answers[1]["result"]["tools"]], result.output
    assert answers[2]["result"]["structuredContent"] == {"result": 5.0}, result.output
    assert (project / ".env").read_bytes() == (project / ".env.example").read_bytes()
    assert " ERROR " not in log, log
    assert where.split() == ["0.0.0.0", "8000"], where


def json_rpc_messages(output: str) -> list[dict[str, Any]]:
    """Return the JSON-RPC messages in what curl printed.

    Plain JSON answers come one after another with nothing between them; SSE answers carry
    theirs in ``data:`` lines.
    """
    decoder = json.JSONDecoder()
    messages = []
    at = output.find('{"jsonrpc"')
    while at != -1:
        message, end = decoder.raw_decode(output, at)
        messages.append(message)
        at = output.find('{"jsonrpc"', end)
    return messages


def test_defaults_bind_every_interface_run_as_non_root_and_report_healthy(
    image: Image, record_property: Callable[[str, object], None]
) -> None:
    """With the image's own settings, in a network namespace of its own: healthy, uid 10001."""
    name = f"mcp-template-test-{uuid.uuid4().hex[:12]}"
    started = time.monotonic()
    docker_ok(
        "run", "--detach", "--name", name, "--network", "none", "--health-interval", "1s", image.tag
    )
    try:
        status = ""
        while status != "healthy":
            status = docker_ok("inspect", "--format", "{{.State.Health.Status}}", name).strip()
            assert status in {"starting", "healthy"}, docker_ok("logs", name)
            assert time.monotonic() - started < READY_TIMEOUT, docker_ok("logs", name)
            time.sleep(0.1)
        record_property(
            "figure", f"{image.sdk} docker run to healthy: {time.monotonic() - started:.1f} s"
        )
        assert docker_ok("exec", name, "id", "-u").strip() == "10001"
        assert (
            docker_ok("inspect", "--format", "{{.Config.User}}", image.tag).strip() == "10001:10001"
        )
        log = docker_ok("logs", name)
        assert "listening on http://0.0.0.0:8000/mcp" in log, log
        # The one WARNING the docs describe: every interface, but no ALLOWED_HOSTS yet.
        (warning,) = [line for line in log.splitlines() if " WARNING " in line]
        assert f"{PREFIX}ALLOWED_HOSTS" in warning, log
        assert " ERROR " not in log, log
    finally:
        docker("rm", "--force", name)


def test_container_answers_health_and_tool_calls(
    start: Callable[..., Container], image: Image, record_property: Callable[[str, object], None]
) -> None:
    """The documented host-network command: /healthz and a tools/call answer; nothing logged."""
    container = start()
    record_property(
        "figure",
        f"{image.sdk} docker run to /healthz answering: "
        f"{time.monotonic() - container.started_at:.2f} s",
    )
    with closing(container.connection()) as connection:
        assert add(connection) == {"result": 5.0}
    assert container.log_lines("WARNING") == [], container.logs()
    assert container.log_lines("ERROR") == [], container.logs()


def test_allowed_hosts_come_from_an_env_file(start: Callable[..., Container]) -> None:
    """The documented --env-file way in: ALLOWED_HOSTS lets that name in; others still get 421."""
    container = start(ALLOWED_HOSTS="mcp.internal.example")
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})
    statuses = {}
    for host in ("mcp.internal.example", f"127.0.0.1:{container.port}", "other.example"):
        with closing(container.connection()) as connection:
            connection.request("POST", "/mcp", body, headers={**request_headers(), "host": host})
            response = connection.getresponse()
            response.read()
            statuses[host] = response.status
    assert statuses == {
        "mcp.internal.example": 200,
        f"127.0.0.1:{container.port}": 200,
        "other.example": 421,
    }
    assert container.log_lines("ERROR") == [], container.logs()


def test_docker_stop_lets_a_long_call_finish(
    start: Callable[..., Container], image: Image, record_property: Callable[[str, object], None]
) -> None:
    """`docker stop` mid-call: the call's answer arrives, the container exits 0, no ERROR."""
    container = start()
    outcome: dict[str, Any] = {}
    running = threading.Event()

    def long_call() -> None:
        connection = container.connection()
        try:
            params = {"name": "long_task", "arguments": {"seconds": 3, "steps": 3}}
            outcome["answer"] = rpc(connection, "tools/call", params, 7, on_headers=running.set)
        except Exception as exc:  # reported by the assertion below
            outcome["error"] = repr(exc)
        finally:
            connection.close()

    caller = threading.Thread(target=long_call)
    caller.start()
    # The SSE answer's headers: the tool is running in the container now.
    assert running.wait(10), (outcome, container.logs())
    time.sleep(0.5)
    stopping = time.monotonic()
    docker_ok("stop", "--time", "30", container.name, timeout=60)
    record_property(
        "figure",
        f"{image.sdk} docker stop with a 3 s call in flight: {time.monotonic() - stopping:.1f} s",
    )
    caller.join(30)
    log = container.logs()
    assert "error" not in outcome, (outcome, log)
    result = outcome["answer"]["result"]
    assert result["isError"] is False, (result, log)
    assert "done after 3 seconds" in json.dumps(result), (result, log)
    exit_code = docker_ok("inspect", "--format", "{{.State.ExitCode}}", container.name).strip()
    assert exit_code == "0", log
    assert "SIGTERM: finishing the requests in flight" in log, log
    assert container.log_lines("ERROR") == [], log
    assert "Traceback" not in log, log


def test_client_leaving_mid_body_logs_one_warning(start: Callable[..., Container]) -> None:
    """The truncated-body regression scenario against the container: one WARNING, no ERROR."""
    container = start()
    params = {"name": "add", "arguments": {"a": 2, "b": 3}}
    body = json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": params})
    head = ["POST /mcp HTTP/1.1", f"host: 127.0.0.1:{container.port}", "content-length: 10000"]
    head += [f"{name}: {value}" for name, value in request_headers().items()]
    data = ("\r\n".join(head) + "\r\n\r\n").encode() + body.encode()[: len(body) // 2]
    with socket.create_connection(("127.0.0.1", container.port), timeout=10) as sock:
        sock.sendall(data)
        time.sleep(0.2)
    container.wait_for(lambda: bool(container.log_lines("WARNING")), "no WARNING")
    with closing(container.connection()) as connection:
        assert add(connection, request_id=3) == {"result": 5.0}
    time.sleep(0.3)  # room for anything else the service might log about the first request
    (warning,) = container.log_lines("WARNING")
    assert "client disconnected before its request body was complete" in warning
    assert "of 10000 bytes" in warning
    assert container.log_lines("ERROR") == [], container.logs()
    assert "Traceback" not in container.logs()


def test_sequential_calls_on_one_connection_are_fast(
    start: Callable[..., Container], image: Image, record_property: Callable[[str, object], None]
) -> None:
    """20 tools/call add over one keep-alive connection: no 40 ms Nagle/delayed-ACK stalls."""
    container = start()
    timings = []
    connection = container.connection()
    try:
        add(connection, request_id=1)  # warm up: imports, first-call caches
        for request_id in range(2, 22):
            started = time.perf_counter()
            assert add(connection, request_id=request_id) == {"result": 5.0}
            timings.append(time.perf_counter() - started)
    finally:
        connection.close()
    median_ms = statistics.median(timings) * 1000
    record_property(
        "figure",
        f"{image.sdk} tools/call add, 20 in a row on one connection: median {median_ms:.1f} ms, "
        f"max {max(timings) * 1000:.1f} ms",
    )
    assert median_ms < 20, f"median {median_ms:.1f} ms: {[round(t * 1000, 1) for t in timings]}"
