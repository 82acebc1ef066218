"""What a deletion run (or a dry run) did, per name, readable as text and as HTML."""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .i18n import ljust, t, width
from .sdk.estimator import Status
from .sdk.trash import EXISTS


def created_text(ms: object) -> str:
    if not isinstance(ms, (int, float)) or ms <= 0:
        return ""
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M")


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
    """

    dry_run: bool
    planned: list[Mapping[str, Any]] = field(default_factory=list)
    results: dict[str, Status] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    not_found: list[str] = field(default_factory=list)
    project: str = ""
    backup: str = ""  # the backup file written (or, in a dry run, the folder it would go to)
    language: str | None = None  # of the text; None: $MODELARTS_LANGUAGE, then the locale (i18n)

    @property
    def deleted(self) -> list[str]:
        return [n for n, r in self.results.items() if r.get("is_success")]

    @property
    def failed(self) -> dict[str, Status]:
        return {n: r for n, r in self.results.items() if not r.get("is_success") and n not in self.skipped}

    def summary(self) -> str:
        lang = self.language
        if self.dry_run:
            text = t("report.dry_run", lang=lang, count=len(self.planned))
        else:
            text = t("report.deleted", lang=lang, deleted=len(self.deleted), total=len(self.planned))
            if self.failed:
                text += t("report.part.failed", lang=lang, count=len(self.failed))
        if self.skipped:
            text += t("report.part.protected", lang=lang, count=len(self.skipped))
        if self.not_found:
            text += t("report.part.not_found", lang=lang, count=len(self.not_found))
        return text

    def _lines(self) -> list[tuple[str, str, str, str]]:
        """(name, outcome, created, description or error) per name."""
        rows = []
        for config in self.planned:
            name = str(config["config_name"])
            if self.dry_run:
                outcome, detail = "would_delete", str(config.get("config_desc") or "")
            else:
                result = self.results.get(name, {})
                if result.get("is_success"):
                    outcome, detail = "deleted", ""
                else:
                    outcome = "not_sent" if result.get("error_code") == "Client.Cancelled" else "failed"
                    detail = f"{result.get('error_code', '')}: {result.get('error_msg', '')}"
            rows.append((name, outcome, created_text(config.get("create_time")), detail))
        rows += [(n, "skipped", "", reason) for n, reason in self.skipped.items()]
        not_in_project = t("report.not_in_project", lang=self.language)
        rows += [(n, "not_found", "", not_in_project) for n in self.not_found]
        return [(n, t(f"report.outcome.{o}", lang=self.language), c, d) for n, o, c, d in rows]

    def backup_note(self) -> str:
        lang = self.language
        if not self.backup:
            return t("report.backups_off", lang=lang) if not self.dry_run and self else ""
        if self.dry_run:
            return t("report.would_save", lang=lang, folder=self.backup)
        return t("report.backup", lang=lang, file=self.backup)

    def _ending(self, flag: str = "--yes") -> str:
        """What follows the summary: a full stop, and in a dry run how to really delete."""
        end = t("report.end", lang=self.language)
        if not self.dry_run:
            return end
        return end + (" " if end == "." else "") + t("report.nothing_deleted", lang=self.language, flag=flag)

    def __repr__(self) -> str:
        lines = [self.summary() + self._ending()]
        note = self.backup_note()
        if note:
            lines.append(note)
        # After a real run the deleted names were printed as they went; list what needs a look.
        deleted = t("report.outcome.deleted", lang=self.language)
        rows = [row for row in self._lines() if self.dry_run or row[1] != deleted]
        name_width = max((width(r[0]) for r in rows), default=0)
        outcome_width = max([12, *(width(r[1]) for r in rows)])
        lines += [
            f"  {ljust(outcome, outcome_width)} {ljust(name, name_width)}  {created:<16}  {detail}".rstrip()
            for name, outcome, created, detail in rows
        ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        cells = "".join(
            "<tr>"
            + "".join(f"<td>{html.escape(value)}</td>" for value in (outcome, name, created, detail))
            + "</tr>"
            for name, outcome, created, detail in self._lines()
        )
        head = "".join(
            f"<th>{html.escape(t(f'report.head.{h}', lang=self.language))}</th>"
            for h in ("outcome", "name", "created", "details")
        )
        marker = "\x00flag\x00"  # escaped text around it, the <code> element put in after
        ending = html.escape(self._ending(marker)).replace(marker, "<code>--yes</code>")
        backup_note = self.backup_note()
        backup = f"<br>{html.escape(backup_note)}" if backup_note else ""
        return (
            f"<p>{html.escape(self.summary())}{ending}{backup}</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>"
        )


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
        failed = len(self.results) - len(self.restored) - skipped
        lang = self.language
        count = {"restored": len(self.restored), "total": len(self.results)}
        text = t("report.restored", lang=lang, backup=self.backup, **count)
        if skipped:
            text += t("report.part.exists", lang=lang, count=skipped)
        if failed:
            text += t("report.part.failed", lang=lang, count=failed)
        return text

    def __repr__(self) -> str:
        lines = [self.summary() + t("report.end", lang=self.language)]
        done = t("report.outcome.restored", lang=self.language)
        not_done = t("report.outcome.not_restored", lang=self.language)
        column = max(width(done), width(not_done))
        for name, result in self.results.items():
            if result.get("is_success"):
                lines.append(f"  {ljust(done, column)} {name}")
            else:
                error = f"{result.get('error_code')}: {result.get('error_msg')}"
                lines.append(f"  {ljust(not_done, column)} {name}  {error}")
        return "\n".join(lines)
