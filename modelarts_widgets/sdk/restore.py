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
from typing import Any, Callable, Optional

from modelarts_widgets.i18n import t

from . import errors
from .configs import CONFIGS, RESEND_ATTEMPTS, Status, config_path, is_not_found, outcome_uncertain
from .errors import BAD_ENTRY, EXISTS, NOT_IN_BACKUP
from .names import is_valid_config_name
from .session import Session
from .states import CANCELLED, FAILED, QUEUED, RESTORE_FINAL_STATES, RESTORED, RESTORING, SKIPPED
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

OnStatus = Callable[[str, str, Optional[Status]], None]


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


class BulkRestore:
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
        if concurrency < 1:
            raise ValueError(t("bulk.concurrency", value=concurrency))
        wanted = list(dict.fromkeys(names)) if names is not None else None
        self.session = session
        self.file = load_backup(session, backup, allow_other_project=allow_other_project, trash=trash)
        if wanted is not None:
            # The file's unsound entries (listed by the Trash view) fail their name, like in a
            # restore of the whole file; any other invalid name is refused before anything is sent.
            bad = [n for n in wanted if not is_valid_config_name(n) and n not in self.file.problems]
            if bad:
                raise errors.InvalidConfigNameError(bad[0] if len(bad) == 1 else bad)
        self.backup_path: Path = self.file.path
        if wanted is None:
            wanted = sorted([*self.file.configs, *self.file.problems])  # the file is in backup order
        self.names: list[str] = wanted
        self.concurrency = concurrency
        self._on_status = on_status
        self._cancel = threading.Event()
        self._unreachable = ""
        # Every call of the job goes through this view: cancel() cuts its waits short, and an
        # unreachable endpoint stops the job instead of failing each name in turn.
        self._calls = session.scoped(self._cancel, self._stop_unreachable)
        session.ensure_pool_size(concurrency)
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._coordinator: threading.Thread | None = None
        self._stop_reason = ""
        self.results: dict[str, Status] = {}
        self.states: dict[str, str] = dict.fromkeys(wanted, QUEUED)

    def _set(self, name: str, state: str, result: Status | None = None) -> None:
        with self._lock:
            if self.states.get(name) in FINAL_STATES:
                return
            self.states[name] = state
            if result is not None:
                self.results[name] = result
        if self._on_status is not None:
            try:
                self._on_status(name, state, result)
            except Exception:
                log.exception("on_status callback failed for %s", visible(name))

    def start(self) -> BulkRestore:
        """Start on a background thread and return at once."""
        # A coordinator that never started (e.g. Ctrl-C inside Thread.start) may be started again.
        if self._coordinator is not None and self._coordinator.ident is not None:
            raise RuntimeError(t("restore.started"))
        if self._done.is_set():  # cancelled before it started: every name is final already
            return self
        self._coordinator = threading.Thread(
            target=contextvars.copy_context().run,
            args=(self._run,),
            name="modelarts-bulk-restore",
            daemon=True,
        )
        self._coordinator.start()
        return self

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
            if result.get("error_code") in errors.CREDENTIAL_CODES and not self._cancel.is_set():
                self._stop_reason = f"{result['error_code']}: {result.get('error_msg', '')}"
                self._cancel.set()

    def _stop_unreachable(self, reason: str) -> None:
        with self._lock:
            if not self._unreachable:
                self._unreachable = reason
        self._cancel.set()

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
            if self._cancel.is_set():
                break
        assert last is not None
        return FAILED, errors.failure(
            last.error_code or "", t("restore.not_created", error=last.error_msg, attempts=RESEND_ATTEMPTS)
        )

    def _finish(self) -> None:
        if self._stop_reason:
            why = t("bulk.credentials_rejected", reason=self._stop_reason)
        elif self._unreachable:
            why = t("bulk.unreachable", reason=self._unreachable)
        else:
            why = t("restore.stopped")
        for name in self.names:
            if self.states[name] not in FINAL_STATES:
                self._set(name, CANCELLED, errors.failure(errors.CANCELLED, why))
        self._done.set()

    def cancel(self) -> None:
        """Send nothing more; names not yet sent end as ``cancelled`` (at once if it never started)."""
        self._cancel.set()
        if self._coordinator is None or self._coordinator.ident is None:
            self._finish()  # nothing was sent; a later start() only finds every name final

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def finished(self) -> threading.Event:
        """Set once every name has its final status."""
        return self._done

    def wait(self, timeout: float | None = None) -> dict[str, Status]:
        """Block until every name has its result (or ``timeout``); returns the results so far."""
        if self._coordinator is None:
            self.start()
        self._done.wait(timeout)
        return {name: self.results[name] for name in self.names if name in self.results}

    def run(self) -> dict[str, Status]:
        """Start, wait for the end, and cancel what is unsent on KeyboardInterrupt."""
        self.start()
        try:
            return self.wait()
        except KeyboardInterrupt:
            self.cancel()
            self.wait()
            raise
