"""What a deletion run (or a dry run) did, per name, readable as text and as HTML."""

from __future__ import annotations

import html
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from .i18n import ljust, t, width
from .sdk import errors, states
from .sdk.configs import Status
from .sdk.errors import EXISTS
from .sdk.text import visible

# The one bucket each name of a real run ends in (spelled in .sdk.states), in summary order.
DELETED, GONE, FAILED, NOT_SENT, PROTECTED, NOT_FOUND = (
    states.DELETED,
    states.ALREADY_GONE,
    states.FAILED,
    states.NOT_SENT,
    states.PROTECTED,
    states.NOT_FOUND,
)
# A dry run's buckets: they exist only in the report.
WOULD_DELETE, AGE_UNKNOWN, SEARCH_ONLY = "would delete", "age unknown", "search only"
NOT_FOUND_CODE = errors.NOT_FOUND
# Catalog keys of the headings over configs a filter could not confirm.
AGE_UNKNOWN_HEADING = "report.heading.age_unknown"
SEARCH_ONLY_HEADING = "report.heading.search_only"
# Catalog keys: what each bucket adds to the summary, and its word in the Outcome column.
_PARTS = {GONE: "report.part.already_gone", FAILED: "report.part.failed", NOT_SENT: "report.part.not_sent"}
_OUTCOMES = {
    DELETED: "report.outcome.deleted",
    GONE: "report.outcome.already_gone",
    FAILED: "report.outcome.failed",
    NOT_SENT: "report.outcome.not_sent",
    PROTECTED: "report.outcome.protected",
    NOT_FOUND: "report.outcome.not_found",
    WOULD_DELETE: "report.outcome.would_delete",
    AGE_UNKNOWN: "report.outcome.age_unknown",
    SEARCH_ONLY: "report.outcome.search_only",
}


def outcome_text(which: str, language: str | None = None) -> str:
    """A bucket as the report's Outcome column shows it, in ``language``."""
    return t(_OUTCOMES[which], lang=language) if which in _OUTCOMES else which


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
        return "" if ms is None or ms == "" else t("report.invalid_time", value=visible(repr(ms))[:40])
    try:
        moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc).astimezone()
    except (OverflowError, ValueError, OSError):
        return t("report.invalid_time", value=visible(repr(ms))[:40])
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{moment:%Y-%m-%d %H:%M} UTC{sign}{hours:02d}:{minutes:02d}"


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
    language: str | None = None  # of the text; None: $MODELARTS_LANGUAGE, then the locale (i18n)
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
                out[name] = WOULD_DELETE
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
        lang = self.language
        if self.nothing_matches:
            if self.criteria:
                return t("report.nothing_matches_criteria", lang=lang, criteria=self.criteria)
            return t("report.nothing_matches", lang=lang)
        counts = self.counts()
        if self.dry_run:
            text = t("report.dry_run", lang=lang, count=counts.get(WOULD_DELETE, 0))
        else:
            text = t("report.deleted", lang=lang, deleted=counts.get(DELETED, 0), total=len(self.planned))
            for which in (GONE, FAILED, NOT_SENT):
                if counts.get(which):
                    text += t(_PARTS[which], lang=lang, count=counts[which])
        if counts.get(PROTECTED):
            text += t("report.part.protected", lang=lang, count=counts[PROTECTED])
        if counts.get(NOT_FOUND):
            text += t("report.part.not_found", lang=lang, count=counts[NOT_FOUND])
        if self.age_unknown:
            text += t("report.part.age_unknown", lang=lang, count=len(self.age_unknown))
        if self.search_unmatched:
            text += t("report.part.search_only", lang=lang, count=len(self.search_unmatched))
        return text

    def _lines(self) -> list[tuple[str, str, str, str]]:
        """(name, outcome, created, description or error) per name, each name once."""
        configs = {str(c["config_name"]): c for c in self.planned}
        rows = []
        for name, which in self.buckets().items():
            config = configs.get(name, {})
            if which == WOULD_DELETE:
                detail = str(config.get("config_desc") or "")
            elif which == PROTECTED:
                detail = self.skipped.get(name) or str(self.results.get(name, {}).get("error_msg", ""))
            elif which == NOT_FOUND:
                detail = t("report.not_in_project", lang=self.language)
            elif which in (DELETED, GONE):
                detail = t("report.gone_detail", lang=self.language) if which == GONE else ""
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
                (str(c["config_name"]), AGE_UNKNOWN, "", f"create_time: {c.get('create_time')!r}")
                for c in self.age_unknown
            ]
            sections.append((AGE_UNKNOWN_HEADING, rows))
        if self.search_unmatched:
            rows = [
                (
                    str(c["config_name"]),
                    SEARCH_ONLY,
                    created_text(c.get("create_time")),
                    str(c.get("config_desc") or ""),
                )
                for c in self.search_unmatched
            ]
            sections.append((SEARCH_ONLY_HEADING, rows))
        return sections

    def backup_note(self) -> str:
        lang = self.language
        if self.dry_run:
            count = len(self.planned)
            if not self.backups:
                return t("report.dry_backups_off", lang=lang, count=count) if self.planned else ""
            return t("report.would_save", lang=lang, folder=self.backup, count=count) if self.planned else ""
        removed = self.deleted + self.already_gone
        undoable = [n for n in removed if self.backed_up is None or n in self.backed_up]
        if self.backup and undoable:
            return t("report.backup", lang=lang, file=self.backup, restore=shlex.quote(self.backup))
        if self.backup and removed:  # those removed were gone before they could be saved
            return t("report.backup_of_others", lang=lang, file=self.backup)
        if not self.backups:
            return t("report.backups_off", lang=lang, count=len(self.deleted)) if self.deleted else ""
        if not self.planned:
            return ""
        if removed:
            return t("report.no_backup_written", lang=lang)
        if self.backup:  # pipelined backups: some were saved, none of them deleted
            return t("report.backup_nothing_deleted", lang=lang, file=self.backup)
        return t("report.no_backup_nothing_deleted", lang=lang)

    def _ending(self, flag: str = "--yes") -> str:
        """What follows the summary: a full stop, and in a dry run how to really delete."""
        end = t("report.end", lang=self.language)
        space = " " if end == "." else ""
        if not self.planned:  # nothing could go: no --yes advice, and how to widen for unknown names
            return end + space + t("report.widen", lang=self.language) if self.not_found else end
        if not self.dry_run:
            return end
        return end + space + t("report.nothing_deleted", lang=self.language, flag=flag)

    def __repr__(self) -> str:
        lang = self.language
        if self.nothing_matches:
            return visible(
                t(
                    "report.nothing_matches_repr",
                    lang=lang,
                    summary=self.summary(),
                    widen=t("report.widen", lang=lang),
                )
            )
        lines = [visible(self.summary() + self._ending())]
        if self.interrupted:
            lines.append(t("report.interrupted", lang=lang))
        note = self.backup_note()
        if note:
            lines.append(visible(note))
        # After a real run the deleted names were printed as they went; list what needs a look.
        rows = [row for row in self._lines() if self.dry_run or row[1] != DELETED]
        lines += _table(rows, lang)
        for heading, section in self._unchosen():
            lines.append(t("report.section", lang=lang, heading=t(heading, lang=lang)))
            lines += _table(section, lang)
        return "\n".join(lines)

    def __str__(self) -> str:
        return repr(self)

    def _repr_html_(self) -> str:
        lang = self.language
        if self.nothing_matches:
            return f"<p>{html.escape(repr(self))}</p>"

        def cells(rows: list[tuple[str, str, str, str]]) -> str:
            return "".join(
                "<tr>"
                + "".join(
                    f"<td>{html.escape(value)}</td>"
                    for value in (outcome_text(outcome, lang), name, created, detail)
                )
                + "</tr>"
                for name, outcome, created, detail in rows
            )

        body = cells(self._lines())
        for heading, section in self._unchosen():
            body += f'<tr><th colspan="4">{html.escape(t(heading, lang=lang))}</th></tr>' + cells(section)
        head = "".join(
            f"<th>{html.escape(t(f'report.head.{h}', lang=lang))}</th>"
            for h in ("outcome", "name", "created", "details")
        )
        marker = "\x00flag\x00"  # escaped text around it, the <code> element put in after
        ending = html.escape(self._ending(marker)).replace(marker, "<code>--yes</code>")
        backup_note = self.backup_note()
        backup = f"<br>{html.escape(backup_note)}" if backup_note else ""
        return (
            f"<p>{html.escape(self.summary())}{ending}{backup}</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )


def _table(rows: list[tuple[str, str, str, str]], language: str | None = None) -> list[str]:
    """Aligned text lines, one per row, every field escaped so that it stays on its line.

    Widths are terminal columns (a CJK character takes two), so Chinese lines align too."""
    shown = [
        (visible(name), outcome_text(outcome, language), visible(created), visible(detail))
        for name, outcome, created, detail in rows
    ]
    name_width = max((width(r[0]) for r in shown), default=0)
    outcome_width = max([12, *(width(r[1]) for r in shown)])
    lines = []
    for name, outcome, created, detail in shown:
        line = f"  {ljust(outcome, outcome_width)} {ljust(name, name_width)}  {ljust(created, 23)}  {detail}"
        lines.append(line.rstrip())
    return lines


@dataclass
class RestoreReport(_ResultsByName):
    """Name -> the result of re-creating it from ``backup``."""

    backup: str
    results: dict[str, Status] = field(default_factory=dict)
    language: str | None = None  # of the text; None: $MODELARTS_LANGUAGE, then the locale (i18n)

    @property
    def restored(self) -> list[str]:
        return [n for n, r in self.results.items() if r.get("is_success")]

    def summary(self) -> str:
        skipped = sum(1 for r in self.results.values() if r.get("error_code") == EXISTS)
        # Never sent (the job was stopped first): "not sent", as a delete's report says it.
        not_sent = sum(1 for r in self.results.values() if bucket(r) == NOT_SENT)
        failed = len(self.results) - len(self.restored) - skipped - not_sent
        lang = self.language
        count = {"restored": len(self.restored), "total": len(self.results)}
        text = t("report.restored", lang=lang, backup=self.backup, **count)
        if skipped:
            text += t("report.part.exists", lang=lang, count=skipped)
        if failed:
            text += t("report.part.failed", lang=lang, count=failed)
        if not_sent:
            text += t("report.part.not_sent", lang=lang, count=not_sent)
        return text

    def __repr__(self) -> str:
        lines = [visible(self.summary() + t("report.end", lang=self.language))]
        done = t("report.outcome.restored", lang=self.language)
        not_done = t("report.outcome.not_restored", lang=self.language)
        unsent = outcome_text(NOT_SENT, self.language)
        column = max(width(done), width(not_done), width(unsent))
        for name, result in self.results.items():
            if result.get("is_success"):
                lines.append(f"  {ljust(done, column)} {visible(name)}")
            else:
                outcome = unsent if bucket(result) == NOT_SENT else not_done
                detail = visible(f"{result.get('error_code')}: {result.get('error_msg')}")
                lines.append(f"  {ljust(outcome, column)} {visible(name)}  {detail}")
        return "\n".join(lines)
