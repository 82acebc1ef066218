"""Readable in every state, measured in JupyterLab in Chromium: long errors, sorting, confirmation."""

from __future__ import annotations

from typing import Any

import pytest

from modelarts_widgets.emulator import Emulator

from .conftest import STEP_MS, Notebook, Server, write_notebook

pytestmark = pytest.mark.e2e

WIDGET_CELL = "from modelarts_widgets import JobConfigTable\nw = JobConfigTable(protect=['prod-*'])\nw"
LONG = "Internal error: " + "the backend gave a long list of reasons for this failure, " * 25 + "the end."


# JupyterLab lays out a resized window over a few frames; measure once it has.
SETTLED = (
    "() => new Promise(r => setTimeout(() => requestAnimationFrame(() => requestAnimationFrame(r)), 50))"
)


def _box(locator: Any) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None
    return dict(box)


def test_long_errors_stay_two_lines_and_confirmation_buttons_one_line(
    page: Any, lab: Server, e2e_emulator: Emulator
) -> None:
    width = 1400  # the page fixture's default
    write_notebook(lab.root, f"readable-{width}.ipynb", [WIDGET_CELL])
    notebook = Notebook(page, lab, f"readable-{width}.ipynb")
    notebook.run_all()
    names = sorted(n for n in e2e_emulator.store.names() if not n.startswith("prod-"))[:5]
    bad = names[0]
    e2e_emulator.faults.fail_names = {bad: [400, "ModelArts.0999", LONG]}
    for name in names:
        page.get_by_role("checkbox", name=f"Select {name}").check()
    page.get_by_role("button", name=f"Delete {len(names)} selected").click()

    # Whatever the width, narrow window or wide, the buttons sit side by side beside the question.
    for sweep in range(760, 1441, 20):
        page.set_viewport_size({"width": sweep, "height": 900})
        page.evaluate(SETTLED)
        confirm = _box(page.get_by_role("button", name="Confirm"))
        cancel = _box(page.get_by_role("button", name="Cancel"))
        assert abs(confirm["y"] - cancel["y"]) < 1, sweep  # on one line
        assert confirm["height"] < 30, sweep  # each label on one line
        assert cancel["height"] < 30, sweep
        bar = _box(page.locator(".maw-confirm"))
        text = _box(page.locator(".maw-confirm-text"))
        assert text["y"] <= confirm["y"] + confirm["height"] / 2 <= text["y"] + text["height"], (
            sweep
        )  # beside it
        assert cancel["x"] + cancel["width"] <= bar["x"] + bar["width"] + 1, sweep  # inside the widget
    page.set_viewport_size({"width": width, "height": 900})

    page.get_by_role("button", name="Confirm").click()
    row = notebook.row(bad)
    row.get_by_text("Failed").wait_for(timeout=STEP_MS)
    line = float(
        page.evaluate(
            "() => parseFloat(getComputedStyle(document.querySelector('.maw-error summary')).lineHeight)"
        )
    )
    clamped = _box(row)["height"]
    assert clamped <= 2 * line + 10, (clamped, line)  # two lines and the cell's padding
    cell = row.locator("td.maw-col-status")
    title = cell.get_attribute("title") or ""
    assert title.startswith("ModelArts.0999: ")  # the whole text on hover
    assert LONG in title
    summary = cell.locator("summary")
    assert summary.evaluate("s => s.scrollHeight > s.clientHeight + 1")  # clamped, not cut short

    summary.click()  # the expandable detail
    assert cell.locator("details").evaluate("d => d.open")
    expanded = _box(row)["height"]
    assert expanded > 3 * line
    assert summary.evaluate("s => s.scrollHeight <= s.clientHeight + 1")  # all of it shows
    assert clamped < expanded


def test_engine_column_sorts_by_what_it_shows(page: Any, lab: Server, e2e_emulator: Emulator) -> None:
    write_notebook(lab.root, "engine-sort.ipynb", [WIDGET_CELL])
    notebook = Notebook(page, lab, "engine-sort.ipynb")
    notebook.run_all()
    page.locator(".maw-root button.maw-sort", has_text="Engine").click()
    shown = page.locator(".maw-root tbody td.maw-col-engine").all_inner_texts()
    assert len(shown) == len(e2e_emulator.store.names())
    in_order = page.evaluate(
        "(xs) => xs.every((x, i) => i === 0 || xs[i - 1].localeCompare(x, undefined,"
        " {numeric: true, sensitivity: 'base'}) <= 0)",
        shown,
    )
    assert in_order, shown


def test_a_long_error_in_the_trash_list_keeps_to_its_column(
    page: Any, lab: Server, e2e_emulator: Emulator
) -> None:
    """The Trash view lists each backed-up name with its status; a long error must not run over
    the names in the next column (it is cut to its own column, with the whole text on hover)."""
    write_notebook(lab.root, "trash-long.ipynb", [WIDGET_CELL])
    notebook = Notebook(page, lab, "trash-long.ipynb")
    notebook.run_all()
    names = sorted(n for n in e2e_emulator.store.names() if not n.startswith("prod-"))[:4]
    e2e_emulator.faults.fail_names = {names[0]: [400, "ModelArts.0999", LONG]}  # backed up, then failed
    for name in names:
        page.get_by_role("checkbox", name=f"Select {name}").check()
    page.get_by_role("button", name=f"Delete {len(names)} selected").click()
    page.get_by_role("button", name="Confirm").click()
    notebook.row(names[0]).get_by_text("Failed").wait_for(timeout=STEP_MS)
    page.get_by_role("button", name="Trash", exact=True).click()
    trash = page.get_by_role("region", name="Trash: backups of deleted configs")
    trash.get_by_role("checkbox", name=f"Restore {names[0]}").first.wait_for(timeout=STEP_MS)
    for width in (800, 1400):
        page.set_viewport_size({"width": width, "height": 900})
        page.evaluate(SETTLED)
        for name in names:
            item = trash.locator("li", has=page.get_by_role("checkbox", name=f"Restore {name}")).first
            painted_within = item.evaluate(
                "li => li.scrollWidth <= li.clientWidth + 1 || getComputedStyle(li).overflowX !== 'visible'"
            )
            assert painted_within, (width, name)
            assert _box(item)["height"] < 30, (width, name)  # one line
    failed = trash.locator("li", has=page.get_by_role("checkbox", name=f"Restore {names[0]}")).first
    assert LONG in (failed.locator(".maw-state").get_attribute("title") or "")  # the whole text on hover
