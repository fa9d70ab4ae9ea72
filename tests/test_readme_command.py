"""The template README's command 1, run as written, twice.

It bakes and starts; run again, it starts the same project with the team's edits intact
instead of baking over them.

Only the paths change (a temporary directory instead of ``/tmp``) and the server gets ``--port
0``, so that runs side by side do not collide; everything else is the README's text.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from _support import TEMPLATE_DIR, clean_env, tail

pytestmark = pytest.mark.slow

LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)/mcp")
START_TIMEOUT = 600.0  # two pip installs from PyPI on a cold cache


def readme_command_1() -> str:
    """Return the line under the README's "# 1." comment."""
    lines = (TEMPLATE_DIR / "README.md").read_text("utf-8").splitlines()
    marker = next(i for i, line in enumerate(lines) if line.startswith("# 1. "))
    return lines[marker + 1]


def localised(command: str, root: Path) -> str:
    """Put the command's /tmp paths under root and give the server a free port."""
    command = command.replace("/tmp/mcp-venv", str(root / "venv"))
    command = command.replace("/tmp/mcp-services", str(root / "services"))
    assert command.endswith("&& my-mcp-server"), command
    return command + " --port 0"


def run_until_serving(command: str) -> str:
    """Run the command until its server answers /healthz; stop it; return everything it said."""
    process = subprocess.Popen(
        ["bash", "-c", command],
        cwd=TEMPLATE_DIR,
        env=clean_env({"PIP_DISABLE_PIP_VERSION_CHECK": "1"}),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + START_TIMEOUT
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if match := LISTENING.search(line):
                with urllib.request.urlopen(f"{match.group(1)}/healthz", timeout=10) as answer:
                    assert json.load(answer) == {"status": "ok"}
                return "".join(output)
            assert time.monotonic() < deadline, "command 1 did not start the server in time"
        pytest.fail(f"command 1 ended without serving:\n{tail(''.join(output))}", pytrace=False)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def test_command_1_bakes_and_serves_then_keeps_the_project_on_a_second_run(
    tmp_path: Path,
) -> None:
    """An edit and a new file survive the second run, which serves without baking."""
    command = localised(readme_command_1(), tmp_path)
    first = run_until_serving(command)
    project = tmp_path / "services" / "my-mcp-server"
    assert (project / "src" / "my_mcp_server" / "tools.py").is_file(), tail(first)

    tools = project / "src" / "my_mcp_server" / "tools.py"
    edited = tools.read_text("utf-8") + "\n\n# The team's first edit.\n"
    tools.write_text(edited, encoding="utf-8")
    (project / "notes.md").write_text("kept\n", encoding="utf-8")

    second = run_until_serving(command)
    assert tools.read_text("utf-8") == edited, "command 1 reverted an edit"
    assert (project / "notes.md").read_text("utf-8") == "kept\n"
    assert "Next steps" not in second, f"command 1 baked again:\n{tail(second)}"
