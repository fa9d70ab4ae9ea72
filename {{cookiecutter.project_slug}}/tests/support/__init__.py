"""The template's: the suite's helpers, in one home; the ``conftest.py`` files hold fixtures only.

* ``tools``: the suite's own tools, added to every server the tests start, so the request-path
  tests never depend on the team's tools; ``line_tools``, those only this SDK line serves.
* ``rpc``: JSON-RPC over HTTP, built, sent (``send``, the one way) and parsed.
* ``client``: the SDK's own clients, for this SDK line (``sdk_client``).
* ``credentials``: what every test presents, for this bake's auth answer.
* ``servers`` and ``processes``: the service on a real uvicorn in a thread, or as a process.
* ``rawhttp``: sockets for what an HTTP client will not send (cut bodies, stalls).
* ``logs``: what the server logged during a test.
"""
