"""Every notebook in notebooks/ runs top to bottom against the emulator, and does what it says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from modelarts_widgets.emulator import DEFAULT_AK, DEFAULT_SK, Emulator
from modelarts_widgets.emulator.seed import seed_configs
from modelarts_widgets.sdk.configs import CREATE_FIELDS, DATA_FIELDS, UPDATE_REQUIRED

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def run(name: str, tmp_path: Path) -> Any:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    # Everything the run produced, outputs and the saved widget state, is free of credentials.
    produced = nbformat.writes(nb)
    for secret in (DEFAULT_AK, DEFAULT_SK):
        assert secret not in produced
    return nb


def text_of(cell: Any) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output["text"])
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
        elif output.get("output_type") == "error":
            parts.append(f"{output['ename']}: {output['evalue']}")
    return "\n".join(parts)


def all_text(nb: Any) -> str:
    return "\n".join(text_of(cell) for cell in nb.cells if cell.cell_type == "code")


@pytest.fixture
def seeded(emulator: Emulator, emulator_env: dict[str, str]) -> Emulator:
    emulator.store.replace(seed_configs(40, seed=5))
    return emulator


def test_notebooks_are_committed_without_outputs() -> None:
    for path in NOTEBOOKS.glob("*.ipynb"):
        nb = json.loads(path.read_text())
        assert all(not cell.get("outputs") for cell in nb["cells"] if cell["cell_type"] == "code"), path.name


def test_quickstart(seeded: Emulator, tmp_path: Path) -> None:
    before = seeded.store.names()
    nb = run("quickstart.ipynb", tmp_path)
    widget_output = nb.cells[1].outputs[0]["data"]
    assert "application/vnd.jupyter.widget-view+json" in widget_output
    assert "application/vnd.jupyter.widget-state+json" in nb.metadata.get("widgets", {})  # scanned too
    assert f"40 configs in project {seeded.project_id}" in text_of(nb.cells[3])
    assert "'quickstart-scratch-1': {'is_success': True}" in text_of(nb.cells[6])
    assert seeded.store.names() == before  # only its own scratch configs came and went


def test_magic(seeded: Emulator, tmp_path: Path) -> None:
    before = seeded.store.names()
    tmp = sorted(n for n in before if n.endswith("-tmp"))
    nb = run("magic.ipynb", tmp_path)
    preview = text_of(nb.cells[3])
    assert f"Dry run: would delete {len(tmp)} config" in preview
    assert all(name in preview for name in tmp)
    assert "Deleted 3 of 3" in text_of(nb.cells[7])
    assert "['magic-scratch-1', 'magic-scratch-2', 'magic-scratch-3']" in text_of(nb.cells[8])
    assert "application/vnd.jupyter.widget-view+json" in nb.cells[10].outputs[0]["data"]
    assert "Restored 1 of 1" in text_of(nb.cells[12])
    assert "Deleted 1 of 1" in text_of(nb.cells[14])
    assert seeded.store.names() == before
    assert "Error" not in all_text(nb)


def test_sdk(seeded: Emulator, tmp_path: Path) -> None:
    before = seeded.store.names()
    nb = run("sdk.ipynb", tmp_path)
    assert "40 configs; newest:" in text_of(nb.cells[2])
    assert "'is_success': True" in text_of(nb.cells[3])
    for index in (6, 8, 10):
        assert text_of(nb.cells[index]).strip() == "{'is_success': True}"
    failure = text_of(nb.cells[12])
    assert "'is_success': False" in failure
    assert "ModelArts.0015" in failure
    update = text_of(nb.cells[14]).splitlines()
    name, length = update[0].split()
    assert name.startswith("cfg-")
    assert 1 <= int(length) <= 20
    assert update[1:] == [
        "{'is_success': True}",
        "{'config_desc': 'changed by update_job_configs', 'engine_name': 'PyTorch', "
        "'engine_version': 'PyTorch-1.0.0-python3.6', 'spec_code': 'modelarts.vm.gpu.p100', "
        "'worker_server_num': 1}",
        "{'is_success': True}",
    ]
    # What reached the server: the documented create body with ids resolved, and a full update.
    creates = [body for method, _, body in seeded.received if method == "POST"]
    assert len(creates) == 4
    documented = set(CREATE_FIELDS) | set(DATA_FIELDS) | {"config_name"}
    for body in creates:
        assert set(body) <= documented
        assert (body["spec_id"], body["engine_id"], body["data_url"]) == (5, 2, "/my-bucket/scratch/data/")
    (put,) = [body for method, _, body in seeded.received if method == "PUT"]
    assert set(UPDATE_REQUIRED) <= set(put)
    assert put["config_desc"] == "changed by update_job_configs"
    assert put["parameter"] == [{"label": "learning_rate", "value": "0.01"}]
    assert seeded.store.names() == before
