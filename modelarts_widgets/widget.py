"""``JobConfigTable``: list, select and delete training-job configs in one anywidget model."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from .choose import protect_patterns, protected_reason
from .sdk.bulk import (
    DEFAULT_DELETE_CONCURRENCY,
    DELETED,
    FAILED,
    QUEUED,
    BulkDelete,
    iter_config_pages,
)
from .sdk.errors import ModelArtsError
from .sdk.estimator import Status
from .sdk.session import Session

log = logging.getLogger("modelarts_widgets")

_HERE = Path(__file__).parent


def _asset(name: str) -> Path:
    """The installed copy in ``static/``, or the repository's ``js/`` in a checkout."""
    installed = _HERE / "static" / name
    return installed if installed.is_file() else _HERE.parent / "js" / name


# Per-row statuses reach the page at most this often (seconds), batched into one message.
FLUSH_INTERVAL = 0.15


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
    can be neither selected nor deleted.
    """

    _esm = _asset("widget.js")
    _css = _asset("widget.css")

    rows = traitlets.List(traitlets.Dict()).tag(sync=True)
    selected = traitlets.List(traitlets.Unicode()).tag(sync=True)
    phase = traitlets.Unicode("loading").tag(sync=True)
    project = traitlets.Unicode("").tag(sync=True)
    error = traitlets.Dict().tag(sync=True)
    running = traitlets.Bool(False).tag(sync=True)

    def __init__(
        self,
        session: Session | None = None,
        *,
        protect: Iterable[str] | str | None = None,
        concurrency: int = DEFAULT_DELETE_CONCURRENCY,
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
        self._tokens: set[str] = set()
        self._loader: threading.Thread | None = None
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
        """Reload the list in the background; marks of the last delete are cleared."""
        with self._lock:
            if self._loader is not None and self._loader.is_alive():
                return
            if self.running:
                raise RuntimeError("Wait for the delete to finish (or stop it) before refreshing")
            self._complete = False
            self._statuses.clear()
            self._pending.clear()
            self.phase = "loading"
            self.error = {}
            self._loader = threading.Thread(target=self._load, name="modelarts-widget-load", daemon=True)
        self.send({"type": "statuses", "reset": True, "updates": {}, "counts": {}, "total": 0})
        self._loader.start()

    def wait_loaded(self, timeout: float | None = None) -> None:
        """Block until the current load has finished (for scripts and tests)."""
        loader = self._loader
        if loader is not None:
            loader.join(timeout)

    def _load(self) -> None:
        try:
            session = self.session
            self.project = session.project_id
            rows: list[dict[str, Any]] = []
            for page in iter_config_pages(session):
                rows.extend(_row(c, self._patterns) for c in page)
                if len(rows) == len(page):  # the first page: show it at once
                    self._names = {r["name"] for r in rows}
                    self.rows = list(rows)
            with self._lock:
                self._names = {r["name"] for r in rows}
                self._complete = True
            self.rows = rows
            self.selected = list(self.selected)  # re-validated: vanished names drop out
            self.phase = "ready"
        except ModelArtsError as exc:
            self._fail(exc)
        except Exception as exc:  # the widget must show something, never die silently
            log.exception("Loading configs failed")
            self._fail(ModelArtsError(f"Unexpected error: {type(exc).__name__}: {exc}", "Client.Error"))

    def _fail(self, exc: ModelArtsError) -> None:
        self.error = {"code": exc.error_code or "", "message": exc.error_msg, "hint": exc.hint}
        self.phase = "error"

    @property
    def session(self) -> Session:
        """The session in use; created with automatic auth on first use."""
        if self._session is None:
            self._session = Session()
        return self._session

    # -- deleting --------------------------------------------------------------------------------

    def delete_selected(self, *, wait: bool = True) -> dict[str, Status]:
        """Delete the selected configs, the path the Delete button takes.

        Returns name -> the ``delete_job_configs()`` dict; with ``wait=False`` returns at once
        and the results arrive in :attr:`results`.
        """
        run = self._start_delete(list(self.selected))
        if run is None:
            return {}
        if wait:
            try:
                run.wait()
            except KeyboardInterrupt:
                run.cancel()
                run.wait()
                raise
            self._finished.wait()
            return dict(self.results)
        return {}

    def stop(self) -> None:
        """Send nothing more; what was not sent stays in place, marked as not sent."""
        run = self._run
        if run is not None:
            run.cancel()

    def retry_failed(self, *, wait: bool = False) -> dict[str, Status]:
        """Run the delete again for the names that failed last time."""
        failed = [n for n, r in self.results.items() if not r.get("is_success") and n in self._names]
        failed = [n for n in failed if self._statuses.get(n, [""])[0] == FAILED]
        run = self._start_delete(failed)
        if run is not None and wait:
            run.wait()
            self._finished.wait()
            return dict(self.results)
        return {}

    def _deletable(self, names: Iterable[str]) -> list[str]:
        return [
            n
            for n in dict.fromkeys(names)
            if n in self._names
            and not protected_reason(n, self._patterns)
            and self._statuses.get(n, [""])[0] != DELETED
        ]

    def _start_delete(self, names: list[str]) -> BulkDelete | None:
        with self._lock:
            if self.running:
                return None
            chosen = self._deletable(names)
            if not chosen:
                return None
            self.results = {}
            for name in chosen:
                self._statuses[name] = [QUEUED, "", ""]
            run = BulkDelete(self.session, chosen, concurrency=self._concurrency, on_status=self._on_status)
            self._run = run
            self._finished = threading.Event()
            self.running = True
        self.send(
            {
                "type": "statuses",
                "updates": {n: self._statuses[n] for n in chosen},
                "counts": run.counts(),
                "total": len(chosen),
            }
        )
        run.start()
        threading.Thread(
            target=self._report, args=(run,), name="modelarts-widget-report", daemon=True
        ).start()
        return run

    def _on_status(self, name: str, state: str, result: Status | None) -> None:
        entry = _status_entry(state, result)
        with self._lock:
            self._statuses[name] = entry
            self._pending[name] = entry
            if result is not None:
                self.results[name] = result

    def _flush(self, run: BulkDelete) -> None:
        with self._lock:
            updates, self._pending = self._pending, {}
        if updates:
            self.send(
                {"type": "statuses", "updates": updates, "counts": run.counts(), "total": len(run.names)}
            )

    def _report(self, run: BulkDelete) -> None:
        """Batch per-row statuses into one message every FLUSH_INTERVAL until the run ends."""
        while not run.done:
            run.wait(FLUSH_INTERVAL)
            self._flush(run)
        self._flush(run)
        deleted = {n for n, r in run.results.items() if r.get("is_success")}
        with self._lock:
            self.results = {n: run.results[n] for n in run.names if n in run.results}
            self.selected = [n for n in self.selected if n not in deleted]
            self.running = False
        self._finished.set()

    # -- messages from the page ------------------------------------------------------------------

    def _on_front_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "hello":
            run = self._run
            self.send(
                {
                    "type": "statuses",
                    "reset": True,
                    "updates": dict(self._statuses),
                    "counts": run.counts() if run else {},
                    "total": len(run.names) if run else 0,
                }
            )
        elif kind == "refresh":
            if not self.running:
                self.refresh()
        elif kind == "delete":
            self._on_delete_request(content)
        elif kind == "stop":
            self.stop()
        elif kind == "retry":
            self.retry_failed()

    def _on_delete_request(self, content: dict[str, Any]) -> None:
        token = str(content.get("token") or "")
        names = content.get("names")
        if not token or token in self._tokens or not isinstance(names, list):
            return  # one confirmation sends each DELETE once, however often it arrives
        self._tokens.add(token)
        # Only names that are selected here too: the page cannot widen the choice.
        wanted = [n for n in names if isinstance(n, str) and n in set(self.selected)]
        if self._start_delete(wanted) is None:
            self.send(
                {
                    "type": "statuses",
                    "updates": {},
                    "counts": {},
                    "total": 0,
                    "rejected": "Nothing to delete: the selection changed or a delete is running",
                }
            )

    def __repr__(self) -> str:
        return (
            f"JobConfigTable(project={self.project!r}, configs={len(self.rows)}, "
            f"selected={len(self.selected)}, phase={self.phase!r})"
        )


__all__ = ["JobConfigTable"]
