"""Which service this is: its name, and its version as installed (the template's).

Read once, at import, from the installed package's metadata, for the SDK's server info, the
command line's ``--version`` and the first log line.
"""

from importlib.metadata import version

SERVER_NAME = "{{ cookiecutter.project_slug }}"
__version__ = version(SERVER_NAME)
