"""Scripts that measure bakes, run on demand and briefly by the slow tier.

``benchmark.py`` (the bake against the bare SDK), ``storm.py`` (cut-short requests among valid
calls, which ``test_baked_project.py`` imports), and ``sdk_table.py`` with ``sdk_scenarios.py``
(what each mcp version answers and logs). Not tests: the template's top level is fixed, so they
live here, beside the tests that run them.
"""
