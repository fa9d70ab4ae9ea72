"""{{ cookiecutter.project_slug }}: a stateless streamable-HTTP MCP server."""

from importlib.metadata import version

SERVER_NAME = "{{ cookiecutter.project_slug }}"
__version__ = version(SERVER_NAME)
