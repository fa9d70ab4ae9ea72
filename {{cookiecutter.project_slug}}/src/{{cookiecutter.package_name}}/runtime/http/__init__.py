"""The request path, in front of the SDK: ``app.py`` puts it together (the template's)."""
