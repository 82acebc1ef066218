"""``%modelarts_delete``: choose training-job configs from one line, preview them, delete them.

Registered by ``%load_ext modelarts_widgets``; importing this module has no side effects.
"""

from __future__ import annotations

import math
import queue
import shlex
import sys
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from .choose import protect_patterns, protected_names, select_configs
from .report import DeletionReport, RestoreReport
from .sdk import errors
from .sdk.bulk import DEFAULT_DELETE_CONCURRENCY, FINAL_STATES, BulkDelete, list_all_configs
from .sdk.errors import ModelArtsError
from .sdk.estimator import Status
from .sdk.names import is_valid_config_name
from .sdk.restore import BulkRestore
from .sdk.session import Session
from .sdk.trash import Trash

_MARKS = {"deleted": "deleted ", "failed": "FAILED  ", "cancelled": "not sent", "skipped": "skipped "}


def _criteria(args: Any) -> str:
    """The names and filters given, as typed, for a "nothing matches" message."""
    parts = [shlex.join(args.names)] if args.names else []
    parts += [
        f"{flag} {shlex.quote(value)}"
        for flag, value in (("--match", args.match), ("--search", args.search))
        if value
    ]
    if args.older_than is not None:
        parts.append(f"--older-than {args.older_than:g}")
    return " ".join(parts)


@magics_class
class DeleteMagics(Magics):
    """The ``%modelarts_delete`` line magic."""

    @magic_arguments()
    @argument("names", nargs="*", metavar="NAME", help="config names to delete")
    @argument("--match", metavar="GLOB", help="only names matching this glob, e.g. '*-tmp'")
    @argument("--search", metavar="TEXT", help="only configs the server finds for TEXT (search_content)")
    @argument("--older-than", metavar="DAYS", type=float, help="only configs created more than DAYS days ago")
    @argument("-y", "--yes", action="store_true", help="really delete (without it: a dry run)")
    @argument("--widget", action="store_true", help="open the widget with the matches selected")
    @argument("-o", "--output", metavar="VAR", help="store the result in the variable VAR")
    @argument("--session", metavar="VAR", help="use the Session in variable VAR (default: Session())")
    @argument(
        "--restore",
        metavar="latest|FILE",
        help="re-create configs from a backup file in the trash (all, or the NAMEs given)",
    )
    @argument(
        "--allow-other-project",
        action="store_true",
        help="with --restore: restore a backup made for another project or region into this one",
    )
    @argument("--no-backup", action="store_true", help="do not save the configs' details first (no undo)")
    @argument(
        "--concurrency",
        type=int,
        default=DEFAULT_DELETE_CONCURRENCY,
        metavar="N",
        help=f"deletes in flight at once (default {DEFAULT_DELETE_CONCURRENCY})",
    )
    @line_magic
    def modelarts_delete(self, line: str) -> Any:
        """Delete ModelArts training-job configs: a dry run unless --yes is given.

        Without arguments it shows the JobConfigTable widget. Names and filters combine: a
        config is chosen when it passes every one given. Protected names (``$MODELARTS_PROTECT``,
        comma-separated globs) are never deleted. Each name ends with one status; the result
        maps name -> the ``delete_job_configs()`` dict.

        Examples::

            %modelarts_delete                                 # the widget
            %modelarts_delete xgb-ocr-tmp gpt2-detect-old     # preview those two
            %modelarts_delete --match '*-tmp' --older-than 30 # preview old *-tmp configs
            %modelarts_delete --match '*-tmp' --yes           # delete them
            %modelarts_delete --search bert --widget          # widget with bert configs selected
            report = %modelarts_delete --match '*-exp' -y     # the result, as a value
            %modelarts_delete --match '*-exp' -y -o report    # ... or stored in `report`
            %modelarts_delete --restore latest                # undo: re-create the last run's configs
            %modelarts_delete --restore latest xgb-ocr-tmp    # ... only this one
            %modelarts_delete --restore FILE --allow-other-project  # a backup of another project

        Before deleting, each config's details are saved to a backup file in the trash
        (``$MODELARTS_TRASH_DIR``, default ``~/.modelarts_widgets/trash``); ``--no-backup``
        skips that, and then nothing can be restored. ``--restore latest`` takes the newest backup
        made for this session's project and region; a backup of another project or region is
        refused unless ``--allow-other-project`` is given.
        """
        # Shell-style splitting, so that quotes around a glob are removed as users expect
        # (IPython's default splitting keeps them).
        try:
            argv = shlex.split(line)
        except ValueError as exc:
            raise UsageError(f"Could not read the arguments: {exc}") from None
        args = self.modelarts_delete.parser.parse_args(argv)
        bad = [n for n in args.names if not is_valid_config_name(n)]
        if bad:
            raise UsageError(
                f"Invalid config name {bad[0]!r}: names are 1-64 characters of letters, digits, '_' and '-'"
            )
        if args.older_than is not None and not (math.isfinite(args.older_than) and args.older_than >= 0):
            raise UsageError(f"--older-than takes a number of days >= 0, not {args.older_than:g}")
        if args.concurrency < 1:
            raise UsageError(f"--concurrency must be at least 1, not {args.concurrency}")
        if args.widget and args.yes:
            raise UsageError("--widget and --yes do not go together: the widget has its own Delete button")
        session = self._session(args.session)
        if args.restore is not None:
            if args.yes or args.widget or args.match or args.search or args.older_than is not None:
                raise UsageError("--restore takes only config names (and --session, -o)")
            restored = self._restore(session, args.restore, args.names, args.allow_other_project)
            return self._store(args.output, restored)
        if args.allow_other_project:
            raise UsageError("--allow-other-project goes with --restore")
        patterns = protect_patterns()
        filtered = bool(args.names or args.match or args.search or args.older_than is not None)
        if not filtered:
            from .widget import JobConfigTable

            return self._store(args.output, JobConfigTable(session=session, protect=patterns))
        try:
            configs = list_all_configs(
                session, search_content=args.search, sort_by="config_name", order="asc"
            )
        except ModelArtsError as exc:
            raise UsageError(f"Listing configs failed: {exc}") from None
        chosen = select_configs(configs, names=args.names, match=args.match, older_than_days=args.older_than)
        existing = {str(c["config_name"]) for c in configs}
        not_found = [n for n in args.names if n not in existing]
        if args.widget:
            from .widget import JobConfigTable

            names = [str(c["config_name"]) for c in chosen]
            return self._store(args.output, JobConfigTable(session=session, protect=patterns, selected=names))
        skipped = protected_names((str(c["config_name"]) for c in chosen), patterns)
        planned = [c for c in chosen if c["config_name"] not in skipped]
        trash = None if args.no_backup else Trash()
        report = DeletionReport(
            dry_run=not args.yes,
            planned=planned,
            skipped=skipped,
            not_found=not_found,
            project=session.project_id,
            backup=str(trash.folder) if trash is not None else "",
            criteria=_criteria(args),
        )
        if args.yes:
            if planned:
                names = [str(c["config_name"]) for c in planned]
                report.results, path = self._delete(session, names, args.concurrency, trash)
                report.backup = str(path) if path else ""
            for name, reason in skipped.items():
                report.results[name] = errors.failure(errors.PROTECTED, reason)
            for name in not_found:
                message = f"No config named {name} in project {session.project_id}; nothing was sent"
                report.results[name] = errors.failure("Client.NotFound", message)
        return self._store(args.output, report)

    def _session(self, variable: str | None) -> Session:
        if variable is None:
            try:
                return Session()
            except ModelArtsError as exc:
                raise UsageError(str(exc)) from None
        value = self.shell.user_ns.get(variable) if self.shell is not None else None
        if not isinstance(value, Session):
            raise UsageError(f"--session {variable}: no Session in a variable of that name")
        return value

    def _store(self, variable: str | None, value: Any) -> Any:
        if variable is not None:
            if not variable.isidentifier():
                raise UsageError(f"-o {variable}: not a valid variable name")
            if self.shell is not None:
                self.shell.user_ns[variable] = value
        return value

    @staticmethod
    def _restore(session: Session, which: str, names: list[str], allow_other_project: bool) -> RestoreReport:
        trash = Trash()
        backup: str | Path = which
        if which != "latest":
            path = Path(which).expanduser()
            if not path.is_file() and (trash.folder / which).is_file():
                path = trash.folder / which
            backup = path
        try:
            job = BulkRestore(
                session, backup, names or None, allow_other_project=allow_other_project, trash=trash
            )
        except (OSError, ValueError) as exc:
            raise UsageError(f"--restore {which}: {exc}") from None
        return RestoreReport(backup=str(job.backup_path), results=job.run())

    @staticmethod
    def _delete(
        session: Session, names: list[str], concurrency: int, trash: Trash | None
    ) -> tuple[dict[str, Status], Path | None]:
        """Run the shared bulk delete, printing each name as it ends (from this thread)."""
        finished: queue.SimpleQueue[tuple[str, str, Status | None]] = queue.SimpleQueue()

        def on_status(name: str, state: str, result: Status | None) -> None:
            if state in FINAL_STATES:
                finished.put((name, state, result))

        run = BulkDelete(session, names, concurrency=concurrency, on_status=on_status, backup=trash or False)
        print(f"Deleting {len(names)} config{'s' if len(names) != 1 else ''}…", flush=True)
        run.start()
        printed = 0
        try:
            # No `continue` inside the `except queue.Empty`: on CPython 3.11 a Ctrl-C landing on
            # that jump escaped the `except KeyboardInterrupt` below (seen in the tests).
            while printed < len(names):
                try:
                    name, state, result = finished.get(timeout=0.1)
                except queue.Empty:
                    pass
                else:
                    printed += 1
                    detail = ""
                    if result is not None and not result.get("is_success"):
                        detail = f"  {result.get('error_code')}: {result.get('error_msg')}"
                    print(f"  {_MARKS.get(state, state)}  {name}{detail}", flush=True)
        except KeyboardInterrupt:
            run.cancel()
            run.wait()
            print("Interrupted: nothing more was sent.", file=sys.stderr, flush=True)
        return run.wait(), run.backup_path
