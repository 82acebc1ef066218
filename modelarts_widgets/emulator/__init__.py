"""A local ModelArts emulator for the demo and the tests; the package itself never imports it.

``with Emulator(configs=50) as em: ...`` serves the documented API on 127.0.0.1;
``python -m modelarts_widgets.emulator`` runs it from a shell.
"""

from __future__ import annotations

from .faults import Faults
from .server import DEFAULT_AK, DEFAULT_PROJECT, DEFAULT_REGION, DEFAULT_SK, Emulator, expiring_token
from .store import ConfigStore

__all__ = [
    "DEFAULT_AK",
    "DEFAULT_PROJECT",
    "DEFAULT_REGION",
    "DEFAULT_SK",
    "ConfigStore",
    "Emulator",
    "Faults",
    "expiring_token",
]
