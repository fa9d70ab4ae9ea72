"""The suite, by owner: the team's tests here (``test_tools.py``, and yours beside it), the
template's in ``runtime/``, the helpers both use in ``support/``."""
