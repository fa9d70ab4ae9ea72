"""The suite's helpers, in one home; ``conftest.py`` holds fixtures only.

* ``tools``: the suite's own tools, added to every server the tests start, so the request-path
  tests never depend on the team's tools.
* ``client``: the wire format, for this SDK line: requests, response parsing, SDK clients.
* ``servers`` and ``processes``: the service on a real uvicorn in a thread, or as a process.
* ``rawhttp``: sockets for what an HTTP client will not send (cut bodies, stalls).
* ``logs``: what the server logged during a test.
"""
