"""A new user's first run: the quick start tells a true story, and the examples match the demo data."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from IPython.core.interactiveshell import InteractiveShell
from nbclient import NotebookClient

from modelarts_widgets.emulator import Emulator
from modelarts_widgets.emulator.seed import seed_configs
from modelarts_widgets.magic import localize_help

ROOT = Path(__file__).resolve().parents[1]
DEMO_CONFIGS = 60  # scripts/demo's default


def _demo_names(count: int = DEMO_CONFIGS) -> set[str]:
    return {str(c["config_name"]) for c in seed_configs(count)}  # the emulator's default seed


def test_quickstart_table_shows_the_project_as_it_is_and_undo_brings_back_no_scratch(
    emulator: Emulator, emulator_env: dict[str, str], tmp_path: Path, isolated_env: Path
) -> None:
    emulator.store.replace(seed_configs(25))
    before = emulator.store.names()
    nb = nbformat.read(ROOT / "notebooks" / "quickstart.ipynb", as_version=4)
    # After Run All, what the first widget holds, and what its Undo and Trash would offer.
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "import json\n"
            "table.wait_loaded()\n"
            "print('FIRST', json.dumps({'rows': sorted(r['name'] for r in table.rows),"
            " 'undo': table.undo_count, 'undone': table.undo(wait=True),"
            " 'trash': [n for f in table.list_trash() for n in f['names']]}))"
        )
    )
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    out = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.get("output_type") == "stream")
    first = json.loads(out.split("FIRST ", 1)[1])
    assert first["rows"] == sorted(before)  # no scratch config, none struck through as deleted
    assert first["undo"] == 0
    assert first["undone"] == {}
    assert not any(n.startswith("quickstart-scratch") for n in first["trash"])
    assert emulator.store.names() == before  # the scratch configs are gone and stay gone
    printed = "".join(o.get("text", "") for o in nb.cells[3].outputs)
    assert printed.startswith(f"{len(before)} configs in project")  # the text's count is the table's
    assert not (isolated_env / ".modelarts_widgets" / "trash").exists() or not any(
        (isolated_env / ".modelarts_widgets" / "trash").iterdir()
    )


def _magic_lines() -> Iterator[tuple[str, str]]:
    """Every %modelarts_delete example in the README and the notebooks: (where, arguments)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for line in readme.splitlines():
        found = re.search(r"%modelarts_delete\b(.*?)(?:\s+#.*)?$", line)
        if found and line.lstrip().startswith(("%", "report =")):
            yield "README.md", found.group(1)
    # What `%modelarts_delete?` shows, which the README points to for every option.
    help_text = localize_help()  # what %load_ext makes the docstring
    for line in help_text.split("Examples:", 1)[-1].splitlines():
        found = re.search(r"%modelarts_delete\b(.*?)(?:\s+#.*)?$", line)
        if found and line.lstrip().startswith(("%", "report =")):
            yield "%modelarts_delete?", found.group(1)
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                for line in cell.source.splitlines():
                    if line.startswith("%modelarts_delete"):
                        yield path.name, line[len("%modelarts_delete") :]


def test_every_magic_example_chooses_configs_that_exist_in_the_demo() -> None:
    names = _demo_names()
    examples = list(_magic_lines())
    assert len(examples) >= 10
    scratch = {"magic-scratch-1", "magic-scratch-2", "magic-scratch-3"}  # the magic notebook makes them
    for where, line in examples:
        argv = shlex.split(line)
        options = {"--match", "--search", "--older-than", "--restore", "-o", "--session", "--concurrency"}
        given: list[str] = []
        skip = False
        for arg in argv:
            if skip:
                skip = False
            elif arg in options:
                skip = True
            elif not arg.startswith("-"):
                given.append(arg)
        for name in given:
            assert name in names | scratch, f"{where}: {line}: no config {name!r} in the demo"
        if "--match" in argv:
            glob = argv[argv.index("--match") + 1]
            assert fnmatch.filter(names | scratch, glob), f"{where}: --match {glob!r} matches nothing"
        if "--search" in argv:
            text = argv[argv.index("--search") + 1]
            assert any(text in n for n in names), f"{where}: --search {text!r} finds nothing"


@pytest.fixture
def ip(emulator_env: dict[str, str]) -> InteractiveShell:
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "modelarts_widgets")
    return shell


@pytest.mark.parametrize(
    ("line", "criteria"),
    [
        ("--match 'tmp-*'", "--match 'tmp-*'"),
        ("--match '*-tmp' --older-than 100000", "--match '*-tmp' --older-than 100000"),
        ("--search no-such-text", "--search no-such-text"),
    ],
)
def test_an_empty_dry_run_says_nothing_matches_and_how_to_widen(
    emulator: Emulator, ip: InteractiveShell, line: str, criteria: str
) -> None:
    before = emulator.store.names()
    report = ip.run_line_magic("modelarts_delete", line)
    text = repr(report)
    assert text.startswith(f"Nothing matches {criteria}; nothing was deleted.")
    assert "To widen the choice" in text
    assert "%modelarts_delete with no arguments" in text
    assert "Nothing matches" in report._repr_html_()
    assert "would delete 0" not in text
    assert emulator.store.names() == before
    assert emulator.count("DELETE") == 0


@pytest.mark.parametrize("yes", ["", " --yes"], ids=["dry run", "--yes"])
def test_a_run_that_chooses_nothing_to_delete_offers_no_backup_and_counts_each_name_once(
    emulator: Emulator, ip: InteractiveShell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, yes: str
) -> None:
    """Only unknown or protected names: nothing to delete, so no --yes advice and no backup to undo."""
    monkeypatch.setenv("MODELARTS_TRASH_DIR", str(tmp_path / "trash"))
    monkeypatch.setenv("MODELARTS_PROTECT", "prod-*")
    prod = sorted(n for n in emulator.store.names() if n.startswith("prod-"))[:1]
    before = emulator.store.names()
    for line in ["no-such-config", f"no-such-config {prod[0]}", prod[0]]:
        report = ip.run_line_magic("modelarts_delete", line + yes)
        for text in (repr(report), report._repr_html_()):
            assert "add --yes" not in text, text
            assert "<code>--yes</code>" not in text, text
            assert "Backup:" not in text, text  # no backup was made ...
            assert "would be saved" not in text, text  # ... or would be
            assert "--restore latest" not in text, text  # it would bring back an older run's configs
            assert "failed" not in text, text  # an unknown name is "not found", once
        if "no-such-config" in line:
            assert "1 not found" in repr(report)
            assert "To widen the choice" in repr(report)
    assert emulator.store.names() == before
    assert emulator.count("DELETE") == 0
    assert not (tmp_path / "trash").exists() or not any((tmp_path / "trash").iterdir())
