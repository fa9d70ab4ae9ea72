"""The processes that serve the app: ``cli.py`` starts them from the team's ``Service``
(the template's)."""
