"""The documented config-name rule, checked before any request is built."""

from __future__ import annotations

import re

from .errors import InvalidConfigNameError

# REST create and delete accept 1-64 characters; the official SDK's create says 1-20.
CONFIG_NAME = re.compile(r"[0-9A-Za-z_-]{1,64}")


def is_valid_config_name(name: object) -> bool:
    return isinstance(name, str) and CONFIG_NAME.fullmatch(name) is not None


def check_config_name(name: object) -> str:
    """Return ``name`` if the API would accept it, else raise :class:`InvalidConfigNameError`."""
    if not is_valid_config_name(name):
        raise InvalidConfigNameError(name)
    assert isinstance(name, str)
    return name
