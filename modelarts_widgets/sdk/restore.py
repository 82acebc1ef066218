"""``BulkRestore``: re-create many configs from one backup file, shaped like ``BulkDelete``.

Used by :func:`.trash.restore`, the widget's Undo and Trash view, and ``%modelarts_delete
--restore``. The backup file is read once per job, before anything is sent.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from modelarts_widgets.i18n import t

from . import errors
from .configs import CONFIGS, RESEND_ATTEMPTS, Status, config_path, is_not_found, outcome_uncertain
from .errors import BAD_ENTRY, EXISTS, NOT_IN_BACKUP
from .jobs import Job, OnStatus
from .names import is_valid_config_name
from .session import Session
from .states import FAILED, RESTORE_FINAL_STATES, RESTORED, RESTORING, SKIPPED
from .text import visible
from .trash import (
    DEFAULT_RESTORE_CONCURRENCY,
    BackupFile,
    Trash,
    create_body,
)

log = logging.getLogger("modelarts_widgets")

# The states a name goes through here (defined in .states; importable from here too).
FINAL_STATES = RESTORE_FINAL_STATES


def load_backup(
    session: Session,
    backup: str | Path | BackupFile,
    *,
    allow_other_project: bool = False,
    trash: Trash | None = None,
) -> BackupFile:
    """The backup file ``backup`` names (a path, ``"latest"`` or a loaded file), checked.

    Raises ``FileNotFoundError`` when ``"latest"`` finds no backup of ``session``'s project and
    region; ``ValueError`` when the file is no backup file, or was made for another project or
    region and ``allow_other_project`` is false.
    """
    if isinstance(backup, BackupFile):
        file = backup
    else:
        if str(backup) == "latest":
            backup = (trash or Trash()).latest(session)
        file = BackupFile.load(backup)
    if not allow_other_project and not file.same_project(session):
        raise ValueError(
            t(
                "restore.other_project",
                file=file.path.name,
                project=file.project_id or "?",
                region=file.region or "?",
                here=session.project_id,
                here_region=session.region_name or "?",
            )
        )
    return file


def _same_fields(wanted: Mapping[str, Any], details: Mapping[str, Any]) -> bool:
    """True when a config's details hold every field the create call for ``wanted`` sends."""
    try:
        found = create_body(details)
    except errors.ModelArtsError:
        return False
    return all(found.get(key) == value for key, value in wanted.items())


class BulkRestore(Job):
    """Re-create a backup file's configs with bounded concurrency; every name ends with one result.

    ``backup`` is a path, ``"latest"`` (the newest backup for ``session``'s project and region
    in ``trash``) or a loaded :class:`BackupFile`; it is read once, here, and a file made for
    another project or region raises ``ValueError`` unless ``allow_other_project=True``.
    ``names`` limits the job to some of the file's configs (default: all, and the file's unsound
    entries, which fail). For each name: a config that exists already is ``skipped``
    (``Client.Exists``), never overwritten; otherwise it is created. A create whose answer is
    lost or a 5xx is checked with a GET before anything is sent again: if the config now exists
    with the backed-up fields it counts as ``restored``. ``on_status(name, state, result)`` is
    called from worker threads as each name moves through ``restoring`` to a final state
    (``restored``, ``failed``, ``skipped``, ``cancelled``). ``cancel()`` sends nothing more.
    """

    FINAL_STATES = RESTORE_FINAL_STATES
    KIND = "restore"
    THREAD_NAME = "modelarts-bulk-restore"
    STOPPED_KEY = "restore.stopped"
    STARTED_KEY = "restore.started"

    def __init__(
        self,
        session: Session,
        backup: str | Path | BackupFile,
        names: Iterable[str] | None = None,
        *,
        concurrency: int = DEFAULT_RESTORE_CONCURRENCY,
        on_status: OnStatus | None = None,
        allow_other_project: bool = False,
        trash: Trash | None = None,
    ) -> None:
        wanted = list(dict.fromkeys(names)) if names is not None else None
        file = load_backup(session, backup, allow_other_project=allow_other_project, trash=trash)
        if wanted is not None:
            # The file's unsound entries (listed by the Trash view) fail their name, like in a
            # restore of the whole file; any other invalid name is refused before anything is sent.
            bad = [n for n in wanted if not is_valid_config_name(n) and n not in file.problems]
            if bad:
                raise errors.InvalidConfigNameError(bad[0] if len(bad) == 1 else bad)
        else:
            wanted = sorted([*file.configs, *file.problems])  # the file is in backup order
        super().__init__(session, wanted, concurrency, on_status)
        session.ensure_pool_size(concurrency)
        self.file = file
        self.backup_path: Path = file.path

    def _run(self) -> None:
        try:
            work: queue.SimpleQueue[str] = queue.SimpleQueue()
            where = self.file.path.name
            for name in self.names:
                if name in self.file.problems:
                    message = t("restore.bad_entry", file=where, problem=self.file.problems[name])
                    self._set(name, FAILED, errors.failure(BAD_ENTRY, message))
                elif name not in self.file.configs:
                    self._set(
                        name,
                        FAILED,
                        errors.failure(NOT_IN_BACKUP, t("restore.not_in_backup", file=where, name=name)),
                    )
                else:
                    work.put(name)
            workers = [
                threading.Thread(
                    target=contextvars.copy_context().run,
                    args=(self._work, work),
                    name=f"modelarts-restore-{i}",
                    daemon=True,
                )
                for i in range(max(1, min(self.concurrency, len(self.names))))
            ]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
        finally:
            self._finish()

    def _work(self, work: queue.SimpleQueue[str]) -> None:
        while not self._cancel.is_set():
            try:
                name = work.get_nowait()
            except queue.Empty:
                break
            self._set(name, RESTORING)
            try:
                state, result = self._restore_one(name, self.file.configs[name])
            except errors.ModelArtsError as exc:
                state, result = FAILED, exc.as_status()
            except ValueError as exc:  # saved details that make no create body, e.g. a NaN
                state, result = FAILED, errors.failure(errors.INVALID_ARGUMENT, f"{name}: {exc}")
            except Exception as exc:  # a bug must not leave a name without a status
                log.exception("Restoring %s failed unexpectedly", visible(name))
                state, result = (
                    FAILED,
                    errors.failure(errors.UNEXPECTED, t("error.unexpected", error=type(exc).__name__)),
                )
            if result.get("error_code") in (errors.CANCELLED, errors.UNREACHABLE):
                continue  # refused before it left: not created; _finish gives the job's reason
            self._set(name, state, result)
            if result.get("error_code") in errors.CREDENTIAL_CODES:
                self._stop(result)

    def _lookup(self, name: str) -> dict[str, Any] | None:
        """The config's details now, or None when it does not exist."""
        try:
            return self._calls.call("GET", config_path(name))
        except errors.ModelArtsError as exc:
            if is_not_found(exc):
                return None
            raise

    def _restore_one(self, name: str, details: Mapping[str, Any]) -> tuple[str, Status]:
        body = create_body(details)
        if self._lookup(name) is not None:
            return SKIPPED, errors.failure(EXISTS, t("restore.exists", name=name))
        last: errors.ModelArtsError | None = None
        for _ in range(RESEND_ATTEMPTS):
            try:
                self._calls.call("POST", CONFIGS, json_body=body)
            except errors.ModelArtsError as exc:
                if not outcome_uncertain(exc):
                    return FAILED, exc.as_status()
                last = exc
            else:
                return RESTORED, {"is_success": True}
            # The answer was lost or a 5xx: the create may have happened. Look before resending.
            try:
                now = self._lookup(name)
            except errors.ModelArtsError:
                return FAILED, errors.failure(
                    last.error_code or "", t("restore.unknown", error=last.error_msg)
                )
            if now is not None:
                if _same_fields(body, now):
                    return RESTORED, {"is_success": True}
                return SKIPPED, errors.failure(EXISTS, t("restore.appeared", name=name))
            if self._cancel.is_set():  # not there; sending it again is what a stopped job must not do
                return FAILED, errors.failure(
                    last.error_code or "", t("restore.not_created_stopped", error=last.error_msg)
                )
        assert last is not None
        return FAILED, errors.failure(
            last.error_code or "", t("restore.not_created", error=last.error_msg, attempts=RESEND_ATTEMPTS)
        )
