"""The widget in a real JupyterLab 4 and Notebook 7, driven in headless Chromium, against the emulator."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from modelarts_widgets.emulator import Emulator

from .conftest import ARTIFACTS, STEP_MS, Notebook, Server, write_notebook

pytestmark = pytest.mark.e2e

WIDGET_CELL = (
    "import json\nfrom modelarts_widgets import JobConfigTable\nw = JobConfigTable(protect=['prod-*'])\nw"
)
STATE_CELL = "print('STATE', json.dumps({'results': w.results, 'selected': w.selected}))"


def _open(page: Any, server: Server, name: str, *cells: str) -> Notebook:
    write_notebook(server.root, name, [WIDGET_CELL, STATE_CELL, *cells])
    notebook = Notebook(page, server, name)
    notebook.run_all()
    return notebook


def _deletable(emulator: Emulator, count: int) -> list[str]:
    return sorted(n for n in emulator.store.names() if not n.startswith("prod-"))[:count]


def _tick_delete_confirm(page: Any, names: list[str]) -> None:
    for name in names:
        page.get_by_role("checkbox", name=f"Select {name}").check()
    page.get_by_role("button", name=f"Delete {len(names)} selected").click()
    page.get_by_role("button", name="Confirm").click()


@pytest.fixture(params=["lab", "notebook7"])
def server(request: pytest.FixtureRequest) -> Server:
    """Each test runs in JupyterLab 4 and in Notebook 7."""
    return request.getfixturevalue(request.param)


def test_tick_two_delete_confirm(page: Any, server: Server, e2e_emulator: Emulator) -> None:
    emulator = e2e_emulator
    notebook = _open(page, server, "two.ipynb")
    before = emulator.store.names()
    chosen = _deletable(emulator, 2)
    _tick_delete_confirm(page, chosen)
    for name in chosen:
        notebook.row(name).get_by_text("Deleted", exact=True).wait_for(timeout=STEP_MS)
    assert emulator.store.names() == before - set(chosen)
    notebook.run_cell(1)
    state = json.loads(notebook.output_line("STATE").removeprefix("STATE "))
    assert state["results"] == {n: {"is_success": True} for n in chosen}


def test_selection_set_in_python_shows_in_the_page(page: Any, server: Server, e2e_emulator: Emulator) -> None:
    name = _deletable(e2e_emulator, 1)[0]
    notebook = _open(page, server, "python-side.ipynb", f"w.selected = [{name!r}]")
    box = page.get_by_role("checkbox", name=f"Select {name}")
    notebook.run_cell(2)
    page.wait_for_function(
        "(n) => document.querySelector(`input[aria-label='Select ${n}']`)?.checked === true", arg=name
    )
    assert box.is_checked()
    assert page.get_by_role("button", name="Delete 1 selected").is_enabled()


def test_undo_restores_what_was_deleted(page: Any, server: Server, e2e_emulator: Emulator) -> None:
    notebook = _open(page, server, "undo.ipynb")
    chosen = _deletable(e2e_emulator, 2)
    _tick_delete_confirm(page, chosen)
    for name in chosen:
        notebook.row(name).get_by_text("Deleted", exact=True).wait_for(timeout=STEP_MS)
    assert not set(chosen) & e2e_emulator.store.names()
    page.get_by_role("button", name="Undo: restore 2").click()
    for name in chosen:
        notebook.row(name).get_by_text("Restored", exact=True).wait_for(timeout=STEP_MS)
    assert set(chosen) <= e2e_emulator.store.names()
    page.get_by_role("button", name="Trash").click()
    trash = page.get_by_role("region", name="Trash: backups of deleted configs")
    trash.get_by_role("checkbox", name=f"Restore {chosen[0]}").first.wait_for(timeout=STEP_MS)  # newest first


def test_failure_shows_inline_while_the_other_is_deleted(
    page: Any, server: Server, e2e_emulator: Emulator
) -> None:
    notebook = _open(page, server, "failure.ipynb")
    ok, bad = _deletable(e2e_emulator, 2)
    e2e_emulator.faults.fail_names = {bad: [403, "ModelArts.0108", "You are not authorized to delete."]}
    _tick_delete_confirm(page, [ok, bad])
    notebook.row(ok).get_by_text("Deleted", exact=True).wait_for(timeout=STEP_MS)
    failed = notebook.row(bad)
    failed.get_by_text("ModelArts.0108: You are not authorized to delete.").wait_for(timeout=STEP_MS)
    assert ok not in e2e_emulator.store.names()
    assert bad in e2e_emulator.store.names()
    page.get_by_role("button", name="Retry failed").wait_for(timeout=STEP_MS)
    assert "1 failed" in page.locator(".maw-summary").inner_text()


def test_config_text_is_rendered_as_text(page: Any, server: Server, e2e_emulator: Emulator) -> None:
    payload = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
    name = _deletable(e2e_emulator, 1)[0]
    snapshot = e2e_emulator.store.snapshot()[name]
    # Every field the table shows, and the error message of a failed delete, carry the payload.
    e2e_emulator.store.replace(
        [
            *(c for n, c in e2e_emulator.store.snapshot().items() if n != name),
            {**snapshot, "config_desc": payload, "engine_name": payload, "engine_version": payload + "v"},
        ]
    )
    e2e_emulator.faults.fail_names = {name: [400, "<b>ModelArts.0104</b>", payload]}
    notebook = _open(page, server, "xss.ipynb")
    row = notebook.row(name)
    row.get_by_text(payload, exact=True).wait_for(timeout=STEP_MS)
    row.get_by_text(payload + "v", exact=True).wait_for(timeout=STEP_MS)
    _tick_delete_confirm(page, [name])
    row.get_by_text(f"<b>ModelArts.0104</b>: {payload}").wait_for(timeout=STEP_MS)
    assert page.locator(".maw-root img").count() == 0
    assert page.locator(".maw-root script").count() == 0
    assert page.locator(".maw-root tbody b").count() == 0
    assert page.evaluate("() => window.__pwned") is None


def test_kernel_stays_responsive_during_a_slow_delete(
    page: Any, server: Server, e2e_emulator: Emulator
) -> None:
    marker_cell = "import time\nprint('RESPONSIVE', time.time())"
    notebook = _open(page, server, "responsive.ipynb", marker_cell)
    chosen = _deletable(e2e_emulator, 6)
    e2e_emulator.faults.latency = 0.8  # 6 deletes at concurrency 8 still take 0.8 s each...
    e2e_emulator.injector.update({"rate_limit": 2, "retry_after": 1})  # ...and throttling stretches it
    _tick_delete_confirm(page, chosen)
    notebook.row(chosen[0]).get_by_text("Deleting…").or_(
        notebook.row(chosen[0]).get_by_text("Queued")
    ).first.wait_for(timeout=STEP_MS)
    notebook.run_cell(2)
    notebook.output_line("RESPONSIVE")
    still_there = set(chosen) & e2e_emulator.store.names()
    assert still_there, "the cell ran only after the delete had finished"
    for name in chosen:
        notebook.row(name).get_by_text("Deleted", exact=True).wait_for(timeout=60_000)
    assert not set(chosen) & e2e_emulator.store.names()


def test_stop_leaves_unsent_configs_in_place(page: Any, server: Server, e2e_emulator: Emulator) -> None:
    notebook = _open(page, server, "stop.ipynb")
    everything = {n for n in e2e_emulator.store.names() if not n.startswith("prod-")}
    e2e_emulator.faults.latency = 1.5
    page.get_by_role("checkbox", name="Select all shown").check()
    page.get_by_role("button", name="Delete").first.click()
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("button", name="Stop", exact=True).click()
    page.get_by_role("button", name="Stop", exact=True).wait_for(state="hidden", timeout=30_000)
    notebook.run_cell(1)
    state = json.loads(notebook.output_line("STATE").removeprefix("STATE "))
    cancelled = {n for n, r in state["results"].items() if r.get("error_code") == "Client.Cancelled"}
    deleted = {n for n, r in state["results"].items() if r["is_success"]}
    assert cancelled, state
    assert cancelled <= e2e_emulator.store.names()
    assert not deleted & e2e_emulator.store.names()
    for name in sorted(cancelled)[:2]:
        assert notebook.row(name).get_by_text("Not sent").count() == 1
    assert set(state["results"]) == everything  # every ticked name has its one status


def test_shortcuts_are_suppressed_in_the_filter_box(
    page: Any, server: Server, e2e_emulator: Emulator
) -> None:
    notebook = _open(page, server, "keys.ipynb")
    cells = notebook.cell_count()
    box = page.get_by_role("searchbox", name="Filter configs")
    box.click()
    page.keyboard.press("Escape")  # command mode, if the keys were to reach JupyterLab
    box.click()
    page.keyboard.type("dd")
    time.sleep(0.3)
    assert notebook.cell_count() == cells
    assert box.input_value() == "dd"


def test_screenshots_light_and_dark(page: Any, server: Server, e2e_emulator: Emulator) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    notebook = _open(page, server, "shots.ipynb")
    ok, bad = _deletable(e2e_emulator, 2)
    e2e_emulator.faults.fail_names = {bad: [403, "ModelArts.0108", "You are not authorized."]}
    page.get_by_role("checkbox", name=f"Select {ok}").check()
    page.get_by_role("checkbox", name=f"Select {bad}").check()
    page.get_by_role("button", name="Delete 2 selected").click()
    page.get_by_role("button", name="Confirm").click()
    notebook.row(bad).get_by_text("Failed").wait_for(timeout=STEP_MS)
    widget = page.locator(".maw-root").first
    widget.screenshot(path=str(ARTIFACTS / f"widget-{server.app}-light.png"))
    page.evaluate(
        "() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})"
    )
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=STEP_MS)
    time.sleep(0.5)
    widget.screenshot(path=str(ARTIFACTS / f"widget-{server.app}-dark.png"))
    background = page.evaluate("() => getComputedStyle(document.querySelector('.maw-root')).backgroundColor")
    assert background != "rgb(255, 255, 255)"
    assert (ARTIFACTS / f"widget-{server.app}-light.png").stat().st_size > 5000
