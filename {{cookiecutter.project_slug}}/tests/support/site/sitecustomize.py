"""Run at the start of every Python process the tests launch (``PYTHONPATH``, set by
``processes.clean_environment``): the servers they run carry the suite's tools."""

from tests.support.tools import install

install()
