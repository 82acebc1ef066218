"""The doctor: why the widget does not show, and the fix that needs no root and no server restart.

Run it where the kernel runs: ``%run -m modelarts_widgets.doctor`` (or ``%modelarts_delete --doctor``)
in a notebook cell, ``python -m modelarts_widgets doctor`` with the kernel's Python in a terminal.

A hosted notebook's server, with its widget front end, usually lives in another Python environment
than the kernel. The widget renders only when the page has anywidget's front end of the kernel's
anywidget minor version (and a widget manager for the kernel's ipywidgets). The doctor reports the
kernel's versions and, where it can reach the notebook server, the server's; then it copies the lab
extension (and classic Notebook extension) that ships inside the kernel's anywidget into the
user's Jupyter data directory, which the server reads on the next page load.
"""

from __future__ import annotations

import html
import http.client
import json
import os
import re
import shutil
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, NoReturn

from .i18n import WideHelpFormatter, argument_error, t
from .sdk import settings


def _version(module: str) -> str:
    """The installed distribution's version, '' when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module)
    except PackageNotFoundError:
        return ""


def kernel_versions() -> dict[str, str]:
    """Versions in this (the kernel's) environment: python, ipywidgets, anywidget, modelarts-widgets."""
    return {
        "python": ".".join(map(str, sys.version_info[:3])),
        "ipywidgets": _version("ipywidgets"),
        "anywidget": _version("anywidget"),
        "modelarts-widgets": _version("modelarts-widgets"),
    }


def fallback_text() -> str:
    """The widget's plain-text form, shown where the page cannot render it.

    The command comes first: ipywidgets 7 cuts this text to 110 characters.
    """
    v = kernel_versions()
    return t("doctor.fallback", ipywidgets=v["ipywidgets"] or "?", anywidget=v["anywidget"] or "?")


def hint_html() -> str:
    """The "Widget not shown?" output shown beside the widget; widget.css hides it once the widget renders."""
    v = kernel_versions()
    versions = f"ipywidgets {v['ipywidgets'] or '?'}, anywidget {v['anywidget'] or '?'}"
    command = "\x00command\x00"  # escaped text around it, the <code> element put in after
    text = html.escape(t("doctor.hint", command=command, versions=versions))
    text = text.replace(command, "<code>%run -m modelarts_widgets.doctor</code>")
    return f'<div class="maw-fallback"><b>{html.escape(t("doctor.hint.title"))}</b> {text}</div>'


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def display_with_hint(widget: Any, base_display: Any, **kwargs: Any) -> None:
    """Display ``widget`` as ipywidgets would, then, in a notebook, the "Widget not shown?" hint.

    Where the page cannot render the widget, JupyterLab shows only "Error displaying widget" and
    the classic Notebook nothing at all, never the widget's plain text; the hint is a second
    output that widget.css (loaded only by a working front end) hides.
    """
    from IPython import display as ipython_display

    display: Any = ipython_display.display  # untyped in IPython
    if base_display is not None:  # ipywidgets 7 displays widgets in Widget._ipython_display_
        base_display(**kwargs)
    else:
        bundle = widget._repr_mimebundle_(**kwargs)
        if bundle is None:
            return
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        display(data, metadata=metadata, raw=True)
    if _in_kernel():
        display({"text/plain": fallback_text(), "text/html": hint_html()}, raw=True)


def minor(version: str) -> str:
    """'0.9.21' -> '0.9': anywidget's front end accepts the same minor version (``~0.9.*``)."""
    return ".".join(version.split(".")[:2])


def data_dir() -> Path:
    """The user's Jupyter data directory (``jupyter --data-dir``); the server looks there first."""
    try:
        from jupyter_core.paths import jupyter_data_dir
    except ImportError:  # a kernel without jupyter_core: the same rules, for the common platforms
        chosen = settings.get(settings.JUPYTER_DATA_DIR)
        if chosen:
            return Path(chosen)
        if sys.platform == "darwin":
            return Path.home() / "Library" / "Jupyter"
        appdata = settings.get(settings.APPDATA)
        if os.name == "nt" and appdata:
            return Path(appdata) / "jupyter"
        base = settings.get(settings.XDG_DATA_HOME) or str(Path.home() / ".local" / "share")
        return Path(base) / "jupyter"
    return Path(jupyter_data_dir())


def config_dir() -> Path:
    """The user's Jupyter config directory (``jupyter --config-dir``)."""
    try:
        from jupyter_core.paths import jupyter_config_dir
    except ImportError:
        return Path(settings.get(settings.JUPYTER_CONFIG_DIR) or Path.home() / ".jupyter")
    return Path(jupyter_config_dir())


def runtime_dir() -> Path:
    try:
        from jupyter_core.paths import jupyter_runtime_dir
    except ImportError:
        return Path(settings.get(settings.JUPYTER_RUNTIME_DIR) or data_dir() / "runtime")
    return Path(jupyter_runtime_dir())


# -- the notebook server ------------------------------------------------------------------------


@dataclass
class ServerInfo:
    """What could be learnt about a running notebook server (never its token)."""

    url: str
    pid: int = 0
    kind: str = ""  # "lab", "notebook" (classic) or "" when not reachable
    anywidget: str = ""  # the version of anywidget's front end the server serves, "" for none
    widget_manager: str = ""  # @jupyter-widgets/jupyterlab-manager's version, "" for none / unknown
    classic_widgets: bool = False  # classic Notebook: the widgets nbextension is served
    reachable: bool = False
    note: str = ""


def _get(url: str, token: str, timeout: float = 3.0) -> tuple[int, bytes]:
    try:
        request = urllib.request.Request(url)  # noqa: S310 (the server's own http(s) URL)
        if token:
            request.add_header("Authorization", f"token {token}")
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status), response.read(1_000_000)
    except urllib.error.HTTPError as exc:
        return int(exc.code), b""
    except (OSError, ValueError, http.client.HTTPException):  # e.g. another service on a stale port
        return 0, b""


def _package_version(url: str, token: str) -> str:
    status, body = _get(url, token)
    if status != 200:
        return ""
    try:
        return str(json.loads(body).get("version") or "")
    except (ValueError, AttributeError):
        return ""


def probe(url: str, token: str, pid: int = 0) -> ServerInfo:
    """Ask the server at ``url`` which widget front ends it serves to the page."""
    info = ServerInfo(url=url, pid=pid)
    base = url if url.endswith("/") else url + "/"
    status, _ = _get(base + "api/status", token)
    if status != 200:
        info.note = t("doctor.unreachable", status=status or t("doctor.connection_failed"))
        return info
    info.reachable = True
    # JupyterLab 3 and 4 serve each prebuilt extension's files under lab/extensions/<name>/.
    lab_status, _ = _get(base + "lab/api/settings", token)
    if lab_status == 200:
        info.kind = "lab"
        info.anywidget = _package_version(base + "lab/extensions/anywidget/package.json", token)
        info.widget_manager = _package_version(
            base + "lab/extensions/@jupyter-widgets/jupyterlab-manager/package.json", token
        )
    else:
        # The classic Notebook serves nbextensions/; anywidget's names its version in index.js.
        info.kind = "notebook"
        if _get(base + "nbextensions/anywidget/extension.js", token)[0] == 200:
            status, body = _get(base + "nbextensions/anywidget/index.js", token)
            found = re.search(rb'\bversion = "([0-9][0-9A-Za-z.+-]*)"', body) if status == 200 else None
            info.anywidget = found.group(1).decode() if found else "present"
        info.classic_widgets = _get(base + "nbextensions/jupyter-js-widgets/extension.js", token)[0] == 200
    return info


def page_loads(url: str, token: str) -> str | None:
    """The anywidget entry point a JupyterLab page from ``url`` loads now ('' none, None unknown).

    Read from the page's own configuration, which the server computes on each page load (the
    extension files it serves are looked up once and remembered, so they can tell an old story).
    """
    base = url if url.endswith("/") else url + "/"
    status, body = _get(base + "lab", token)
    found = re.search(rb'<script id="jupyter-config-data" type="application/json">(.*?)</script>', body, re.S)
    if status != 200 or not found:
        return None
    try:
        extensions = json.loads(found.group(1)).get("federated_extensions") or []
    except (ValueError, AttributeError):
        return None
    for extension in extensions:
        if isinstance(extension, dict) and extension.get("name") == "anywidget":
            return str(PurePosixPath(str(extension.get("load") or "")))
    return ""


def running_servers() -> list[dict[str, Any]]:
    """The servers this user runs on this machine, the kernel's own first (``$JPY_PARENT_PID``)."""
    found = []
    folder = runtime_dir()
    for pattern in ("jpserver-*.json", "nbserver-*.json"):
        for path in sorted(folder.glob(pattern)):
            try:
                entry = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(entry, dict):  # a file damaged into other JSON says nothing
                found.append(entry)
    parent = settings.get(settings.JPY_PARENT_PID) or ""
    found.sort(key=lambda s: str(s.get("pid")) != parent)
    return found


# -- installing the front end ----------------------------------------------------------------------


def _anywidget_dir(kind: str) -> Path | None:
    """anywidget's prebuilt front end for ``kind`` ('labextension' or 'nbextension') in this env."""
    try:
        import anywidget
    except ImportError:
        return None
    inside = Path(anywidget.__file__).parent / kind
    if (inside / ("package.json" if kind == "labextension" else "extension.js")).is_file():
        return inside
    shared = Path(sys.prefix) / "share" / "jupyter" / f"{kind}s" / "anywidget"
    return shared if shared.is_dir() else None


def _copy_tree(source: Path, target: Path) -> None:
    """Replace ``target`` with a copy of ``source``; the old copy goes only once the new one is whole."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(target.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(source, staging)
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def install_front_end(data: Path | None = None, config: Path | None = None) -> list[Path]:
    """Copy the kernel's anywidget front end into the user's Jupyter directories.

    Writes ``<data>/labextensions/anywidget`` (JupyterLab 3/4, Notebook 7), and
    ``<data>/nbextensions/anywidget`` enabled in ``<config>/nbconfig/notebook.json`` (classic
    Notebook). Returns the paths written. Raises ``RuntimeError`` when anywidget is not installed.
    """
    data = data or data_dir()
    config = config or config_dir()
    lab = _anywidget_dir("labextension")
    if lab is None:
        raise RuntimeError(t("doctor.no_anywidget_here"))
    classic = _anywidget_dir("nbextension")
    nbconfig = config / "nbconfig" / "notebook.json"
    settings: dict[str, Any] = {}
    if classic is not None and nbconfig.is_file():
        # The user's own settings: kept as they are, never replaced by a file the doctor could not read.
        try:
            loaded: Any = json.loads(nbconfig.read_text(encoding="utf-8"))
        except ValueError:
            loaded = None
        if not isinstance(loaded, dict) or not isinstance(loaded.get("load_extensions", {}), dict):
            raise RuntimeError(t("doctor.bad_nbconfig", path=nbconfig))
        settings = loaded
    written = [data / "labextensions" / "anywidget"]
    _copy_tree(lab, written[0])
    if classic is not None:
        written.append(data / "nbextensions" / "anywidget")
        _copy_tree(classic, written[-1])
        settings.setdefault("load_extensions", {})["anywidget/extension"] = True
        nbconfig.parent.mkdir(parents=True, exist_ok=True)
        nbconfig.write_text(json.dumps(settings, indent=2), encoding="utf-8")
        written.append(nbconfig)
    return written


# -- the report ---------------------------------------------------------------------------------


@dataclass
class Diagnosis:
    """What the doctor found and did; ``str()`` is the text it prints."""

    kernel: dict[str, str]
    servers: list[ServerInfo] = field(default_factory=list)
    installed: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unfixed: list[str] = field(default_factory=list)  # problems the install was meant to fix but did not
    lines: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(self.lines)


def _major(version: str) -> int:
    head = version.split(".", maxsplit=1)[0]
    return int(head) if head.isdigit() else 0


def _judge(server: ServerInfo, kernel: dict[str, str]) -> list[str]:
    problems = []
    if server.kind == "lab":
        if not server.anywidget:
            problems.append(t("doctor.problem.no_front_end"))
        elif kernel["anywidget"] and minor(server.anywidget) != minor(kernel["anywidget"]):
            problems.append(
                t(
                    "doctor.problem.front_end_version",
                    server=server.anywidget,
                    kernel=kernel["anywidget"],
                    minor=minor(kernel["anywidget"]),
                )
            )
        manager = server.widget_manager
        # @jupyter-widgets/jupyterlab-manager 3.x is ipywidgets 7's front end; 5.x (ipywidgets 8)
        # also renders ipywidgets 7 kernels.
        if manager and _major(manager) < 5 and kernel["ipywidgets"].startswith("8"):
            problems.append(t("doctor.problem.manager_7", manager=manager, ipywidgets=kernel["ipywidgets"]))
        if not manager:
            problems.append(t("doctor.problem.no_manager"))
    elif server.kind == "notebook":
        if not server.anywidget:
            problems.append(t("doctor.problem.classic_no_anywidget"))
        elif (
            kernel["anywidget"]
            and server.anywidget != "present"
            and minor(server.anywidget) != minor(kernel["anywidget"])
        ):
            problems.append(
                t(
                    "doctor.problem.classic_version",
                    server=server.anywidget,
                    kernel=kernel["anywidget"],
                    minor=minor(kernel["anywidget"]),
                )
            )
        if not server.classic_widgets:
            problems.append(t("doctor.problem.classic_no_widgets"))
    return problems


def _build_load(extension: Path | None) -> str:
    """The entry point a lab extension's package.json names ('' when there is none)."""
    try:
        build = json.loads((extension / "package.json").read_text(encoding="utf-8")) if extension else {}
        return str(PurePosixPath(str(build["jupyterlab"]["_build"]["load"])))
    except (OSError, ValueError, KeyError, TypeError):
        return ""


def _not_loaded(server: ServerInfo, token: str, copy: Path) -> str:
    """Why a JupyterLab page from ``server`` will not load the just-installed ``copy`` ('' when it will).

    The server looks for extensions in its own environment (or $JUPYTER_PATH) before the user's
    data directory when it owns that environment; then the copy is never loaded.
    """
    if server.kind != "lab":
        return ""
    ours = _build_load(copy)
    loads = page_loads(server.url, token)
    if loads == "":
        return t("doctor.problem.not_read", folder=copy.parent)
    if loads is None or loads == ours:
        return ""
    fix = t("doctor.fix.server_version")
    if server.anywidget:
        fix = t("doctor.fix.pip_server_version", wanted=f"anywidget=={minor(server.anywidget)}.*")
    return t("doctor.problem.shadowed", server=server.anywidget or "?", fix=fix)


def diagnose(*, install: bool = True, data: Path | None = None, config: Path | None = None) -> Diagnosis:
    """Report kernel vs server versions; install the matching front end unless the server has it.

    With ``install=False`` nothing is written. Servers are found through the Jupyter runtime
    directory (this user's servers on this machine); in a kernel only the server that started it
    ($JPY_PARENT_PID) is the page's. A server elsewhere cannot be asked, and the report says so.
    """
    kernel = kernel_versions()
    report = Diagnosis(kernel=kernel)
    say = report.lines.append
    missing = t("doctor.missing")
    say(
        t(
            "doctor.kernel",
            python=sys.executable,
            version=kernel["python"],
            ipywidgets=kernel["ipywidgets"] or missing,
            anywidget=kernel["anywidget"] or missing,
            package=kernel["modelarts-widgets"] or t("doctor.checkout"),
        )
    )
    # On Windows JPY_PARENT_PID is a process handle, not the server's pid: it names no server.
    parent = (settings.get(settings.JPY_PARENT_PID) or "") if os.name != "nt" else ""
    checked: ServerInfo | None = None
    token = ""
    for entry in running_servers():
        url = str(entry.get("url") or "")
        if not url:
            continue
        if parent and str(entry.get("pid")) != parent:
            # A kernel's page is served by the server that started it; another server of this
            # user says nothing about that page (and is not sent a token it does not need).
            continue
        pid = str(entry.get("pid"))
        server = probe(url, str(entry.get("token") or ""), int(pid) if pid.isdigit() else 0)
        report.servers.append(server)
        if not server.reachable:
            say(t("doctor.server.unreachable", url=url, note=server.note))
            continue
        checked = server
        token = str(entry.get("token") or "")
        ours = _build_load(_anywidget_dir("labextension"))
        if server.kind == "lab" and ours and page_loads(url, token) == ours:
            # The page loads the kernel's own build: what counts, whatever the extension file the
            # server remembers from an earlier lookup says.
            server.anywidget = kernel["anywidget"]
        if str(server.pid) != parent:
            say(t("doctor.not_parent", url=url))
        if server.kind == "lab":
            say(
                t(
                    "doctor.server.lab",
                    url=url,
                    anywidget=server.anywidget or missing,
                    manager=server.widget_manager or t("doctor.not_found"),
                )
            )
        else:
            say(
                t(
                    "doctor.server.classic",
                    url=url,
                    # The classic nbextension has no version, only presence (see probe).
                    anywidget=t("doctor.present")
                    if server.anywidget == "present"
                    else server.anywidget or missing,
                    widgets=t("doctor.present") if server.classic_widgets else missing,
                )
            )
        report.problems.extend(_judge(server, kernel))
        break  # the kernel's own server (JPY_PARENT_PID) is first; others are not this page's
    if checked is None:
        say(t("doctor.no_server_reachable" if report.servers else "doctor.no_server_found"))
    for problem in report.problems:
        say(t("doctor.problem", problem=problem))
    fixable = checked is None or any("anywidget" in p for p in report.problems)
    if not kernel["anywidget"]:
        say(t("doctor.no_anywidget"))
        return report
    if not fixable:
        if report.problems:
            say(t("doctor.matches_other_problem"))
        else:
            say(t("doctor.matches"))
        return report
    if not install:
        say(t("doctor.fix", anywidget=kernel["anywidget"], folder=data or data_dir()))
        return report
    try:
        report.installed = install_front_end(data, config)
    except (OSError, RuntimeError) as exc:
        say(t("doctor.install_failed", error=exc))
        report.problems.append(t("doctor.problem.install_failed", error=exc))
        return report
    say(t("doctor.installed", anywidget=kernel["anywidget"]))
    for path in report.installed:
        say(f"  {path}")
    problem = _not_loaded(checked, token, report.installed[0]) if checked is not None else ""
    if problem:
        report.problems.append(problem)
        report.unfixed.append(problem)
        say(t("doctor.problem", problem=problem))
    if not report.unfixed:
        say(t("doctor.reload"))
    say(t("doctor.undo", path=report.installed[0]))
    return report


def main(argv: list[str] | None = None) -> int:
    """``doctor [--check]``: print the diagnosis; exit status 1 when a problem remains unfixed."""
    import argparse

    class Formatter(WideHelpFormatter, argparse.HelpFormatter):
        def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
            super().add_usage(usage, actions, groups, t("doctor.usage_prefix") if prefix is None else prefix)

    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:  # argparse's words, in the session's language
            self.print_usage(sys.stderr)
            self.exit(2, f"{self.prog}: {argument_error(message)}\n")

    # The help in the session's language, as %modelarts_delete's: argparse's own words replaced.
    parser = Parser(
        prog="python -m modelarts_widgets doctor",
        description=t("doctor.description"),
        formatter_class=Formatter,
        add_help=False,
    )
    parser._optionals.title = t("magic.help.options")
    parser.add_argument("-h", "--help", action="help", help=t("magic.help.help"))
    parser.add_argument("--check", action="store_true", help=t("doctor.check_help"))
    args = parser.parse_args(argv)
    report = diagnose(install=not args.check)
    print(report)
    unfixed = [p for p in report.problems if not (report.installed and "anywidget" in p)]
    return 1 if unfixed or report.unfixed else 0
