"""The template's machinery: the request path, the server process, the SDK seam.

Everything in this package comes from the template and changes with it (``cruft update``);
the team's code lives a level up (``app.py``, ``tools.py``, ``settings.py``). The README's
"Layout" section says which file does what.
"""
