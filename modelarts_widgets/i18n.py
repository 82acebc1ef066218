"""English and Simplified Chinese text for everything the package shows people.

One JSON catalog per language (``locales/en.json``, ``locales/zh-CN.json``) serves both the
kernel and the page. JSON rather than gettext ``.po`` files because the front end is a plain ES
module with no build step: it cannot run ``msgfmt`` or parse ``.po``, while JSON travels to it as
is (``JobConfigTable`` syncs the catalogs as a trait) and Python reads it with the standard
library. A catalog maps a key to either a string or, for text that counts something, an object
of CLDR plural forms (``{"one": ..., "other": ...}``; Chinese needs only ``other``). Placeholders
are named, ``{count}``, and filled by the same rule in Python and JS (no format specs, no
attribute access), so a translator may reorder them freely.

Language for kernel text: the ``language=`` argument of a call that takes one, then
``$MODELARTS_LANGUAGE``, then the first of ``$LC_ALL``, ``$LC_MESSAGES``, ``$LANG`` that is set
(POSIX order); anything naming Chinese (``zh_CN.UTF-8``, ``zh-Hans``, ``zh``) is ``zh-CN``,
anything else ``en``. Inside ``with speaking(language):`` (and on the threads a job started there
passes it to with ``contextvars.copy_context()``) text made without ``language=`` is in that
language: a widget's delete and restore jobs speak the widget's language, not the kernel's.
"""

from __future__ import annotations

import json
import logging
import os
import re
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Union

log = logging.getLogger("modelarts_widgets")

LANGUAGES = ("en", "zh-CN")
DEFAULT_LANGUAGE = "en"
LANGUAGE_ENV = "MODELARTS_LANGUAGE"
_LOCALE_ENV = ("LC_ALL", "LC_MESSAGES", "LANG")
_LOCALES = Path(__file__).parent / "locales"
_WARNED: set[str] = set()  # values of $MODELARTS_LANGUAGE already warned about
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

Entry = Union[str, dict[str, str]]
# The language chosen by an enclosing speaking(); None: language_for's environment rules.
_SPOKEN: ContextVar[str | None] = ContextVar("modelarts_widgets_language", default=None)


@cache
def catalog(language: str) -> dict[str, Entry]:
    """The catalog of one of :data:`LANGUAGES`, as key -> text or plural forms."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    data: dict[str, Entry] = json.loads((_LOCALES / f"{language}.json").read_text(encoding="utf-8"))
    return data


def _supported(tag: str) -> str | None:
    base = re.split(r"[-_.@]", tag.strip(), maxsplit=1)[0].lower()
    return {"en": "en", "zh": "zh-CN", "c": "en", "posix": "en"}.get(base)


PAGE_PREFIXES = ("page.", "hint.")


def page_catalogs() -> dict[str, dict[str, Entry]]:
    """What the page needs of every catalog (its own words and our hints), by language."""
    return {
        language: {k: v for k, v in catalog(language).items() if k.startswith(PAGE_PREFIXES)}
        for language in LANGUAGES
    }


def normalize(tag: str | None) -> str | None:
    """The catalog language a language tag or POSIX locale names, or None for an empty value.

    ``zh_CN.UTF-8``, ``zh-CN``, ``zh-Hans``, ``zh`` -> ``zh-CN``, and so do ``zh_TW`` and
    ``zh-Hant`` (the one Chinese catalog is Simplified); ``en_US``, ``C``, ``POSIX`` and
    languages without a catalog -> ``en``.
    """
    if not (tag or "").strip():
        return None
    return _supported(str(tag)) or DEFAULT_LANGUAGE


def language_for(language: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """The language of kernel text: ``language`` if given, else from the environment.

    Raises ``ValueError`` when ``language`` is given and names neither English nor Chinese
    (``en``, ``en-US``, ``zh-CN``, ``zh_CN`` and the like are accepted).
    """
    if language is not None:
        chosen = _supported(language)
        if chosen is None:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
        return chosen
    env = os.environ if env is None else env
    explicit = env.get(LANGUAGE_ENV, "").strip()
    if explicit:
        chosen = _supported(explicit)
        if chosen is not None:
            return chosen
        if explicit not in _WARNED:  # every text looks the language up: say it once per value
            _WARNED.add(explicit)
            log.warning("%s=%r names no catalog (%s); ignored", LANGUAGE_ENV, explicit, ", ".join(LANGUAGES))
    for name in _LOCALE_ENV:
        chosen = normalize(env.get(name))
        if chosen is not None:
            return chosen
    return DEFAULT_LANGUAGE


@contextmanager
def speaking(language: str | None) -> Iterator[None]:
    """Text made inside without its own ``language=`` is in ``language`` (None: unchanged).

    Threads started inside keep it only when started with ``contextvars.copy_context().run``,
    as the SDK's bulk jobs do."""
    token = _SPOKEN.set(language_for(language) if language else _SPOKEN.get())
    try:
        yield
    finally:
        _SPOKEN.reset(token)


def plural_form(language: str, count: object) -> str:
    """The CLDR plural category of ``count``: English has one/other, Chinese only other."""
    if language == "en" and count == 1:
        return "one"
    return "other"


def fill(text: str, params: Mapping[str, object]) -> str:
    """Replace each ``{name}`` by ``params[name]``; unknown names are left as written."""
    return _PLACEHOLDER.sub(lambda m: str(params[m.group(1)]) if m.group(1) in params else m.group(0), text)


def t(key: str, *, lang: str | None = None, **params: object) -> str:
    """The text of ``key`` in ``lang`` (default: :func:`language_for`), placeholders filled.

    A plural entry picks its form by ``params["count"]``. A key missing from the chosen
    catalog falls back to English, then to the key itself (tests keep both catalogs complete).
    """
    language = language_for(lang if lang is not None else _SPOKEN.get())
    entry = catalog(language).get(key)
    if entry is None:
        entry = catalog(DEFAULT_LANGUAGE).get(key, key)
    if isinstance(entry, dict):
        form = plural_form(language, params.get("count"))
        entry = entry.get(form) or entry["other"]
    return fill(entry, params)


def has(key: str) -> bool:
    """Whether the English catalog (and so, by the tests, every catalog) has ``key``."""
    return key in catalog(DEFAULT_LANGUAGE)


# argparse words its errors in English only: each shape our parsers (magic, doctor) meet, as a key.
_ARGPARSE_ERRORS = (
    (re.compile(r"unrecognized arguments: (?P<args>.+)", re.S), "magic.args.unrecognized"),
    (
        re.compile(r"argument (?P<arg>\S+): invalid (?P<type>\w+) value: (?P<value>.+)", re.S),
        "magic.args.invalid",
    ),
    (re.compile(r"argument (?P<arg>\S+): expected one argument"), "magic.args.expected_one"),
    (
        re.compile(r"argument (?P<arg>\S+): ignored explicit argument (?P<value>.+)", re.S),
        "magic.args.ignored_value",
    ),
    (
        re.compile(r"ambiguous option: (?P<option>\S+) could match (?P<matches>.+)", re.S),
        "magic.args.ambiguous",
    ),
)


def argument_error(message: str) -> str:
    """argparse's error ``message`` in the current language (its own text if of an unknown shape)."""
    for pattern, key in _ARGPARSE_ERRORS:
        found = pattern.fullmatch(message)
        if found:
            return t(key, **found.groupdict())
    return t("magic.bad_arguments", error=message)


def width(text: str) -> int:
    """Columns ``text`` takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def ljust(text: str, columns: int) -> str:
    """``text`` padded with spaces to ``columns`` terminal columns (``str.ljust`` counts characters)."""
    return text + " " * max(columns - width(text), 0)


# What a line may break between: a wide character with the punctuation that must not start a
# line after it and must not end one before it; a run of other non-space characters; spaces.
_WRAP_TOKENS = re.compile(
    "[\uff08\u300c\u300e\u300a\u3010]*[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]"
    "[\uff0c\u3002\u3001\uff1b\uff1a\uff09\u300d\u300f\u300b\u3011\uff01\uff1f]*"
    "|[^\\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+|\\s+"
)


def wrap(text: str, columns: int) -> list[str]:
    """``text`` in lines of at most ``columns`` terminal columns (one word longer than that gets
    a line of its own): broken at spaces and between CJK characters, which take two columns
    (``textwrap``, and so argparse's help, counts them as one)."""
    lines: list[str] = []
    line = ""
    for token in _WRAP_TOKENS.findall(" ".join(text.split())):
        if line.strip() and width(line.rstrip() + token.rstrip()) > columns:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    return [*lines, line.rstrip()] if line.strip() else lines


class WideHelpFormatter:
    """A mixin for an ``argparse.HelpFormatter`` (first in the bases): help text with CJK is
    wrapped by :func:`wrap`; other text as argparse does."""

    def _split_lines(self, text: str, columns: int) -> list[str]:
        if width(text) == len(text):
            lines: list[str] = super()._split_lines(text, columns)  # type: ignore[misc]
            return lines
        return wrap(text, columns)


__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "WideHelpFormatter",
    "argument_error",
    "catalog",
    "language_for",
    "ljust",
    "normalize",
    "page_catalogs",
    "speaking",
    "t",
    "wrap",
]
