"""The template's machinery, in three layers, each importing only those below it:

* ``serving/``: the processes: the command line, workers, the uvicorn server, stdio, shutdown,
  connections, logging, and the ``Service`` every entry point hands the team's code in by;
* ``http/``: the request path: the app, the disconnect guard, the limits, the access line and
  the metrics;
* the modules here: the SDK seam (``sdk.py``) and what the team's code uses directly
  (``settings.py``, ``errors.py``, ``registry.py``, ``per_process.py``).

Everything in this package comes from the template and changes with it (``cruft update``), and
imports nothing of the team's, which lives a level up (``app.py``, ``tools.py``,
``settings.py``, ``shared.py``). The README's "Layout" says which file does what.
"""
