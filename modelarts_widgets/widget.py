"""``JobConfigTable``: list, select and delete training-job configs in one anywidget model."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Callable

import anywidget
import traitlets

from .choose import protect_patterns, protected_reason
from .sdk.bulk import (
    DEFAULT_DELETE_CONCURRENCY,
    DELETED,
    FAILED,
    QUEUED,
    SKIPPED,
    BulkDelete,
    iter_config_pages,
)
from .sdk.errors import CANCELLED as CANCELLED_CODE
from .sdk.errors import ModelArtsError, failure
from .sdk.estimator import Status
from .sdk.session import Session
from .sdk.trash import EXISTS, BackupFile, Trash, restore, trash_for

log = logging.getLogger("modelarts_widgets")

_HERE = Path(__file__).parent


def _asset(name: str) -> Path:
    """The installed copy in ``static/``, or the repository's ``js/`` in a checkout."""
    installed = _HERE / "static" / name
    return installed if installed.is_file() else _HERE.parent / "js" / name


# Per-row statuses reach the page at most this often (seconds), batched into one message.
FLUSH_INTERVAL = 0.15
TRASH_FILES_SHOWN = 20
RESTORING, RESTORED = "restoring", "restored"


def _row(config: Mapping[str, Any], patterns: list[str]) -> dict[str, Any]:
    name = str(config["config_name"])
    return {
        "name": name,
        "desc": str(config.get("config_desc") or ""),
        "engine": str(config.get("engine_name") or ""),
        "version": str(config.get("engine_version") or ""),
        "created": config.get("create_time"),
        "lock": protected_reason(name, patterns) or "",
    }


def _status_entry(state: str, result: Status | None) -> list[str]:
    if result is None or result.get("is_success"):
        return [state, "", ""]
    return [state, str(result.get("error_code") or ""), str(result.get("error_msg") or "")]


class JobConfigTable(anywidget.AnyWidget):
    """The training-job configs of a project, with checkboxes, filter, sort and a safe Delete.

    ``JobConfigTable()`` uses ``Session()`` and its automatic auth; pass ``session=`` to use
    another. ``protect`` is a list of glob patterns (default ``$MODELARTS_PROTECT``) whose configs
    can be neither selected nor deleted. Before deleting, the configs' details are saved to the
    trash (``backup=False`` turns that off, a ``Trash`` chooses the folder), which is what
    :meth:`undo` and :meth:`restore_from_trash` re-create them from.
    """

    _esm = _asset("widget.js")
    _css = _asset("widget.css")

    rows = traitlets.List(traitlets.Dict()).tag(sync=True)
    selected = traitlets.List(traitlets.Unicode()).tag(sync=True)
    phase = traitlets.Unicode("loading").tag(sync=True)
    project = traitlets.Unicode("").tag(sync=True)
    error = traitlets.Dict().tag(sync=True)
    running = traitlets.Bool(False).tag(sync=True)
    undo_count = traitlets.Int(0).tag(sync=True)
    backups = traitlets.Bool(True).tag(sync=True)
    trash_files = traitlets.List(traitlets.Dict()).tag(sync=True)

    def __init__(
        self,
        session: Session | None = None,
        *,
        protect: Iterable[str] | str | None = None,
        concurrency: int = DEFAULT_DELETE_CONCURRENCY,
        backup: Trash | bool = True,
        selected: Iterable[str] = (),
        autoload: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._session = session
        self._patterns = protect_patterns(protect)
        self._concurrency = concurrency
        self._lock = threading.RLock()
        self._names: set[str] = set()
        self._complete = False
        self._statuses: dict[str, list[str]] = {}
        self._pending: dict[str, list[str]] = {}
        self._run: BulkDelete | None = None
        self._trash = trash_for(backup)
        self.backups = self._trash is not None
        self._job: list[str] = []
        self._undo_file: Path | None = None
        self._undo_names: list[str] = []
        self._tokens: set[str] = set()
        self._loader: threading.Thread | None = None
        self._load_cancel = threading.Event()
        self._finished = threading.Event()
        self.results: dict[str, Status] = {}
        self.selected = list(selected)
        self.on_msg(self._on_front_msg)
        if autoload:
            self.refresh()

    # -- selection -------------------------------------------------------------------------------

    @traitlets.validate("selected")
    def _valid_selection(self, proposal: Any) -> list[str]:
        names = list(dict.fromkeys(proposal["value"]))
        kept = []
        for name in names:
            if protected_reason(name, self._patterns):
                continue
            if self._complete and name not in self._names:
                continue
            if self._statuses.get(name, [""])[0] == DELETED:
                continue
            kept.append(name)
        return kept

    @property
    def protect(self) -> list[str]:
        return list(self._patterns)

    # -- listing ---------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the list in the background; marks of the last delete are cleared.

        A listing still running is stopped first (nothing more is sent for it), so Refresh
        during a slow load starts over instead of queueing behind it.
        """
        with self._lock:
            if self.running:
                raise RuntimeError("Wait for the delete to finish (or stop it) before refreshing")
            self._load_cancel.set()
            self._load_cancel = threading.Event()
            self._complete = False
            self._statuses.clear()
            self._pending.clear()
            self._job = []
            self.phase = "loading"
            self.error = {}
            cancel = self._load_cancel
            self._loader = threading.Thread(
                target=self._load, args=(cancel,), name="modelarts-widget-load", daemon=True
            )
        self.send({"type": "statuses", "reset": True, "updates": {}, "counts": {}, "total": 0})
        self._loader.start()

    def wait_loaded(self, timeout: float | None = None) -> None:
        """Block until the current load has finished (for scripts and tests)."""
        loader = self._loader
        if loader is not None:
            loader.join(timeout)

    def _load(self, cancel: threading.Event) -> None:
        def current() -> bool:
            with self._lock:
                return not cancel.is_set()

        rows: list[dict[str, Any]] = []
        try:
            session = self.session
            self.project = session.project_id
            for page in iter_config_pages(session, cancel=cancel):
                rows.extend(_row(c, self._patterns) for c in page)
                if len(rows) == len(page) and current():  # the first page: show it at once
                    self._names = {r["name"] for r in rows}
                    self.rows = list(rows)
            with self._lock:
                if cancel is not self._load_cancel:
                    return  # a newer refresh owns the table now
                self._names = {r["name"] for r in rows}
                self._complete = True
            self.rows = rows
            self.selected = list(self.selected)  # re-validated: vanished names drop out
            self.phase = "ready"
        except ModelArtsError as exc:
            if exc.error_code == CANCELLED_CODE:
                self._stopped_loading(cancel, rows)
            elif current():
                self._fail(exc)
        except Exception as exc:  # the widget must show something, never die silently
            log.exception("Loading configs failed")
            if current():
                self._fail(ModelArtsError(f"Unexpected error: {type(exc).__name__}: {exc}", "Client.Error"))

    def _stopped_loading(self, cancel: threading.Event, rows: list[dict[str, Any]]) -> None:
        """Stop pressed during a load: keep what arrived, and say the list is incomplete."""
        with self._lock:
            if cancel is not self._load_cancel:
                return  # replaced by a newer refresh, which shows its own state
            self._names = {r["name"] for r in rows}
        self.rows = rows
        self.error = {
            "code": CANCELLED_CODE,
            "message": f"Loading stopped after {len(rows)} configs: the list is incomplete",
            "hint": "Press Refresh to load the whole list.",
        }
        self.phase = "ready"

    def stop_loading(self) -> None:
        """Stop the listing in progress (nothing more is sent for it); what arrived stays shown."""
        with self._lock:
            self._load_cancel.set()

    def _fail(self, exc: ModelArtsError) -> None:
        self.error = {"code": exc.error_code or "", "message": exc.error_msg, "hint": exc.hint}
        self.phase = "error"

    @property
    def session(self) -> Session:
        """The session in use; created with automatic auth on first use."""
        if self._session is None:
            self._session = Session()
        return self._session

    # -- deleting, undoing, restoring ----------------------------------------------------------

    def delete_selected(self, *, wait: bool = True) -> dict[str, Status]:
        """Delete the selected configs, the path the Delete button takes.

        Returns name -> the ``delete_job_configs()`` dict; with ``wait=False`` returns at once
        and the results arrive in :attr:`results`.
        """
        return self._wait(self._start_delete(list(self.selected)), wait)

    def stop(self) -> None:
        """Send nothing more; what was not sent stays in place, marked as not sent.

        Also stops a listing in progress (see :meth:`stop_loading`).
        """
        run = self._run
        if run is not None:
            run.cancel()
        loader = self._loader
        if loader is not None and loader.is_alive():
            self.stop_loading()

    def retry_failed(self, *, wait: bool = False) -> dict[str, Status]:
        """Run the delete again for the names that failed last time."""
        failed = [n for n in self.results if self._statuses.get(n, [""])[0] == FAILED and n in self._names]
        return self._wait(self._start_delete(failed), wait)

    def undo(self, *, wait: bool = False) -> dict[str, Status]:
        """Re-create the configs the last delete removed, from that delete's backup file."""
        if self._undo_file is None or not self._undo_names:
            return {}
        return self._wait(self._start_restore(self._undo_file, list(self._undo_names)), wait)

    def list_trash(self) -> list[dict[str, Any]]:
        """Recent backup files (newest first); also shown in the page's Trash view."""
        files = []
        if self._trash is not None:
            for path in self._trash.files()[:TRASH_FILES_SHOWN]:
                try:
                    backup = BackupFile.load(path)
                except ValueError:
                    continue
                files.append(
                    {
                        "file": path.name,
                        "created": backup.created_at,
                        "project": backup.project_id,
                        "names": sorted(backup.configs),
                    }
                )
        self.trash_files = files
        return files

    def restore_from_trash(
        self, file: str, names: Iterable[str] | None = None, *, wait: bool = False
    ) -> dict[str, Status]:
        """Re-create configs from one of the trash's backup files (all of its configs by default)."""
        if self._trash is None:
            raise ValueError("Backups are off for this table (backup=False)")
        known = {p.name: p for p in self._trash.files()}
        if file not in known:
            raise ValueError(f"No backup file {file!r} in {self._trash.folder}")
        chosen = list(names) if names is not None else sorted(BackupFile.load(known[file]).configs)
        return self._wait(self._start_restore(known[file], chosen), wait)

    def _wait(self, job: threading.Event | None, wait: bool) -> dict[str, Status]:
        if job is None or not wait:
            return {}
        try:
            while not self._finished.wait(0.1):
                pass
        except KeyboardInterrupt:
            self.stop()
            self._finished.wait()
            raise
        return dict(self.results)

    def _deletable(self, names: Iterable[str]) -> list[str]:
        return [
            n
            for n in dict.fromkeys(names)
            if n in self._names
            and not protected_reason(n, self._patterns)
            and self._statuses.get(n, [""])[0] != DELETED
        ]

    def _begin(self, names: list[str], state: str) -> None:
        """Mark ``names`` as taken by a new job (call with the lock held)."""
        self.results = {}
        self._job = list(names)
        for name in names:
            self._statuses[name] = [state, "", ""]
        self._pending = {}
        self._finished = threading.Event()
        self.running = True

    def _start_delete(self, names: list[str]) -> threading.Event | None:
        with self._lock:
            if self.running:
                return None
            chosen = self._deletable(names)
            if not chosen:
                return None
            run = BulkDelete(
                self.session,
                chosen,
                concurrency=self._concurrency,
                on_status=self._on_status,
                backup=self._trash or False,
            )
            self._run = run
            self._begin(chosen, QUEUED)
        self._flush(initial=True)
        run.start()
        self._track(run.finished, lambda: self._end_delete(run))
        return run.finished

    def _end_delete(self, run: BulkDelete) -> None:
        deleted = [n for n in run.names if run.results.get(n, {}).get("is_success")]
        self.results = {n: run.results[n] for n in run.names if n in run.results}
        gone = set(deleted)
        self.selected = [n for n in self.selected if n not in gone]
        self._undo_file = run.backup_path if deleted else None
        self._undo_names = deleted if run.backup_path else []
        self.undo_count = len(self._undo_names)
        self._run = None

    def _start_restore(self, path: Path, names: list[str]) -> threading.Event | None:
        with self._lock:
            if self.running or not names:
                return None
            self._begin(names, RESTORING)
        self._flush(initial=True)
        done = threading.Event()
        results: dict[str, Status] = {}

        def on_result(name: str, result: Status) -> None:
            if result.get("is_success"):
                state = RESTORED
            else:
                state = SKIPPED if result.get("error_code") == EXISTS else FAILED
            self._on_status(name, state, result)

        def work() -> None:
            try:
                results.update(restore(self.session, path, names, on_result=on_result))
            except (ModelArtsError, ValueError) as exc:
                status = failure("Client.RestoreFailed", str(exc))
                for name in names:
                    self._on_status(name, FAILED, status)
                    results[name] = status
            finally:
                done.set()

        threading.Thread(target=work, name="modelarts-widget-restore", daemon=True).start()
        self._track(done, lambda: self._end_restore(results))
        return done

    def _end_restore(self, results: dict[str, Status]) -> None:
        self.results = dict(results)
        restored = {n for n, r in results.items() if r.get("is_success")}
        self._undo_names = [n for n in self._undo_names if n not in restored]
        self.undo_count = len(self._undo_names)
        self._names |= restored

    def _on_status(self, name: str, state: str, result: Status | None) -> None:
        entry = _status_entry(state, result)
        with self._lock:
            self._statuses[name] = entry
            self._pending[name] = entry
            if result is not None:
                self.results[name] = result

    def _flush(self, *, initial: bool = False) -> None:
        with self._lock:
            job = list(self._job)
            if initial:
                updates = {n: self._statuses[n] for n in job}
            else:
                updates, self._pending = self._pending, {}
            counts = self._job_counts()
        if updates:
            self.send({"type": "statuses", "updates": updates, "counts": counts, "total": len(job)})

    def _track(self, finished: threading.Event, on_end: Callable[[], None]) -> None:
        """Batch per-row statuses into one message every FLUSH_INTERVAL until the job ends."""

        def report() -> None:
            while not finished.wait(FLUSH_INTERVAL):
                self._flush()
            self._flush()
            with self._lock:
                on_end()
                self.running = False
            self._finished.set()

        threading.Thread(target=report, name="modelarts-widget-report", daemon=True).start()

    # -- messages from the page ------------------------------------------------------------------

    def _on_front_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "hello":
            with self._lock:
                statuses, counts, total = dict(self._statuses), self._job_counts(), len(self._job)
            self.send(
                {"type": "statuses", "reset": True, "updates": statuses, "counts": counts, "total": total}
            )
        elif kind == "refresh":
            if not self.running:
                self.refresh()
        elif kind == "stop":
            self.stop()
        elif kind == "retry":
            self.retry_failed()
        elif kind == "undo":
            self.undo()
        elif kind == "trash":
            self.list_trash()
        elif kind in ("delete", "restore"):
            token = str(content.get("token") or "")
            names = content.get("names")
            if not token or token in self._tokens or not isinstance(names, list):
                return  # one confirmation acts once, however often it arrives
            self._tokens.add(token)
            names = [n for n in names if isinstance(n, str)]
            if kind == "delete":
                # Only names that are selected here too: the page cannot widen the choice.
                chosen = set(self.selected)
                started = self._start_delete([n for n in names if n in chosen]) is not None
            else:
                try:
                    self.restore_from_trash(str(content.get("file")), names)
                    started = self.running
                except ValueError:
                    started = False
            if not started:
                self.send(
                    {
                        "type": "statuses",
                        "rejected": f"Nothing to {kind}: the choice changed or a job is running",
                    }
                )

    def _job_counts(self) -> dict[str, int]:
        return dict(Counter(self._statuses.get(n, [""])[0] for n in self._job))

    def __repr__(self) -> str:
        return (
            f"JobConfigTable(project={self.project!r}, configs={len(self.rows)}, "
            f"selected={len(self.selected)}, phase={self.phase!r})"
        )


__all__ = ["JobConfigTable"]
