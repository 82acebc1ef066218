"""中文: JupyterLab switched to Chinese through its settings (the zh-CN language pack), the widget
follows, and Delete -> Confirm works; both languages fit at a laptop's notebook width."""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from modelarts_widgets.emulator import Emulator

from .conftest import ARTIFACTS, STEP_MS, Notebook, Server, _server, write_notebook

pytestmark = pytest.mark.e2e

LOCALES = ARTIFACTS.parent / "modelarts_widgets" / "locales"
WIDGET_CELL = "from modelarts_widgets import JobConfigTable\nw = JobConfigTable(protect=['prod-*'])\nw"
CJK = re.compile(r"[\u3400-\u9fff]")
# What a laptop shows: JupyterLab with its file browser open, at 1280 x 800.
VIEWPORT = {"width": 1280, "height": 800}

# Nothing cut off: buttons, headers and messages show their whole text inside the widget, and a
# table cell that ellipsises its text carries the full text as a tooltip.
CUT_OFF = """() => {
  const root = document.querySelector('.maw-root');
  const outer = root.getBoundingClientRect();
  const bad = [];
  const shown = (el) => el.getClientRects().length > 0;
  const texts = 'button, th, .maw-count, .maw-summary, .maw-confirm-text, .maw-message';
  for (const el of root.querySelectorAll(texts)) {
    if (!shown(el)) continue;
    const box = el.getBoundingClientRect();
    if (el.scrollWidth > el.clientWidth + 1) bad.push(`clipped: ${el.textContent}`);
    if (box.right > outer.right + 1 || box.left < outer.left - 1) bad.push(`outside: ${el.textContent}`);
  }
  for (const td of root.querySelectorAll('tbody td')) {
    if (td.scrollWidth > td.clientWidth + 1 && !td.title) bad.push(`no tooltip: ${td.textContent}`);
  }
  return bad;
}"""


@pytest.fixture(scope="session")
def lab_zh(tmp_path_factory: pytest.TempPathFactory, shared_emulator: Emulator) -> Iterator[Server]:
    """JupyterLab set to 中文 the way a user does it: the translation extension's locale setting."""
    if importlib.util.find_spec("jupyterlab_language_pack_zh_CN") is None:
        pytest.fail("jupyterlab-language-pack-zh-CN is not installed: run scripts/setup")
    settings = {"@jupyterlab/translation-extension:plugin": {"locale": "zh_CN"}}
    yield from _server("lab", tmp_path_factory, shared_emulator, settings)


@pytest.fixture(scope="session")
def notebook7_zh(tmp_path_factory: pytest.TempPathFactory, shared_emulator: Emulator) -> Iterator[Server]:
    """Notebook 7 set to 中文 through the same setting (it shares JupyterLab's translation plugin)."""
    settings = {"@jupyterlab/translation-extension:plugin": {"locale": "zh_CN"}}
    yield from _server("notebook", tmp_path_factory, shared_emulator, settings)


@pytest.fixture
def wide_page(browser: Any) -> Iterator[Any]:
    # The browser itself stays English: the widget must follow JupyterLab, not the browser.
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    page.close()
    context.close()
    assert not [e for e in errors if "maw" in e or "widget.js" in e]


def _english_catalog() -> list[str]:
    data = json.loads((LOCALES / "en.json").read_text(encoding="utf-8"))
    forms = [f for v in data.values() for f in ([v] if isinstance(v, str) else v.values())]
    return [part.strip() for f in forms for part in re.split(r"\{\w+\}", f) if len(part.strip()) > 3]


def _open(page: Any, server: Server, name: str) -> Notebook:
    write_notebook(server.root, name, [WIDGET_CELL])
    notebook = Notebook(page, server, name)
    notebook.run_all()
    return notebook


def _plain(emulator: Emulator, count: int) -> list[str]:
    return sorted(n for n in emulator.store.names() if not n.startswith("prod-"))[:count]


@pytest.mark.parametrize("app", ["lab_zh", "notebook7_zh"])
def test_jupyter_in_chinese_shows_the_widget_in_chinese_and_deletes(
    wide_page: Any, app: str, request: pytest.FixtureRequest, e2e_emulator: Emulator
) -> None:
    page = wide_page
    notebook = _open(page, request.getfixturevalue(app), "zh.ipynb")
    assert page.evaluate("() => document.documentElement.lang").lower().startswith("zh")
    root = page.locator(".maw-root").first
    assert root.get_attribute("lang") == "zh-CN"
    text = root.inner_text()
    for name in e2e_emulator.store.names():  # config text is data, shown as stored
        config = e2e_emulator.store.get(name)
        for value in (name, config.get("config_desc"), config.get("engine_version")):
            text = text.replace(str(value or name), " ")
    assert "名称" in text
    assert "创建时间" in text
    assert "删除所选（0）" in text
    english = [s for s in _english_catalog() if s in text]
    assert english == []

    chosen = _plain(e2e_emulator, 2)
    before = e2e_emulator.store.names()
    for name in chosen:
        page.get_by_role("checkbox", name=f"选择 {name}").check()
    page.get_by_role("button", name="删除所选（2）").click()
    confirm = page.locator(".maw-confirm-text")
    assert confirm.inner_text().startswith("确定删除 2 个训练作业参数（")
    page.get_by_role("button", name="确认", exact=True).click()
    for name in chosen:
        notebook.row(name).get_by_text("已删除", exact=True).wait_for(timeout=STEP_MS)
    assert e2e_emulator.store.names() == before - set(chosen)
    page.get_by_role("button", name="撤销：恢复 2 个").wait_for(timeout=STEP_MS)
    # The kernel's own words for this page (the Trash view's scope) follow the page, not $LANG.
    page.get_by_role("button", name="回收站", exact=True).click()
    scope = page.locator(".maw-trash-scope")
    scope.wait_for(timeout=STEP_MS)
    page.wait_for_function(
        "() => /当前为 项目 /.test(document.querySelector('.maw-trash-scope')?.textContent || '')",
        timeout=STEP_MS,
    )
    assert "project " not in scope.inner_text()


@pytest.mark.parametrize(
    ("app", "language"),
    [("lab", "en"), ("lab_zh", "zh-CN"), ("notebook7", "en"), ("notebook7_zh", "zh-CN")],
)
def test_both_languages_fit_at_a_laptops_width(
    wide_page: Any, app: str, language: str, request: pytest.FixtureRequest, e2e_emulator: Emulator
) -> None:
    """Screenshots after a delete with one failure, one protected row and the confirmation bar."""
    server: Server = request.getfixturevalue(app)
    page = wide_page
    notebook = _open(page, server, f"fit-{language}.ipynb")
    ok, bad, more = _plain(e2e_emulator, 3)
    e2e_emulator.faults.fail_names = {bad: [403, "ModelArts.0108", "You are not authorized."]}
    for name in (ok, bad):
        page.locator(f".maw-root tr[data-name='{name}'] input[type=checkbox]").check()
    page.locator(".maw-root .maw-danger").click()
    page.locator(".maw-root .maw-danger-strong").click()
    notebook.row(bad).locator(".maw-state-failed").wait_for(timeout=STEP_MS)
    notebook.row(ok).locator(".maw-state-deleted").wait_for(timeout=STEP_MS)
    page.locator(f".maw-root tr[data-name='{more}'] input[type=checkbox]").check()
    page.locator(".maw-root .maw-danger").click()  # the confirmation bar, left open
    page.locator(".maw-root .maw-confirm").wait_for(timeout=STEP_MS)
    widget = page.locator(".maw-root").first
    assert page.evaluate(CUT_OFF) == []
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"widget-{server.app}-{language}.png"
    widget.screenshot(path=str(shot))
    assert shot.stat().st_size > 5000
    shown = widget.inner_text()
    assert ("已删除" in shown) == (language == "zh-CN")
    assert ("Deleted" in shown) == (language == "en")
