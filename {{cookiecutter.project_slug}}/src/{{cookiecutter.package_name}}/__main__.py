"""The command, as its console script and as ``python -m`` (the template's file):
``{{ cookiecutter.project_slug }}``,
``python -m {{ cookiecutter.package_name }}``.

Hands the team's service (``app.py``) to the runtime's command line.
"""

from collections.abc import Sequence

from .app import service
from .runtime.serving.cli import run


def main(argv: Sequence[str] | None = None) -> int:
    """Run the service as ``argv`` (else the process's arguments) and the settings say."""
    return run(service, argv)


if __name__ == "__main__":
    raise SystemExit(main())
