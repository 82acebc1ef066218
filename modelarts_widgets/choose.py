"""Choosing configs: protection rules and the filters that the widget and the magic share."""

from __future__ import annotations

import fnmatch
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .i18n import t
from .sdk import settings

PROTECT_ENV = settings.PROTECT


def protect_patterns(protect: Iterable[str] | str | None = None) -> list[str]:
    """Glob patterns of protected names: ``protect`` if given, else ``$MODELARTS_PROTECT``.

    The variable holds comma-separated globs, e.g. ``prod-*,baseline``.
    """
    if protect is None:
        protect = settings.get(PROTECT_ENV) or ""
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


# Configs older than ModelArts cannot exist: a create_time before this (ms) is implausible.
EARLIEST_CREATE_TIME_MS = 1_420_070_400_000  # 2015-01-01T00:00:00Z
# The server's clock and ours may differ a little; a time further ahead is not believed.
FUTURE_TOLERANCE_MS = 5 * 60 * 1000


def create_time_ms(config: Mapping[str, Any], now: float | None = None) -> float | None:
    """The config's ``create_time`` in ms since the epoch, or None when unknown or implausible.

    None for a missing, null, non-numeric (strings and booleans included), non-finite value,
    one before 2015-01-01, or one more than 5 minutes after ``now`` (seconds, default the clock).
    """
    value = config.get("create_time")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value) or value < EARLIEST_CREATE_TIME_MS:
        return None
    current_ms = (now if now is not None else time.time()) * 1000
    if value > current_ms + FUTURE_TOLERANCE_MS:
        return None
    return float(value)


def text_matches(config: Mapping[str, Any], text: str) -> bool:
    """True when the name or description contains ``text``, case-insensitively."""
    needle = text.casefold()
    haystack = (str(config.get("config_name") or ""), str(config.get("config_desc") or ""))
    return any(needle in value.casefold() for value in haystack)


@dataclass
class Choice:
    """Which configs the criteria chose, and those left out only because nothing could confirm them.

    ``age_unknown``: configs that pass every other criterion, but whose age could not be told
    (see :func:`create_time_ms`) while an age rule was given. ``search_unmatched``: configs the
    server's search returned whose name and description do not contain the search text.
    """

    chosen: list[Mapping[str, Any]] = field(default_factory=list)
    age_unknown: list[Mapping[str, Any]] = field(default_factory=list)
    search_unmatched: list[Mapping[str, Any]] = field(default_factory=list)


def choose_configs(
    configs: Iterable[Mapping[str, Any]],
    *,
    names: Sequence[str] = (),
    match: str | None = None,
    search: str | None = None,
    older_than_days: float | None = None,
    now: float | None = None,
) -> Choice:
    """Split ``configs`` by every given criterion; each rule fails closed.

    A config is chosen only when each criterion can confirm it: an explicit name, a glob on the
    name (case-sensitive), ``search`` text found in the name or description (case-insensitive),
    and an age of more than ``older_than_days`` days (``now`` in seconds since the epoch).
    """
    wanted = set(names)
    cutoff = None
    if older_than_days is not None:
        cutoff = ((now if now is not None else time.time()) - older_than_days * 86_400) * 1000
    choice = Choice()
    for config in configs:
        name = str(config["config_name"])
        if wanted and name not in wanted:
            continue
        if match is not None and not fnmatch.fnmatchcase(name, match):
            continue
        if search and not text_matches(config, search):
            choice.search_unmatched.append(config)
            continue
        if cutoff is not None:
            created = create_time_ms(config, now)
            if created is None:
                choice.age_unknown.append(config)
                continue
            if not created < cutoff:
                continue
        choice.chosen.append(config)
    return choice


def select_configs(
    configs: Iterable[Mapping[str, Any]],
    *,
    names: Sequence[str] = (),
    match: str | None = None,
    search: str | None = None,
    older_than_days: float | None = None,
    now: float | None = None,
) -> list[Mapping[str, Any]]:
    """The configs that every given criterion confirms (see :func:`choose_configs`)."""
    return choose_configs(
        configs, names=names, match=match, search=search, older_than_days=older_than_days, now=now
    ).chosen
