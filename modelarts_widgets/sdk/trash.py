"""The trash: every config's details are saved before a bulk delete, so it can be re-created.

ModelArts has no undo for deleted configs. A backup file holds the details of the configs one
run was about to delete (plus time, project and region); :func:`restore` re-creates them through
the documented create call. A name that exists again is skipped, never overwritten.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from . import configs, errors
from .configs import CONFIGS, Status, config_exists, config_path, outcome_uncertain
from .names import is_valid_config_name
from .session import Session

TRASH_ENV = "MODELARTS_TRASH_DIR"
KEEP_DAYS_ENV = "MODELARTS_TRASH_KEEP_DAYS"
KEEP_FILES_ENV = "MODELARTS_TRASH_KEEP_FILES"
DEFAULT_KEEP_DAYS = 30.0
DEFAULT_KEEP_FILES = 100
FORMAT = "modelarts-widgets/config-backup@1"

EXISTS = "Client.Exists"
BACKUP_FAILED = "Client.BackupFailed"


def create_body(details: Mapping[str, Any]) -> dict[str, Any]:
    """The create call's body for a config whose details were saved (see :func:`configs.create_body`).

    The API takes one data source. Details can show two views of the same one (``data_url`` and
    a one-entry ``data_source`` that repeats it); then the simple form is sent, otherwise
    ``data_source``, else the dataset ids, else ``data_url``. Empty values are left out, so the
    server applies its defaults again.
    """
    return configs.create_body(details)


@dataclass(frozen=True)
class BackupFile:
    """One run's backup: where it is, when, which project, and the saved configs."""

    path: Path
    created_at: str
    project_id: str
    region: str
    configs: dict[str, dict[str, Any]]

    @classmethod
    def load(cls, path: str | Path) -> BackupFile:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path} is not a readable backup file ({type(exc).__name__})") from None
        if (
            not isinstance(data, dict)
            or data.get("format") != FORMAT
            or not isinstance(data.get("configs"), dict)
        ):
            raise ValueError(f"{path} is not a modelarts-widgets backup file")
        return cls(
            path=path,
            created_at=str(data.get("created_at", "")),
            project_id=str(data.get("project_id", "")),
            region=str(data.get("region", "")),
            configs=data["configs"],
        )


class Trash:
    """A folder of backup files, with retention (default ``~/.modelarts_widgets/trash``)."""

    def __init__(
        self,
        folder: str | Path | None = None,
        *,
        keep_days: float | None = None,
        keep_files: int | None = None,
    ) -> None:
        env = os.environ
        self.folder = Path(folder or env.get(TRASH_ENV) or Path.home() / ".modelarts_widgets" / "trash")
        self.keep_days = (
            keep_days if keep_days is not None else float(env.get(KEEP_DAYS_ENV, DEFAULT_KEEP_DAYS))
        )
        self.keep_files = (
            keep_files if keep_files is not None else int(env.get(KEEP_FILES_ENV, DEFAULT_KEEP_FILES))
        )

    def __repr__(self) -> str:
        return f"Trash({str(self.folder)!r})"

    def write(self, session: Session, configs: Mapping[str, Mapping[str, Any]]) -> Path:
        """Save ``configs`` (name -> details) as a new backup file, then prune old files."""
        self.folder.mkdir(parents=True, exist_ok=True)
        now = datetime.now(timezone.utc)
        path = self.folder / f"backup-{now:%Y%m%dT%H%M%S-%f}-{secrets.token_hex(2)}.json"
        data = {
            "format": FORMAT,
            "created_at": now.isoformat(timespec="seconds"),
            "project_id": session.project_id,
            "region": session.region_name or "",
            "endpoint": session.endpoint,
            "configs": {name: dict(details) for name, details in configs.items()},
        }
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        partial.replace(path)  # a reader never sees half a file
        self.prune(keep=path)
        return path

    def files(self) -> list[Path]:
        """Backup files, newest first."""
        if not self.folder.is_dir():
            return []
        return sorted(self.folder.glob("backup-*.json"), key=lambda p: p.name, reverse=True)

    def latest(self) -> Path:
        files = self.files()
        if not files:
            raise FileNotFoundError(f"No backup files in {self.folder}")
        return files[0]

    def prune(self, keep: Path | None = None) -> list[Path]:
        """Remove files older than ``keep_days`` or beyond the newest ``keep_files``; never ``keep``."""
        files = self.files()
        newest = keep or (files[0] if files else None)
        cutoff = time.time() - self.keep_days * 86_400
        removed = []
        for index, path in enumerate(files):
            if path == newest:
                continue
            if index >= self.keep_files or path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed.append(path)
        return removed


def trash_for(backup: Trash | bool) -> Trash | None:
    """The trash a ``backup=`` option means: True for the default one, False for none."""
    return Trash() if backup is True else (backup or None)


Details = dict[str, Any]


def fetch_details(
    session: Session,
    names: Sequence[str],
    *,
    concurrency: int = 8,
    cancelled: Callable[[], bool] | None = None,
    on_fetched: Callable[[str], None] | None = None,
) -> dict[str, Details | errors.ModelArtsError]:
    """Name -> its details, or the error that kept them from being read (fetched concurrently).

    ``on_fetched(name)`` is called as each name's details arrive.
    """

    def one(name: str) -> Details | errors.ModelArtsError:
        if cancelled is not None and cancelled():
            return errors.ModelArtsError("Not read: the run was stopped first", errors.CANCELLED)
        try:
            details = session.call("GET", config_path(name))
        except errors.ModelArtsError as exc:
            return exc
        details.pop("is_success", None)
        if on_fetched is not None:
            on_fetched(name)
        return details

    with ThreadPoolExecutor(
        max(1, min(concurrency, len(names) or 1)), thread_name_prefix="modelarts-backup"
    ) as pool:
        return dict(zip(names, pool.map(one, names)))


def restore(
    session: Session,
    backup: str | Path | BackupFile,
    names: Iterable[str] | None = None,
    *,
    concurrency: int = 4,
    on_result: Callable[[str, Status], None] | None = None,
) -> dict[str, Status]:
    """Re-create configs from a backup file; name -> the same result dict as the other calls.

    ``names`` limits it to some of the file's configs. A config whose name exists again is
    skipped with ``Client.Exists``; it is never overwritten. ``on_result(name, result)`` is
    called (from worker threads) as each name finishes.
    """
    file = backup if isinstance(backup, BackupFile) else BackupFile.load(backup)
    wanted = list(dict.fromkeys(names)) if names is not None else list(file.configs)
    bad = [n for n in wanted if not is_valid_config_name(n)]
    if bad:
        raise errors.InvalidConfigNameError(bad[0])

    def one(name: str) -> Status:
        result = _restore_one(name)
        if on_result is not None:
            on_result(name, result)
        return result

    def _restore_one(name: str) -> Status:
        details = file.configs.get(name)
        if details is None:
            return errors.failure("Client.NotInBackup", f"{file.path.name} has no {name}")
        try:
            if config_exists(session, name):
                return errors.failure(EXISTS, f"A config named {name} exists again; it was not overwritten")
            session.call("POST", CONFIGS, json_body=create_body(details))
        except errors.ModelArtsError as exc:
            if outcome_uncertain(exc):  # the answer was lost: look before calling it failed
                try:
                    if config_exists(session, name):
                        return {"is_success": True}
                except errors.ModelArtsError:
                    pass
            return exc.as_status()
        except ValueError as exc:  # saved details that make no create body, e.g. a NaN
            return errors.failure(errors.INVALID_ARGUMENT, f"{name}: {exc}")
        return {"is_success": True}

    with ThreadPoolExecutor(
        max(1, min(concurrency, len(wanted) or 1)), thread_name_prefix="modelarts-restore"
    ) as pool:
        return dict(zip(wanted, pool.map(one, wanted)))
