"""Entry point for ``python -m``: the same command as the console script (the template's)."""

from .runtime.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
