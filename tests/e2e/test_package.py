"""Ready to publish: ``python -m build`` makes an sdist and a wheel (built from that sdist) that
install in a fresh virtualenv with the ``demo`` extra, import, list configs from the emulator
and render in the JupyterLab that the extra brought."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path
from typing import Any

import pytest

from modelarts_widgets.emulator import Emulator

from .conftest import Notebook, Server

ROOT = Path(__file__).resolve().parents[2]
VERSION = re.search(
    r'^__version__ = "([^"]+)"', (ROOT / "modelarts_widgets" / "__init__.py").read_text(), re.M
)


def _run(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)
    assert result.returncode == 0, f"{' '.join(args)}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # Without --sdist/--wheel, build makes the sdist and then the wheel from the unpacked sdist.
    _run(sys.executable, "-m", "build", "--outdir", str(out), str(ROOT), timeout=600)
    return out


@pytest.fixture(scope="module")
def fresh_python(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A new virtualenv with the wheel and its ``demo`` extra, as a user would install it."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    _run(sys.executable, "-m", "venv", str(venv))
    python = str(venv / "bin" / "python")
    (wheel,) = dist.glob("*.whl")
    _run(python, "-m", "pip", "install", "-q", f"{wheel}[demo]", timeout=900)
    return python


def test_version_is_written_once_and_license_matches() -> None:
    assert VERSION
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert not re.search(r"^version\s*=", pyproject, re.M)  # dynamic, read from __init__.py
    assert 'license = { text = "Apache-2.0" }' in pyproject
    license_text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in license_text
    assert "Version 2.0, January 2004" in license_text
    assert f"## {VERSION.group(1)}" in (ROOT / "CHANGELOG.md").read_text()


def test_sdist_and_wheel_hold_what_they_need(dist: Path) -> None:
    assert VERSION
    version = VERSION.group(1)
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    for needed in ("LICENSE", "README.md", "CHANGELOG.md", "pyproject.toml", "PKG-INFO", "js/widget.js"):
        assert needed in names, needed
    assert "modelarts_widgets/__init__.py" in names
    assert not [n for n in names if n.startswith("tests/")]  # no tests it could not run

    (wheel,) = dist.glob("*.whl")
    assert wheel.name == f"modelarts_widgets-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        files = set(archive.namelist())
        info = f"modelarts_widgets-{version}.dist-info"
        metadata = Parser().parsestr(archive.read(f"{info}/METADATA").decode())
    for needed in ("static/widget.js", "static/widget.css", "py.typed", "emulator/server.py"):
        assert f"modelarts_widgets/{needed}" in files, needed
    assert f"{info}/licenses/LICENSE" in files
    assert metadata["Version"] == version
    assert "Apache-2.0" in (metadata.get("License-Expression") or metadata.get("License") or "")
    assert "demo" in metadata.get_all("Provides-Extra")
    demo = [r for r in metadata.get_all("Requires-Dist") if re.search(r"extra == [\"']demo[\"']", r)]
    assert sorted(r.split(">")[0] for r in demo) == ["ipykernel", "jupyterlab"]


def test_the_test_extra_brings_what_the_tests_run(dist: Path) -> None:
    """``pip install ".[test]"`` is all the tests need (README): this file runs ``python -m build``."""
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(archive.read(name).decode())
    test = [r for r in metadata.get_all("Requires-Dist") if re.search(r"extra == [\"']test[\"']", r)]
    needed = {"build", "pytest", "playwright", "nbclient", "nbformat", "jupyterlab", "ipykernel"}
    assert needed <= {re.split(r"[<>=!~; \[]", r, maxsplit=1)[0] for r in test}


SMOKE = """
import json, sys
from pathlib import Path
import modelarts_widgets
from modelarts_widgets import JobConfigTable
from modelarts_widgets.emulator import Emulator  # the emulator ships in the wheel too

table = JobConfigTable(protect=["prod-*"])
table.wait_loaded(60)
static = Path(modelarts_widgets.__file__).parent / "static"
print(json.dumps({
    "file": modelarts_widgets.__file__,
    "version": modelarts_widgets.__version__,
    "phase": table.phase,
    "rows": sorted(r["name"] for r in table.rows),
    "locked": sorted(r["name"] for r in table.rows if r["lock"]),
    "static": sorted(p.name for p in static.iterdir()),
}))
"""


def test_fresh_venv_imports_and_lists_the_emulator(
    fresh_python: str, emulator: Emulator, tmp_path: Path
) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        **emulator.env(),
        "MODELARTS_METADATA_DISABLED": "1",
    }
    out = _run(fresh_python, "-c", SMOKE, cwd=tmp_path, env=env, timeout=120).stdout
    found = json.loads(out.strip().splitlines()[-1])
    assert found["file"].startswith(str(Path(fresh_python).parents[1]))  # the installed copy
    assert VERSION
    assert found["version"] == VERSION.group(1)
    assert found["phase"] == "ready"
    assert found["rows"] == sorted(emulator.store.names())
    assert found["locked"] == sorted(n for n in emulator.store.names() if n.startswith("prod-"))
    assert found["static"] == ["widget.css", "widget.js"]


@pytest.mark.e2e
def test_fresh_venv_renders_in_its_jupyterlab(
    fresh_python: str, page: Any, e2e_emulator: Emulator, tmp_path: Path
) -> None:
    root = tmp_path / "notebooks"
    root.mkdir()
    env = {**e2e_emulator.env(), "MODELARTS_METADATA_DISABLED": "1", "PYTHONPATH": ""}
    server = Server("lab", root, env, python=fresh_python)
    try:
        nb = {
            "cells": [
                {
                    "cell_type": "code",
                    "metadata": {},
                    "outputs": [],
                    "execution_count": None,
                    "source": "import modelarts_widgets\nprint('FROM', modelarts_widgets.__file__)\n"
                    "from modelarts_widgets import JobConfigTable\nJobConfigTable(protect=['prod-*'])",
                }
            ],
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
        (root / "fresh.ipynb").write_text(json.dumps(nb))
        notebook = Notebook(page, server, "fresh.ipynb")
        notebook.run_all()
        rows = page.locator(".maw-root tbody tr[data-name]")
        count = len(e2e_emulator.store.names())
        page.wait_for_function(
            f"() => document.querySelectorAll('.maw-root tbody tr[data-name]').length === {count}",
            timeout=30_000,
        )
        assert rows.count() == len(e2e_emulator.store.names())
        assert page.locator(".maw-root .maw-lock").count() >= 1
        installed = notebook.output_line("FROM").removeprefix("FROM ")
        assert installed.startswith(str(Path(fresh_python).parents[1]))
    finally:
        server.stop()
