"""What a deletion run (or a dry run) did, per name, readable as text and as HTML."""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .sdk.estimator import Status
from .sdk.trash import EXISTS


def created_text(ms: object) -> str:
    if not isinstance(ms, (int, float)) or ms <= 0:
        return ""
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M")


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
    """

    dry_run: bool
    planned: list[Mapping[str, Any]] = field(default_factory=list)
    results: dict[str, Status] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    not_found: list[str] = field(default_factory=list)
    project: str = ""
    backup: str = ""  # the backup file written (or, in a dry run, the folder it would go to)
    criteria: str = ""  # what chose the names, e.g. "--match 'tmp-*'", for "nothing matches"

    @property
    def nothing_matches(self) -> bool:
        """True when the names and filters chose no config at all."""
        return not self.planned and not self.skipped and not self.not_found

    @property
    def deleted(self) -> list[str]:
        return [n for n, r in self.results.items() if r.get("is_success")]

    @property
    def failed(self) -> dict[str, Status]:
        """Deletes that were tried (or cut short) and did not succeed: not the protected or unknown."""
        left_out = set(self.skipped) | set(self.not_found)
        return {n: r for n, r in self.results.items() if not r.get("is_success") and n not in left_out}

    def _next_step(self) -> str:
        """After the summary: what to do next, for a dry run; how to widen, when nothing can go."""
        if self.planned:
            return " Nothing was deleted; add --yes to delete." if self.dry_run else ""
        return f" Nothing was deleted. {WIDEN}" if self.not_found else " Nothing was deleted."

    def summary(self) -> str:
        if self.nothing_matches:
            return f"Nothing matches {self.criteria}" if self.criteria else "Nothing matches"
        if self.dry_run:
            text = f"Dry run: would delete {len(self.planned)} config{'s' if len(self.planned) != 1 else ''}"
        else:
            text = f"Deleted {len(self.deleted)} of {len(self.planned)}"
            if self.failed:
                text += f", {len(self.failed)} failed"
        if self.skipped:
            text += f", {len(self.skipped)} protected (skipped)"
        if self.not_found:
            text += f", {len(self.not_found)} not found"
        return text

    def _lines(self) -> list[tuple[str, str, str, str]]:
        """(name, outcome, created, description or error) per name."""
        rows = []
        for config in self.planned:
            name = str(config["config_name"])
            if self.dry_run:
                outcome, detail = "would delete", str(config.get("config_desc") or "")
            else:
                result = self.results.get(name, {})
                if result.get("is_success"):
                    outcome, detail = "deleted", ""
                else:
                    outcome = "not sent" if result.get("error_code") == "Client.Cancelled" else "failed"
                    detail = f"{result.get('error_code', '')}: {result.get('error_msg', '')}"
            rows.append((name, outcome, created_text(config.get("create_time")), detail))
        rows += [(n, "skipped", "", reason) for n, reason in self.skipped.items()]
        rows += [(n, "not found", "", "no config of this name in the project") for n in self.not_found]
        return rows

    def backup_note(self) -> str:
        if not self.planned:
            return ""  # nothing to delete, so nothing backed up (--restore latest is an older run's)
        if not self.backup:
            return (
                "Backups were off: the deleted configs cannot be restored."
                if not self.dry_run and self
                else ""
            )
        if self.dry_run:
            return f"Their details would be saved in {self.backup} first."
        return f"Backup: {self.backup} (undo with %modelarts_delete --restore latest)."

    def __repr__(self) -> str:
        if self.nothing_matches:
            return f"{self.summary()}; nothing was deleted. {WIDEN}"
        lines = [self.summary() + "." + self._next_step()]
        note = self.backup_note()
        if note:
            lines.append(note)
        # After a real run the deleted names were printed as they went; list what needs a look.
        rows = [row for row in self._lines() if self.dry_run or row[1] != "deleted"]
        width = max((len(r[0]) for r in rows), default=0)
        lines += [
            f"  {outcome:<12} {name:<{width}}  {created:<16}  {detail}".rstrip()
            for name, outcome, created, detail in rows
        ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        if self.nothing_matches:
            return f"<p>{html.escape(repr(self))}</p>"
        cells = "".join(
            "<tr>"
            + "".join(f"<td>{html.escape(value)}</td>" for value in (outcome, name, created, detail))
            + "</tr>"
            for name, outcome, created, detail in self._lines()
        )
        head = "".join(f"<th>{h}</th>" for h in ("Outcome", "Name", "Created", "Details"))
        note = html.escape(self._next_step()).replace("--yes", "<code>--yes</code>")
        backup_note = self.backup_note()
        backup = f"<br>{html.escape(backup_note)}" if backup_note else ""
        return (
            f"<p>{html.escape(self.summary())}.{note}{backup}</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>"
        )


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
        lines = [self.summary() + "."]
        for name, result in self.results.items():
            if result.get("is_success"):
                lines.append(f"  restored     {name}")
            else:
                lines.append(f"  not restored {name}  {result.get('error_code')}: {result.get('error_msg')}")
        return "\n".join(lines)
