"""Choosing configs: protection rules and the filters that the widget and the magic share."""

from __future__ import annotations

import fnmatch
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .i18n import t

PROTECT_ENV = "MODELARTS_PROTECT"


def protect_patterns(protect: Iterable[str] | str | None = None) -> list[str]:
    """Glob patterns of protected names: ``protect`` if given, else ``$MODELARTS_PROTECT``.

    The variable holds comma-separated globs, e.g. ``prod-*,baseline``.
    """
    if protect is None:
        protect = os.environ.get(PROTECT_ENV, "")
    if isinstance(protect, str):
        protect = protect.split(",")
    return [p.strip() for p in protect if p and p.strip()]


def protecting_pattern(name: str, patterns: Sequence[str]) -> str | None:
    """The first pattern that protects ``name``, or None. Matching is case-sensitive, as names are."""
    return next((p for p in patterns if fnmatch.fnmatchcase(name, p)), None)


def protected_reason(name: str, patterns: Sequence[str], *, language: str | None = None) -> str | None:
    """Why ``name`` may not be deleted (in ``language``, see :mod:`.i18n`), or None."""
    pattern = protecting_pattern(name, patterns)
    if pattern is None:
        return None
    return t("protect.reason", lang=language, pattern=repr(pattern))


def protected_names(names: Iterable[str], patterns: Sequence[str]) -> dict[str, str]:
    """Name -> reason for every protected name in ``names``."""
    return {n: r for n in names if (r := protected_reason(n, patterns)) is not None}


def select_configs(
    configs: Iterable[Mapping[str, Any]],
    *,
    names: Sequence[str] = (),
    match: str | None = None,
    older_than_days: float | None = None,
    now: float | None = None,
) -> list[Mapping[str, Any]]:
    """The configs that every given criterion accepts (explicit names, a glob, an age)."""
    wanted = set(names)
    cutoff = None
    if older_than_days is not None:
        cutoff = ((now if now is not None else time.time()) - older_than_days * 86_400) * 1000
    chosen = []
    for config in configs:
        name = str(config["config_name"])
        if wanted and name not in wanted:
            continue
        if match is not None and not fnmatch.fnmatchcase(name, match):
            continue
        if cutoff is not None and not (config.get("create_time") or 0) < cutoff:
            continue
        chosen.append(config)
    return chosen
