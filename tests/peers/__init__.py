"""The other ends the slow tier puts a bake in front of: run by path, never imported.

``conformance_server.py`` (the bake with the conformance suite's fixtures), ``ts_client.mjs``
(the TypeScript SDK's client) and ``asking_client.py`` (the Python SDK's client calling a tool
that asks the user, over and over). Not tests: the template's top level is fixed, so they live
here, beside the tests that start them.
"""
