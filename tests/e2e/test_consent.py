"""Issue 12 in a real browser: the confirmation is the contract, and the page owns only the selection."""

from __future__ import annotations

from typing import Any

import pytest

from modelarts_widgets.emulator import Emulator

from .conftest import STEP_MS, Notebook, Server, write_notebook
from .test_e2e import STATE_CELL, WIDGET_CELL, _deletable

pytestmark = pytest.mark.e2e

# Finds the widget's own ipywidgets model through JupyterLab's widget renderer (as any script on
# the page could) and keeps it in window.__mawModel, so that the test can act as a hostile page.
FIND_MODEL = """async (modelId) => {
    const panel = window.jupyterapp.shell.currentWidget;
    const seen = new Set();
    const stack = [...panel.content.widgets];
    while (stack.length) {
        const widget = stack.pop();
        if (!widget || seen.has(widget)) continue;
        seen.add(widget);
        if (widget._manager && widget._manager.promise) {
            const manager = await widget._manager.promise;
            window.__mawModel = await manager.get_model(modelId);
            return true;
        }
        if (typeof widget.children === "function") stack.push(...widget.children());
        if (widget.outputArea) stack.push(widget.outputArea);
    }
    return false;
}"""


@pytest.fixture(params=["lab", "notebook7"])
def server(request: pytest.FixtureRequest) -> Server:
    return request.getfixturevalue(request.param)


def _open(page: Any, server: Server, name: str, *cells: str) -> Notebook:
    write_notebook(server.root, name, [WIDGET_CELL, STATE_CELL, *cells])
    notebook = Notebook(page, server, name)
    notebook.run_all()
    return notebook


def test_a_cell_changing_the_selection_withdraws_the_confirmation(
    page: Any, server: Server, e2e_emulator: Emulator
) -> None:
    a, b, other = _deletable(e2e_emulator, 3)
    notebook = _open(page, server, "withdrawn.ipynb", f"w.selected = [{other!r}]")
    before = e2e_emulator.store.names()
    page.get_by_role("checkbox", name=f"Select {other}").uncheck()  # run_all ran the cell once
    for name in (a, b):
        page.get_by_role("checkbox", name=f"Select {name}").check()
    page.get_by_role("button", name="Delete 2 selected").click()
    confirm = page.get_by_role("button", name="Confirm")
    confirm.wait_for(timeout=STEP_MS)
    notebook.run_cell(2)  # the cell sets w.selected = [other] while the confirmation is open
    page.locator(".maw-notice", has_text="confirmation was withdrawn").wait_for(timeout=STEP_MS)
    assert not confirm.is_visible()
    assert e2e_emulator.store.names() == before
    assert e2e_emulator.count("DELETE") == 0
    # Asked again, the confirmation names the new selection, and Confirm deletes exactly that.
    page.get_by_role("button", name="Delete 1 selected").click()
    assert f"Delete 1 config ({other})?" in page.locator(".maw-confirm-text").inner_text()
    confirm.click()
    notebook.row(other).get_by_text("Deleted", exact=True).wait_for(timeout=STEP_MS)
    assert e2e_emulator.store.names() == before - {other}


def test_the_confirmation_counts_hidden_names_and_lists_them_all(
    page: Any, server: Server, e2e_emulator: Emulator
) -> None:
    chosen = _deletable(e2e_emulator, 4)
    notebook = _open(page, server, "hidden.ipynb")
    before = e2e_emulator.store.names()
    for name in chosen:
        page.get_by_role("checkbox", name=f"Select {name}").check()
    page.get_by_role("searchbox", name="Filter configs").fill(chosen[0])
    page.get_by_role("button", name="Delete 4 selected").click()
    text = page.locator(".maw-confirm-text").inner_text()
    hidden = sum(1 for n in chosen if chosen[0].lower() not in n.lower())
    assert text.startswith(f"Delete 4 configs — {hidden} of them hidden by the filter ("), text
    page.get_by_text("Show all 4 names").click()
    items = page.locator(".maw-confirm-list li")
    items.first.wait_for(timeout=STEP_MS)
    assert items.all_inner_texts() == chosen
    assert all(item.is_visible() for item in items.all())
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("searchbox", name="Filter configs").fill("")
    for name in chosen:
        notebook.row(name).get_by_text("Deleted", exact=True).wait_for(timeout=STEP_MS)
    assert e2e_emulator.store.names() == before - set(chosen)


def test_a_page_writing_running_false_is_reverted_and_starts_nothing(
    page: Any, server: Server, e2e_emulator: Emulator
) -> None:
    first, second = _deletable(e2e_emulator, 2)
    notebook = _open(
        page, server, "hostile.ipynb", "print('MODEL', w.model_id)", "print('RUNNING', w.running, w.phase)"
    )
    notebook.run_cell(2)
    model_id = notebook.output_line("MODEL").split()[1]
    assert page.evaluate(FIND_MODEL, model_id)
    e2e_emulator.faults.latency = 3.0
    page.get_by_role("checkbox", name=f"Select {first}").check()
    page.get_by_role("button", name="Delete 1 selected").click()
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("button", name="Stop").wait_for(timeout=STEP_MS)
    page.wait_for_function("() => window.__mawModel.get('running') === true", timeout=STEP_MS)
    # The hostile page: running = false, phase = error, then a delete of another name.
    page.evaluate(
        """(name) => {
            const model = window.__mawModel;
            model.set({ running: false, phase: "error" });
            model.save_changes();
            model.set("selected", [name]);
            model.save_changes();
            model.send({ type: "delete", names: [name], token: "hostile-1" });
        }""",
        second,
    )
    # Python refuses and sets the page's copy back.
    page.wait_for_function(
        "() => window.__mawModel.get('running') === true && window.__mawModel.get('phase') === 'ready'",
        timeout=STEP_MS,
    )
    notebook.run_cell(3)
    assert notebook.output_line("RUNNING") == "RUNNING True ready"
    page.get_by_role("button", name="Stop").wait_for(state="hidden", timeout=30_000)
    assert first not in e2e_emulator.store.names()
    assert second in e2e_emulator.store.names()
    assert e2e_emulator.count("DELETE", second) == 0
