"""One vocabulary: the job states and the ``Client.*`` codes are spelled once, and the page,
the catalogs, the magic and the report key on exactly those names."""

from __future__ import annotations

import json
import re
from pathlib import Path

from modelarts_widgets import magic, report
from modelarts_widgets.sdk import bulk, errors, restore, states

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "modelarts_widgets"
WIDGET_JS = ROOT / "js" / "widget.js"
WIDGET_CSS = ROOT / "js" / "widget.css"


def _js_array(name: str) -> list[str]:
    """The string items of ``const NAME = [...]`` in js/widget.js."""
    found = re.search(rf"const {name} = \[([^\]]*)\]", WIDGET_JS.read_text(encoding="utf-8"))
    assert found, f"js/widget.js no longer defines {name}"
    return re.findall(r'"([^"]*)"', found.group(1))


def test_every_state_has_one_label_in_every_catalog_and_no_label_is_stale() -> None:
    for path in sorted((PACKAGE / "locales").glob("*.json")):
        catalog = json.loads(path.read_text(encoding="utf-8"))
        labelled = {key[len("page.state.") :] for key in catalog if key.startswith("page.state.")}
        assert labelled == set(states.ALL_STATES), path.name


def test_the_page_counts_and_greys_the_same_states_as_python() -> None:
    assert set(_js_array("UNFINISHED")) == set(states.TRANSIENT_STATES)
    assert set(_js_array("GONE")) == set(states.GONE_STATES)


def test_every_state_the_page_names_outside_its_lists_is_a_python_state() -> None:
    # summarize() and the status cell read counts and states by name: a renamed state must fail here.
    js = WIDGET_JS.read_text(encoding="utf-8")
    named = set(re.findall(r"counts\.(\w+)", js)) | set(re.findall(r'counts\["([^"]+)"\]', js))
    named |= set(re.findall(r'state === "([^"]+)"', js))
    assert named
    assert named <= set(states.ALL_STATES), named - set(states.ALL_STATES)


def test_every_state_has_a_badge_style() -> None:
    css = WIDGET_CSS.read_text(encoding="utf-8")
    for state in states.ALL_STATES:
        assert f".maw-state-{state.replace(' ', '-')}" in css, state


def test_jobs_and_their_readers_use_the_shared_states() -> None:
    assert states.FINAL_STATES.isdisjoint(states.TRANSIENT_STATES)
    assert set(states.ALL_STATES) == states.FINAL_STATES | set(states.TRANSIENT_STATES)
    assert bulk.FINAL_STATES == states.DELETE_FINAL_STATES <= states.FINAL_STATES
    assert restore.FINAL_STATES == states.RESTORE_FINAL_STATES <= states.FINAL_STATES
    # The magic marks each final state of a delete.
    assert set(magic._MARK_KEYS) == states.DELETE_FINAL_STATES
    # The report's buckets of a real run are the states' own words.
    assert {report.DELETED, report.GONE, report.FAILED} <= states.FINAL_STATES
    assert {report.NOT_SENT, report.PROTECTED, report.NOT_FOUND} == {
        states.NOT_SENT,
        states.PROTECTED,
        states.NOT_FOUND,
    }


def _client_codes() -> dict[str, str]:
    return {
        name: value
        for name, value in vars(errors).items()
        if isinstance(value, str) and value.startswith("Client.")
    }


def test_each_client_code_is_defined_once_in_errors() -> None:
    codes = _client_codes()
    assert len(set(codes.values())) == len(codes), "two constants share one code"
    literal = re.compile(r"""["']Client\.[A-Za-z]+["']""")
    elsewhere = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != PACKAGE / "sdk" / "errors.py"
        for match in literal.finditer(path.read_text(encoding="utf-8"))
    ]
    assert elsewhere == []


def test_every_client_code_hint_in_the_catalogs_names_a_defined_code() -> None:
    codes = set(_client_codes().values())
    catalog = json.loads((PACKAGE / "locales" / "en.json").read_text(encoding="utf-8"))
    hinted = {key[len("hint.") :] for key in catalog if key.startswith("hint.Client.")}
    assert hinted <= codes


def test_the_page_knows_the_same_job_kinds_as_the_sdk() -> None:
    found = re.search(r"@typedef \{([^}]*)\} JobKind", WIDGET_JS.read_text(encoding="utf-8"))
    assert found, "js/widget.js no longer defines JobKind"
    kinds = {"", bulk.BulkDelete.KIND, restore.BulkRestore.KIND}  # "": no job yet
    assert set(re.findall(r'"([^"]*)"', found.group(1))) == kinds
