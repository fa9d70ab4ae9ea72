"""Entry point for ``python -m``: the same command as the console script."""

from .runtime.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
