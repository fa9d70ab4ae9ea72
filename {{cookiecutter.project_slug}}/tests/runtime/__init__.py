"""The template's tests: each guarantee of its machinery, on the suite's own tools.

They come with the template and change with its updates (``cruft update``); a team's tests sit
beside this folder, in ``tests/``.
"""
