"""What a deletion run (or a dry run) did, per name, readable as text and as HTML."""

from __future__ import annotations

import html
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from .sdk import errors
from .sdk.estimator import Status
from .sdk.text import visible
from .sdk.trash import EXISTS

# The one bucket each name of a real run ends in, in the order the summary counts them.
DELETED, GONE, FAILED, NOT_SENT, PROTECTED, NOT_FOUND = (
    "deleted",
    "already gone",
    "failed",
    "not sent",
    "protected",
    "not found",
)
NOT_FOUND_CODE = "Client.NotFound"
AGE_UNKNOWN_HEADING = "Age unknown, not chosen"
SEARCH_ONLY_HEADING = "Returned by the server's search, not chosen"


def bucket(result: Status) -> str:
    """The bucket of one ``delete_job_configs()`` dict."""
    if result.get("is_success"):
        return GONE if result.get("already_gone") else DELETED
    code = result.get("error_code")
    if code == errors.CANCELLED:
        return NOT_SENT
    if code == errors.PROTECTED:
        return PROTECTED
    if code == NOT_FOUND_CODE:
        return NOT_FOUND
    return FAILED


def created_text(ms: object) -> str:
    """A ``create_time`` (ms since the epoch) as local time with its zone.

    ``"2026-11-03 22:24 UTC+08:00"``; ``""`` for a missing or non-numeric value, and
    ``"invalid (…)"`` for a number no clock can show (it never raises).
    """
    if isinstance(ms, bool) or not isinstance(ms, (int, float)) or ms <= 0:
        return "" if ms is None or ms == "" else f"invalid ({visible(repr(ms))[:40]})"
    try:
        moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc).astimezone()
    except (OverflowError, ValueError, OSError):
        return f"invalid ({visible(repr(ms))[:40]})"
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{moment:%Y-%m-%d %H:%M} UTC{sign}{hours:02d}:{minutes:02d}"


WIDEN = (
    "To widen the choice, loosen or drop a filter: a --match glob must match the whole name "
    "(use '*tmp*' to find 'x-tmp-1'), --older-than counts days since creation, and "
    "%modelarts_delete with no arguments shows every config in the widget."
)


class _ResultsByName(Mapping[str, Status]):
    """Reads as name -> result dict, over ``self.results``."""

    results: dict[str, Status]

    def __getitem__(self, name: str) -> Status:
        return self.results[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)


@dataclass
class DeletionReport(_ResultsByName):
    """Name -> the ``delete_job_configs()`` dict of every name that was sent or refused.

    A dry run has no results; ``planned`` lists what would be deleted. ``skipped`` holds the
    protected names (with the reason) and ``not_found`` names that the project does not have.
    ``age_unknown`` and ``search_unmatched`` hold configs that a filter could not confirm and so
    did not choose. Every name counts once, in one bucket: :meth:`buckets`. ``backup`` is the
    backup file this run wrote ("" if none; in a dry run, the folder it would go to) and
    ``backups`` whether backups were on. All text renderings escape control characters
    (:func:`~modelarts_widgets.sdk.text.visible`): one line per config.
    """

    dry_run: bool
    planned: list[Mapping[str, Any]] = field(default_factory=list)
    results: dict[str, Status] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    not_found: list[str] = field(default_factory=list)
    project: str = ""
    backup: str = ""  # the backup file written (or, in a dry run, the folder it would go to)
    criteria: str = ""  # what chose the names, e.g. "--match 'tmp-*'", for "nothing matches"
    backups: bool = True
    age_unknown: list[Mapping[str, Any]] = field(default_factory=list)
    search_unmatched: list[Mapping[str, Any]] = field(default_factory=list)
    interrupted: bool = False
    # Names saved in ``backup`` by this run; None when not known (then every removed name counts).
    backed_up: list[str] | None = None

    @property
    def nothing_matches(self) -> bool:
        """True when the names and filters chose no config and set none aside."""
        aside = (self.skipped, self.not_found, self.age_unknown, self.search_unmatched)
        return not self.planned and not any(aside)

    def buckets(self) -> dict[str, str]:
        """Name -> its one bucket: deleted, already gone, failed, not sent, protected, not found.

        In a dry run the planned names are "would delete".
        """
        out: dict[str, str] = {}
        for config in self.planned:
            name = str(config["config_name"])
            if name in self.skipped:
                out[name] = PROTECTED
            elif name in self.not_found:
                out[name] = NOT_FOUND
            elif self.dry_run:
                out[name] = "would delete"
            elif name in self.results:
                out[name] = bucket(self.results[name])
            else:
                out[name] = NOT_SENT
        for name in self.skipped:
            out.setdefault(name, PROTECTED)
        for name in self.not_found:
            out.setdefault(name, NOT_FOUND)
        for name, result in self.results.items():
            out.setdefault(name, bucket(result))
        return out

    def _names_in(self, which: str) -> list[str]:
        return [n for n, b in self.buckets().items() if b == which]

    @property
    def deleted(self) -> list[str]:
        """Names this run's DELETE removed (not those already gone)."""
        return self._names_in(DELETED)

    @property
    def already_gone(self) -> list[str]:
        """Names that were not there when deleted or backed up (someone else removed them)."""
        return self._names_in(GONE)

    @property
    def not_sent(self) -> list[str]:
        return self._names_in(NOT_SENT)

    @property
    def failed(self) -> dict[str, Status]:
        return {n: self.results.get(n, {}) for n in self._names_in(FAILED)}

    def counts(self) -> dict[str, int]:
        """Bucket -> how many names are in it (each name once)."""
        out: dict[str, int] = {}
        for which in self.buckets().values():
            out[which] = out.get(which, 0) + 1
        return out

    def summary(self) -> str:
        if self.nothing_matches:
            return f"Nothing matches {self.criteria}" if self.criteria else "Nothing matches"
        counts = self.counts()
        if self.dry_run:
            n = counts.get("would delete", 0)
            text = f"Dry run: would delete {n} config{'s' if n != 1 else ''}"
        else:
            sent = len(self.planned)
            text = f"Deleted {counts.get(DELETED, 0)} of {sent}"
            for which in (GONE, FAILED, NOT_SENT):
                if counts.get(which):
                    text += f", {counts[which]} {which}"
        if counts.get(PROTECTED):
            text += f", {counts[PROTECTED]} protected (skipped)"
        if counts.get(NOT_FOUND):
            text += f", {counts[NOT_FOUND]} not found"
        if self.age_unknown:
            text += f", {len(self.age_unknown)} not chosen (age unknown)"
        if self.search_unmatched:
            text += f", {len(self.search_unmatched)} not chosen (only the server's search matched)"
        return text

    def _lines(self) -> list[tuple[str, str, str, str]]:
        """(name, outcome, created, description or error) per name, each name once."""
        configs = {str(c["config_name"]): c for c in self.planned}
        rows = []
        for name, which in self.buckets().items():
            config = configs.get(name, {})
            if which == "would delete":
                detail = str(config.get("config_desc") or "")
            elif which == PROTECTED:
                detail = self.skipped.get(name) or str(self.results.get(name, {}).get("error_msg", ""))
            elif which == NOT_FOUND:
                detail = "no config of this name in the project; nothing was sent"
            elif which in (DELETED, GONE):
                detail = "not there when deleted (removed elsewhere)" if which == GONE else ""
            else:
                result = self.results.get(name, {})
                detail = f"{result.get('error_code', '')}: {result.get('error_msg', '')}"
            rows.append((name, which, created_text(config.get("create_time")), detail))
        return rows

    def _unchosen(self) -> list[tuple[str, list[tuple[str, str, str, str]]]]:
        """The configs a filter could not confirm, under their headings."""
        sections = []
        if self.age_unknown:
            rows = [
                (str(c["config_name"]), "age unknown", "", f"create_time: {c.get('create_time')!r}")
                for c in self.age_unknown
            ]
            sections.append((AGE_UNKNOWN_HEADING, rows))
        if self.search_unmatched:
            rows = [
                (
                    str(c["config_name"]),
                    "search only",
                    created_text(c.get("create_time")),
                    str(c.get("config_desc") or ""),
                )
                for c in self.search_unmatched
            ]
            sections.append((SEARCH_ONLY_HEADING, rows))
        return sections

    def backup_note(self) -> str:
        if self.dry_run:
            if not self.backups:
                return "Backups are off: the deleted configs could not be restored." if self.planned else ""
            return f"Their details would be saved in {self.backup} first." if self.planned else ""
        removed = self.deleted + self.already_gone
        undoable = [n for n in removed if self.backed_up is None or n in self.backed_up]
        if self.backup and undoable:
            return (
                f"Backup: {self.backup} (undo with %modelarts_delete --restore {shlex.quote(self.backup)})."
            )
        if self.backup and removed:  # those removed were gone before they could be saved
            return (
                f"Backup: {self.backup} holds only configs still there; "
                "the removed ones were gone before they could be saved."
            )
        if not self.backups:
            return "Backups were off: the deleted configs cannot be restored." if self.deleted else ""
        if not self.planned:
            return ""
        if removed:
            return "Backups were on, but no backup file was written."
        if self.backup:  # pipelined backups: some were saved, none of them deleted
            return f"Backups were on; nothing was deleted, so {self.backup} holds only configs still there."
        return "Backups were on; no backup file was written, as nothing was deleted."

    def __repr__(self) -> str:
        if self.nothing_matches:
            return visible(f"{self.summary()}; nothing was deleted. {WIDEN}")
        head = self.summary()
        if self.dry_run:
            head += ". Nothing was deleted; add --yes to delete."
        else:
            head += "."
        lines = [visible(head)]
        if self.interrupted:
            lines.append("Interrupted: nothing more was sent; names marked 'not sent' are still there.")
        note = self.backup_note()
        if note:
            lines.append(visible(note))
        # After a real run the deleted names were printed as they went; list what needs a look.
        rows = [row for row in self._lines() if self.dry_run or row[1] != DELETED]
        lines += _table(rows)
        for heading, section in self._unchosen():
            lines.append(f"{heading}:")
            lines += _table(section)
        return "\n".join(lines)

    def __str__(self) -> str:
        return repr(self)

    def _repr_html_(self) -> str:
        if self.nothing_matches:
            return f"<p>{html.escape(repr(self))}</p>"

        def cells(rows: list[tuple[str, str, str, str]]) -> str:
            return "".join(
                "<tr>"
                + "".join(f"<td>{html.escape(value)}</td>" for value in (outcome, name, created, detail))
                + "</tr>"
                for name, outcome, created, detail in rows
            )

        body = cells(self._lines())
        for heading, section in self._unchosen():
            body += f'<tr><th colspan="4">{html.escape(heading)}</th></tr>' + cells(section)
        head = "".join(f"<th>{h}</th>" for h in ("Outcome", "Name", "Created", "Details"))
        note = " Nothing was deleted; add <code>--yes</code> to delete." if self.dry_run else ""
        backup_note = self.backup_note()
        backup = f"<br>{html.escape(backup_note)}" if backup_note else ""
        return (
            f"<p>{html.escape(self.summary())}.{note}{backup}</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )


def _table(rows: list[tuple[str, str, str, str]]) -> list[str]:
    """Aligned text lines, one per row, every field escaped so that it stays on its line."""
    shown = [tuple(visible(value) for value in row) for row in rows]
    width = max((len(r[0]) for r in shown), default=0)
    return [
        f"  {outcome:<12} {name:<{width}}  {created:<23}  {detail}".rstrip()
        for name, outcome, created, detail in shown
    ]


@dataclass
class RestoreReport(_ResultsByName):
    """Name -> the result of re-creating it from ``backup``."""

    backup: str
    results: dict[str, Status] = field(default_factory=dict)

    @property
    def restored(self) -> list[str]:
        return [n for n, r in self.results.items() if r.get("is_success")]

    def summary(self) -> str:
        skipped = sum(1 for r in self.results.values() if r.get("error_code") == EXISTS)
        failed = len(self.results) - len(self.restored) - skipped
        text = f"Restored {len(self.restored)} of {len(self.results)} from {self.backup}"
        if skipped:
            text += f", {skipped} skipped (a config of that name exists again)"
        if failed:
            text += f", {failed} failed"
        return text

    def __repr__(self) -> str:
        lines = [visible(self.summary() + ".")]
        for name, result in self.results.items():
            if result.get("is_success"):
                lines.append(f"  restored     {visible(name)}")
            else:
                detail = visible(f"{result.get('error_code')}: {result.get('error_msg')}")
                lines.append(f"  not restored {visible(name)}  {detail}")
        return "\n".join(lines)
