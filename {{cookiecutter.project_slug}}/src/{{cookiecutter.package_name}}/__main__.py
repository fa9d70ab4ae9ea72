"""``python -m {{ cookiecutter.package_name }}`` runs the same command as the console script."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
