"""{{ cookiecutter.project_slug }}: a stateless streamable-HTTP MCP server.

The team's code is in this package's top-level modules (``tools.py``, ``settings.py``,
``app.py``); the template's machinery is in ``runtime/``. The README's "Layout" says more.
"""

from importlib.metadata import version

SERVER_NAME = "{{ cookiecutter.project_slug }}"
__version__ = version(SERVER_NAME)
