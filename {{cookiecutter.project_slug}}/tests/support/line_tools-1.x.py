"""The suite's tools that only this SDK line serves: none on 1.x.

On 2.x this module holds the tools of MCP 2026-07-28 (a publisher for ``subscriptions/listen``,
a tool that asks the user in rounds), which 1.x does not speak; ``tools.py`` installs whatever
is here with its own tools, on either line.
"""

from __future__ import annotations

from {{ cookiecutter.package_name }}.runtime.registry import Registry

LINE_TOOLS: tuple[str, ...] = ()

line_suite = Registry()
