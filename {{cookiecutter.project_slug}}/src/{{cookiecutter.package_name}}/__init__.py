"""{{ cookiecutter.project_slug }}: a stateless streamable-HTTP MCP server.

The team's code is in this package's top-level modules (``tools.py``, ``settings.py``,
``shared.py``, ``app.py``); the template's machinery is in ``runtime/``, which imports none of
them. The README's "Layout" says more.
"""

from .runtime.about import SERVER_NAME, __version__

__all__ = ["SERVER_NAME", "__version__"]
