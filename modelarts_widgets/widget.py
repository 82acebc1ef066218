"""``JobConfigTable``: list, select and delete training-job configs in one anywidget model."""

from __future__ import annotations

import contextlib
import difflib
import logging
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Callable, Literal, TypedDict, cast

import anywidget
import traitlets

from . import i18n
from .choose import protect_patterns, protected_reason, protecting_pattern
from .sdk import errors
from .sdk.bulk import DEFAULT_DELETE_CONCURRENCY, BulkDelete, iter_config_pages
from .sdk.configs import Status
from .sdk.errors import CANCELLED as CANCELLED_CODE
from .sdk.errors import ModelArtsError, hint_for
from .sdk.jobs import Job, polled_wait
from .sdk.restore import BulkRestore
from .sdk.session import Session
from .sdk.states import FAILED, GONE_STATES, QUEUED, RESTORING, StatusEntry
from .sdk.trash import OTHER_PROJECT, BackupFile, BackupInfo, Trash, trash_for

log = logging.getLogger("modelarts_widgets")

_HERE = Path(__file__).parent


def _asset(name: str) -> Path:
    """The installed copy in ``static/``, or the repository's ``js/`` in a checkout."""
    installed = _HERE / "static" / name
    return installed if installed.is_file() else _HERE.parent / "js" / name


# -- the contract between this model and js/widget.js -------------------------------------------
#
# Synced traits (kernel -> page; the page may write `selected` only, see PAGE_WRITABLE):
#   rows                list[Row]        the configs shown, see _row()
#   selected            list[str]        the ticked names (written by both sides)
#   phase               str              "loading" | "ready" | "error"
#   project             str              the project shown in messages
#   error               dict             {"code", "message", "hint"} of the banner; {} for none
#   running             bool             a delete or restore job holds the table
#   undo_count          int              how many configs Undo would re-create
#   backups             bool             deletes save a backup first (Undo and Trash work)
#   trash_files         list[dict]       the Trash view's backup files (list_trash())
#   trash_all_projects  bool             the Trash view lists every project's backups
#   trash_scope         str              "project p1 (r1)": whose backups the view lists
#   language            str              "" (follow the page), "en" or "zh-CN"
#   _catalogs           dict             the page's catalog keys (page.*, hint.*), every language
#
# Custom messages, page -> kernel (PageRequest): {"type": ...} and
#   hello                {"language"}          -> a StatusesMessage with reset=True; the kernel words
#                                                 its texts for this page in that language (a
#                                                 load that failed in another is listed again)
#   refresh | stop                             no answer (the traits change)
#   retry | undo         {"id"}                -> a ReplyMessage
#   delete               {"id", "names", "token"}: exactly the names the confirmation showed;
#                                                 a token acts (and is answered) once; one without
#                                                 a token or a names list is refused -> a ReplyMessage
#   restore              {"id", "file", "names", "token", "allow_other_project"?} -> a ReplyMessage
#   trash                {"all_projects"?}     lists the trash into trash_files
#   trash_open           {"file"}              reads one file's names into trash_files
# Custom messages, kernel -> page: StatusesMessage (as a job runs) and ReplyMessage (below).
# The state words are those of sdk/states.py; tests/test_states.py checks the page's lists.


class StatusesMessage(TypedDict, total=False):
    """Per-row statuses of the current job, only what changed since the last one."""

    type: Literal["statuses"]
    updates: dict[str, StatusEntry]  # name -> [state, code, message] (a JSON list)
    counts: dict[str, int]  # state -> how many names of the job are in it
    total: int  # names in the job
    reset: bool  # forget earlier statuses first
    job: str  # the job they belong to: Job.KIND ("delete" | "restore"), "" when none


class ReplyMessage(TypedDict, total=False):
    """The answer to one page request that can be refused (delete, restore, retry, undo)."""

    type: Literal["reply"]
    id: str | None  # the request's "id", as sent (None when it had none)
    request: str  # the request's "type"
    ok: bool  # the job started
    reason: str  # when refused: "busy" | "changed" | "restore" | "retry" (page.rejected.<reason>)
    rejected: str  # when refused: why, in the kernel's language


class PageRequest(TypedDict, total=False):
    """A custom message from the page (see the table above)."""

    type: str
    id: str
    language: str
    names: list[str]
    token: str
    file: str
    all_projects: bool
    allow_other_project: bool


# Per-row statuses reach the page at most this often (seconds), batched into one message;
# well under the 200 ms longest gap allowed, since a busy kernel wakes the flush late.
FLUSH_INTERVAL = 0.12
TRASH_FILES_SHOWN = 20
# The one synced trait the page may write; any other write from the page is refused and reverted.
PAGE_WRITABLE = frozenset({"selected"})
_OPTIONS = ("session", "protect", "concurrency", "backup", "selected", "autoload", "language")
# Options that reach AnyWidget: its public synced traits (layout, tabbable, tooltip).
_WIDGET_OPTIONS = tuple(
    sorted(n for n in anywidget.AnyWidget.class_traits(sync=True) if not n.startswith("_"))
)


def check_options(owner: str, given: Iterable[str], valid: Iterable[str]) -> None:
    """Raise ``TypeError`` naming the valid options when ``given`` holds any other."""
    valid = list(valid)
    for name in given:
        if name not in valid:
            close = difflib.get_close_matches(name, valid, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TypeError(
                f"{owner}() got an unexpected keyword argument {name!r}{hint}; "
                f"valid options: {', '.join(valid)}"
            )


def _row(config: Mapping[str, Any], patterns: list[str], language: str | None = None) -> dict[str, Any]:
    name = str(config["config_name"])
    row = {
        "name": name,
        "desc": str(config.get("config_desc") or ""),
        "engine": str(config.get("engine_name") or ""),
        "version": str(config.get("engine_version") or ""),
        "created": config.get("create_time"),
        "lock": protected_reason(name, patterns, language=language) or "",
    }
    if row["lock"]:
        row["lock_pattern"] = protecting_pattern(name, patterns)  # the page words it in its language
    return row


def _status_entry(state: str, result: Status | None) -> StatusEntry:
    if result is None or result.get("is_success"):
        return StatusEntry(state)
    return StatusEntry(state, str(result.get("error_code") or ""), str(result.get("error_msg") or ""))


class JobConfigTable(anywidget.AnyWidget):
    """The training-job configs of a project, with checkboxes, filter, sort and a safe Delete.

    ``JobConfigTable()`` uses ``Session()`` and its automatic auth; pass ``session=`` to use
    another. ``protect`` is a list of glob patterns (default ``$MODELARTS_PROTECT``) whose configs
    can be neither selected nor deleted. Before deleting, the configs' details are saved to the
    trash (``backup=False`` turns that off, a ``Trash`` chooses the folder), which is what
    :meth:`undo` and :meth:`restore_from_trash` re-create them from. ``layout``, ``tabbable``
    and ``tooltip`` go to the widget; any other keyword raises ``TypeError``.

    The page may change only :attr:`selected`; its writes to any other synced trait are
    refused and reverted. A delete confirmed in the page runs only when the confirmed names
    are exactly the current selection.
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
    # "" = follow the page (<html lang>, then the browser); "en" or "zh-CN" forces a language.
    language = traitlets.Unicode("").tag(sync=True)
    # The page's share of the catalogs (page.* and hint.* keys), both languages: the page picks
    # its language itself, which the kernel cannot know. About 16 kB, sent once per widget.
    _catalogs = traitlets.Dict().tag(sync=True)
    trash_all_projects = traitlets.Bool(False).tag(sync=True)
    trash_scope = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        session: Session | None = None,
        *,
        protect: Iterable[str] | str | None = None,
        concurrency: int = DEFAULT_DELETE_CONCURRENCY,
        backup: Trash | bool = True,
        selected: Iterable[str] = (),
        autoload: bool = True,
        language: str | None = None,
        **kwargs: Any,
    ) -> None:
        check_options(type(self).__name__, kwargs, (*_OPTIONS, *_WIDGET_OPTIONS))
        # Checked before anything else: a bad language= changes nothing.
        lang = i18n.language_for(language) if language else ""  # None or "": follow the page
        super().__init__(language=lang, _catalogs=i18n.page_catalogs(), **kwargs)
        self._session = session
        self._patterns = protect_patterns(protect)
        self._concurrency = concurrency
        self._lock = threading.RLock()
        self._names: set[str] = set()
        self._complete = False
        self._statuses: dict[str, StatusEntry] = {}
        self._pending: dict[str, StatusEntry] = {}
        self._run: BulkDelete | None = None
        self._busy = False  # a job holds the table; `running` mirrors it for the page
        self._trash = trash_for(backup)
        self.backups = self._trash is not None
        self._job: list[str] = []
        self._job_kind = ""  # Job.KIND of the job in self._job
        self._undo_file: Path | None = None
        self._undo_names: list[str] = []
        self._retry_names: list[str] = []  # names whose delete failed in the last job, if a delete
        self._restore_job: BulkRestore | None = None
        self._trash_headers: dict[str, BackupInfo] = {}
        self._trash_names: dict[str, list[str]] = {}
        self._tokens: set[str] = set()
        self._loader: threading.Thread | None = None
        self._loaded = threading.Event()  # set when the current load's thread has ended
        self._load_cancel = threading.Event()
        self._page_language: str | None = None  # the language the page chose (its hello), if any
        self._load_language = ""  # the language the last load worded its texts in
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
            if self._statuses.get(name, [""])[0] in GONE_STATES:
                continue
            kept.append(name)
        return kept

    @traitlets.validate("language")
    def _valid_language(self, proposal: Any) -> str:
        value = str(proposal["value"])
        try:
            return i18n.language_for(value) if value else ""
        except ValueError as exc:
            raise traitlets.TraitError(str(exc)) from None

    def set_state(self, sync_data: dict[str, Any]) -> None:
        """Apply a state update from the page: only :data:`PAGE_WRITABLE` traits are taken.

        A write to any other synced trait (``running``, ``rows``, ``phase``, ``error``, …) is
        refused, and the page's copy is set back to this side's value.
        """
        allowed = {k: v for k, v in sync_data.items() if k in PAGE_WRITABLE}
        refused = [k for k in sync_data if k not in PAGE_WRITABLE and k in self.keys]
        if allowed:
            super().set_state(allowed)
        if refused:
            log.warning("Refused a write from the page to %s", ", ".join(sorted(refused)))
            self.send_state(refused)

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
                raise RuntimeError(i18n.t("table.refresh_running", lang=self._lang))
            self._load_cancel.set()
            self._load_cancel = threading.Event()
            self._complete = False
            self._statuses.clear()
            self._pending.clear()
            self._job = []
            self._job_kind = ""
            self.phase = "loading"
            self.error = {}
            cancel = self._load_cancel
            self._loaded = loaded = threading.Event()
            self._loader = threading.Thread(
                target=self._load, args=(cancel, loaded), name="modelarts-widget-load", daemon=True
            )
        self._send_statuses(
            {"type": "statuses", "reset": True, "updates": {}, "counts": {}, "total": 0, "job": ""}
        )
        self._loader.start()

    def wait_loaded(self, timeout: float | None = None) -> None:
        """Block until the current load has finished, or ``timeout`` seconds (for scripts and tests).

        Polled, so that a Ctrl-C that comes as interrupt_main() (a kernel's interrupt message),
        which wakes no blocked join, is seen at once.
        """
        if self._loader is not None:  # an Event: a join interrupted by Ctrl-C may mark it ended early
            polled_wait(self._loaded, timeout)

    def _load(self, cancel: threading.Event, loaded: threading.Event) -> None:
        self._load_language = i18n.language_for(self._lang)
        try:
            with i18n.speaking(self._lang):  # e.g. the no-credentials message, in the widget's language
                self._load_here(cancel)
        finally:
            loaded.set()
        self._reword_failed_load()

    def _reword_failed_load(self) -> None:
        """A failed load's banner is our text: when the page's language came after the load chose
        its own (the load starts as the widget is made, before the page's hello), list again so
        that the failure is worded for the page (a listing only reads)."""
        if (
            self.phase == "error"
            and not self.running
            and self._load_language != i18n.language_for(self._lang)
        ):
            with contextlib.suppress(RuntimeError):  # a job started meanwhile: its table stays as is
                self.refresh()

    @traitlets.observe("language")
    def _language_changed(self, _change: Any) -> None:
        if getattr(self, "_load_language", ""):  # not while __init__ sets it: no load has run yet
            self._reword_failed_load()

    def _load_here(self, cancel: threading.Event) -> None:
        def current() -> bool:
            with self._lock:
                return not cancel.is_set()

        rows: list[dict[str, Any]] = []
        try:
            session = self.session
            self.project = session.project_id
            for page in iter_config_pages(session, cancel=cancel):
                rows.extend(_row(c, self._patterns, self._lang) for c in page)
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
                message = i18n.t("error.unexpected", lang=self._lang, error=f"{type(exc).__name__}: {exc}")
                self._fail(ModelArtsError(message, errors.UNEXPECTED))

    def _stopped_loading(self, cancel: threading.Event, rows: list[dict[str, Any]]) -> None:
        """Stop pressed during a load: keep what arrived, and say the list is incomplete."""
        with self._lock:
            if cancel is not self._load_cancel:
                return  # replaced by a newer refresh, which shows its own state
            self._names = {r["name"] for r in rows}
        self.rows = rows
        self.error = {
            "code": CANCELLED_CODE,
            "message": i18n.t("table.loading_stopped", lang=self._lang, count=len(rows)),
            "hint": i18n.t("table.loading_stopped_hint", lang=self._lang),
        }
        self.phase = "ready"

    def stop_loading(self) -> None:
        """Stop the listing in progress (nothing more is sent for it); what arrived stays shown."""
        with self._lock:
            self._load_cancel.set()

    def _fail(self, exc: ModelArtsError) -> None:
        hint = hint_for(exc.error_code, language=self._lang)
        self.error = {"code": exc.error_code or "", "message": exc.error_msg, "hint": hint}
        self.phase = "error"

    @property
    def _lang(self) -> str | None:
        """The language of kernel-made text: the forced one, else the one the page chose, else
        None (the environment's)."""
        return self.language or self._page_language or None

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
        job = self._restore_job
        if job is not None:
            job.cancel()
        if self._loader is not None and not self._loaded.is_set():
            self.stop_loading()

    def retry_failed(self, *, wait: bool = False) -> dict[str, Status]:
        """Run the delete again for the names whose delete failed in the last job.

        Only a delete's failures: after an Undo or a restore, nothing is deleted.
        """
        return self._wait(self._start_delete(self._failed_deletes()), wait)

    def _failed_deletes(self) -> list[str]:
        with self._lock:
            return [
                n for n in self._retry_names if self._statuses.get(n, [""])[0] == FAILED and n in self._names
            ]

    def undo(self, *, wait: bool = False) -> dict[str, Status]:
        """Re-create the configs the last delete removed, from that delete's backup file."""
        return self._wait(self._start_undo(), wait)

    def _start_undo(self) -> threading.Event | None:
        if self._undo_file is None or not self._undo_names:
            return None
        return self._start_restore(self._undo_file, list(self._undo_names))

    def list_trash(self, all_projects: bool | None = None) -> list[dict[str, Any]]:
        """Recent backup files (newest recorded time first); also shown in the page's Trash view.

        Only backups of this session's project and region, unless ``all_projects`` (default:
        the Trash view's "other projects" checkbox, :attr:`trash_all_projects`). Only each
        file's header is read; a file's config names are read when it is opened (the newest at
        once, others through :meth:`open_trash_file`). Each entry: ``file``, ``created``,
        ``project``, ``region``, ``endpoint``, ``other`` (made for another project or region)
        and ``names`` (a list, or None while the file is not opened).
        """
        if all_projects is not None:
            self.trash_all_projects = bool(all_projects)
        if self._trash is None:
            self.trash_files = []
            return []
        session = self.session
        region = session.region_name or "?"
        project = session.project_id
        self.trash_scope = i18n.t("table.trash_scope", lang=self._lang, project=project, region=region)
        headers = self._trash.headers(None if self.trash_all_projects else session)[:TRASH_FILES_SHOWN]
        with self._lock:
            self._trash_headers = {info.path.name: info for info in headers}
        files = [
            {
                "file": info.path.name,
                "created": info.created_at,
                "project": info.project_id,
                "region": info.region,
                "endpoint": info.endpoint,
                "other": not info.same_project(session),
                "names": self._trash_names.get(info.path.name),
            }
            for info in headers
        ]
        self.trash_files = files
        if files and files[0]["names"] is None:
            self.open_trash_file(str(files[0]["file"]))
        return list(self.trash_files)

    def open_trash_file(self, file: str) -> list[str]:
        """Read one listed backup file's config names (and bad entries) for the Trash view."""
        with self._lock:
            info = self._trash_headers.get(file)
        if info is None:
            raise ValueError(i18n.t("table.not_listed", lang=self._lang, file=repr(file)))
        try:
            with i18n.speaking(self._lang):  # why a file cannot be read, in the widget's language
                backup = BackupFile.load(info.path)
            names = sorted([*backup.configs, *backup.problems])
        except ValueError as exc:
            self.error = {"code": errors.BAD_BACKUP_FILE, "message": str(exc), "hint": ""}
            names = []
        self._trash_names[file] = names
        self.trash_files = [dict(f, names=names) if f["file"] == file else f for f in self.trash_files]
        return names

    def restore_from_trash(
        self,
        file: str,
        names: Iterable[str] | None = None,
        *,
        allow_other_project: bool = False,
        wait: bool = False,
    ) -> dict[str, Status]:
        """Re-create configs from one of the trash's backup files (all of its configs by default).

        A backup made for another project or region is refused (``ValueError``, and the
        widget's banner says why) unless ``allow_other_project=True``.
        """
        chosen = list(names) if names is not None else None
        return self._wait(self._start_restore(self._trash_path(file), chosen, allow_other_project), wait)

    def _trash_path(self, file: str) -> Path:
        """The listed backup file named ``file`` (a bare name: nothing outside the trash)."""
        if self._trash is None:
            raise ValueError(i18n.t("table.backups_off", lang=self._lang))
        known = {info.path.name: info.path for info in self._trash.headers()}
        if file not in known:
            raise ValueError(
                i18n.t("table.no_backup_file", lang=self._lang, file=repr(file), folder=self._trash.folder)
            )
        return known[file]

    def _wait(self, job: threading.Event | None, wait: bool) -> dict[str, Status]:
        if job is None or not wait:
            return {}
        try:
            polled_wait(self._finished)
        except KeyboardInterrupt:
            self.stop()
            # A second Ctrl-C stops only this waiting; the answers in flight still free the table.
            polled_wait(self._finished)
            raise
        return dict(self.results)

    def _deletable(self, names: Iterable[str]) -> list[str]:
        return [
            n
            for n in dict.fromkeys(names)
            if n in self._names
            and not protected_reason(n, self._patterns)
            and self._statuses.get(n, [""])[0] not in GONE_STATES
        ]

    def _begin(self, job: Job, state: str) -> None:
        """Mark ``job``'s names as taken by it (call with the lock held)."""
        names = job.names
        self.results = {}
        self._retry_names = []
        self._job = list(names)
        self._job_kind = job.KIND
        for name in names:
            self._statuses[name] = StatusEntry(state)
        self._pending = {}
        self._finished = threading.Event()
        self.running = True

    def _claim(self, finished: threading.Event, on_end: Callable[[], None]) -> bool:
        """Take the table for a job whose end ``finished`` signals; False if a job holds it.

        The tracker starts first, so that once this returns True, ``running`` always ends
        False when ``finished`` is set, whatever interrupts the caller afterwards.
        """
        with self._lock:
            if self._busy or self.running:
                return False
            self._busy = True
        try:
            self._track(finished, on_end)
        except BaseException:
            with self._lock:
                self._busy = False
            self.running = False
            raise
        return True

    def _start_delete(self, names: list[str]) -> threading.Event | None:
        with i18n.speaking(self._lang):  # the job's texts (statuses) in the widget's language
            return self._start_delete_here(names)

    def _start_delete_here(self, names: list[str]) -> threading.Event | None:
        with self._lock:
            if self._busy or self.running:
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

        def claimed() -> None:
            self._run = run

        return self._drive(run, QUEUED, lambda: self._end_delete(run), claimed)

    def _drive(
        self, job: Job, state: str, on_end: Callable[[], None], on_claim: Callable[[], None]
    ) -> threading.Event | None:
        """Take the table for ``job`` (None if a job holds it), mark its names ``state``, start it.

        ``on_claim`` runs once the table is taken, ``on_end`` (with the lock held) once the job
        has ended; returns the job's end event.
        """
        claimed = False
        try:
            claimed = self._claim(job.finished, on_end)
            if not claimed:
                return None
            on_claim()
            with self._lock:
                self._begin(job, state)
            self._flush(initial=True)
            job.start()
        except BaseException:  # e.g. Ctrl-C: send nothing, but let the job end so the table frees
            if claimed:
                job.cancel()  # a job that never started marks every name as not sent
            raise
        return job.finished

    def _end_delete(self, run: BulkDelete) -> None:
        done = [n for n in run.names if run.results.get(n, {}).get("is_success")]
        self.results = {n: run.results[n] for n in run.names if n in run.results}
        self._retry_names = [n for n in run.names if run.states.get(n) == FAILED]
        gone = set(done)
        self.selected = [n for n in self.selected if n not in gone]
        if run.backup_path is not None:
            self._trash_names.pop(run.backup_path.name, None)  # it may have been opened mid-run
        # Undo re-creates what this run backed up and is now gone: deleted or already gone.
        backed_up = set(run.backed_up)
        self._undo_names = [n for n in done if n in backed_up] if run.backup_path else []
        self._undo_file = run.backup_path if self._undo_names else None
        self.undo_count = len(self._undo_names)
        self._run = None

    def _start_restore(
        self, path: Path, names: list[str] | None, allow_other_project: bool = False
    ) -> threading.Event | None:
        with i18n.speaking(self._lang):  # the job's texts (statuses, refusals) in the widget's language
            return self._start_restore_here(path, names, allow_other_project)

    def _start_restore_here(
        self, path: Path, names: list[str] | None, allow_other_project: bool
    ) -> threading.Event | None:
        if self._busy or self.running or names == []:
            return None
        try:  # reads the file once, outside the lock
            job = BulkRestore(
                self.session,
                path,
                names,
                concurrency=self._concurrency,
                on_status=self._on_status,
                allow_other_project=allow_other_project,
            )
        except (ModelArtsError, ValueError) as exc:
            other = "allow_other_project" in str(exc)
            self.error = {
                "code": OTHER_PROJECT if other else errors.RESTORE_REFUSED,
                "message": str(exc),
                "hint": hint_for(OTHER_PROJECT, language=self._lang) if other else "",
            }
            raise ValueError(str(exc)) from None

        def claimed() -> None:
            if self.error.get("code") in (OTHER_PROJECT, errors.RESTORE_REFUSED, errors.BAD_BACKUP_FILE):
                self.error = {}
            self._restore_job = job

        return self._drive(job, RESTORING, lambda: self._end_restore(job.results), claimed)

    def _end_restore(self, results: dict[str, Status]) -> None:
        self._restore_job = None
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
            job, kind = list(self._job), self._job_kind
            if initial:
                updates = {n: self._statuses[n] for n in job}
            else:
                updates, self._pending = self._pending, {}
            counts = self._job_counts()
        if updates:
            self._send_statuses(
                {"type": "statuses", "updates": updates, "counts": counts, "total": len(job), "job": kind}
            )

    def _send_statuses(self, message: StatusesMessage) -> None:
        self.send(message)

    def _reply(self, request: PageRequest, ok: bool, why: str = "") -> None:
        """Answer ``request`` (its ``id``): started, or refused with the reason ``why``."""
        reply: ReplyMessage = {
            "type": "reply",
            "id": request.get("id"),
            "request": request.get("type", ""),
            "ok": ok,
        }
        if not ok:
            reply["reason"] = why
            reply["rejected"] = i18n.t(f"page.rejected.{why}", lang=self._lang)  # the page's own words
        self.send(reply)

    def _track(self, finished: threading.Event, on_end: Callable[[], None]) -> None:
        """Batch per-row statuses into one message every FLUSH_INTERVAL until the job ends."""

        def report() -> None:
            while not finished.wait(FLUSH_INTERVAL):
                self._flush()
            self._flush()
            try:
                with self._lock:
                    on_end()
            finally:
                with self._lock:
                    self._busy = False
                    self.running = False
                self._finished.set()

        threading.Thread(target=report, name="modelarts-widget-report", daemon=True).start()

    # -- messages from the page ------------------------------------------------------------------

    def _on_front_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        request = cast(PageRequest, content)  # unchecked: each field is checked where it is used
        kind = content.get("type")
        if kind == "hello":
            # The page's own choice (<html lang>, the browser) when no language= forces one.
            page = content.get("language")
            if page in i18n.LANGUAGES:
                self._page_language = page
                self._reword_failed_load()
            with self._lock:
                statuses, counts, total = dict(self._statuses), self._job_counts(), len(self._job)
                kind = self._job_kind
            self._send_statuses(
                {
                    "type": "statuses",
                    "reset": True,
                    "updates": statuses,
                    "counts": counts,
                    "total": total,
                    "job": kind,
                }
            )
        elif kind == "refresh":
            if not self.running:
                self.refresh()
        elif kind == "stop":
            self.stop()
        elif kind == "retry":
            busy = self._busy or self.running
            started = not busy and self._start_delete(self._failed_deletes()) is not None
            self._reply(request, started, "busy" if busy else "retry")
        elif kind == "undo":
            # Off the comm thread, like a restore: it reads the backup file.
            threading.Thread(
                target=self._restore_from_page,
                args=(request, self._start_undo),
                name="modelarts-widget-restore",
                daemon=True,
            ).start()
        elif kind == "trash":
            everything = content.get("all_projects")
            threading.Thread(
                target=self._in_background,
                args=(self.list_trash, None if everything is None else bool(everything)),
                name="modelarts-widget-trash",
                daemon=True,
            ).start()
        elif kind == "trash_open":
            threading.Thread(
                target=self._in_background,
                args=(self.open_trash_file, str(content.get("file"))),
                name="modelarts-widget-trash",
                daemon=True,
            ).start()
        elif kind in ("delete", "restore"):
            token = str(content.get("token") or "")
            names = content.get("names")
            if token and token in self._tokens:
                return  # one confirmation acts once, however often it arrives (its reply went once)
            if not token or not isinstance(names, list):  # not a confirmation the page made
                self._reply(request, False, "changed" if kind == "delete" else "restore")
                return
            self._tokens.add(token)
            names = [n for n in names if isinstance(n, str)]
            busy = self._busy or self.running
            if kind == "delete":
                # The confirmation is the contract: exactly the names it showed, which must
                # still be the selection; a selection changed meanwhile deletes nothing.
                current = self._deletable(self.selected)
                if busy:
                    started, why = False, "busy"
                elif not names or len(set(names)) != len(names) or set(names) != set(current):
                    started, why = False, "changed"
                else:
                    started, why = self._start_delete(current) is not None, "changed"
            else:
                # Off the comm thread: reading a backup file must not hold up the kernel.
                allow = content.get("allow_other_project") is True
                file = str(content.get("file"))
                threading.Thread(
                    target=self._restore_from_page,
                    args=(request, lambda: self._start_restore(self._trash_path(file), names, allow)),
                    name="modelarts-widget-restore",
                    daemon=True,
                ).start()
                return
            self._reply(request, started, why)

    def _restore_from_page(self, request: PageRequest, start: Callable[[], threading.Event | None]) -> None:
        """Start a restore or an undo for the page and answer it (refused: the banner says why)."""
        try:
            started = start() is not None
        except ValueError:
            started = False
        self._reply(request, started, "restore")

    def _in_background(self, action: Callable[..., Any], *args: Any) -> None:
        """Run a Trash-view action off the comm thread; its failure shows in the banner."""
        try:
            with i18n.speaking(self._lang):  # its failure, in the widget's language
                action(*args)
        except Exception as exc:
            log.debug("Trash view action failed: %s", exc)
            if not self.error:
                self.error = {"code": errors.TRASH_ERROR, "message": str(exc), "hint": ""}

    def _job_counts(self) -> dict[str, int]:
        return dict(Counter(self._statuses.get(n, [""])[0] for n in self._job))

    def _ipython_display_(self, **kwargs: Any) -> None:
        from .frontend import display_with_hint

        with i18n.speaking(self._lang):  # the "Widget not shown?" hint in the widget's language
            display_with_hint(self, getattr(super(), "_ipython_display_", None), **kwargs)

    def __repr__(self) -> str:
        # Also the page's text where it cannot render the widget: the fix first (ipywidgets 7
        # cuts the text to 110 characters), then the kernel's versions, then the state.
        from .frontend import fallback_text

        with i18n.speaking(self._lang):
            fix = fallback_text()
        return (
            f"{fix} · JobConfigTable(project={self.project!r}, configs={len(self.rows)}, "
            f"selected={len(self.selected)}, phase={self.phase!r})"
        )


__all__ = ["JobConfigTable"]
