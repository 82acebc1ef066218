import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";

import { summarize, translator, viewRows } from "../widget.js";
import { mount, useDom } from "./lib/dom.js";
import { baseState, CATALOGS, makeRows } from "./lib/fake-model.js";

useDom();

const q = (el, sel) => el.querySelector(sel);
const box = (el, name) => q(el, `input[aria-label="Select ${name}"]`);
const button = (el, text) => [...el.querySelectorAll("button")].find((b) => b.textContent.startsWith(text));
const bodyNames = (el) => [...el.querySelectorAll("tbody tr[data-name]")].map((tr) => tr.dataset.name);

describe("rendering", () => {
  beforeEach(() => document.body.replaceChildren());

  test("draws one row per config with name, description, engine and a labelled checkbox", () => {
    const { el, model } = mount(baseState(makeRows(3)));
    assert.deepEqual(bodyNames(el), ["cfg-00000", "cfg-00001", "cfg-00002"]);
    assert.ok(box(el, "cfg-00001"));
    assert.match(q(el, "tbody tr").textContent, /even one.*PyTorch-1\.8\.0/);
    assert.equal(model.sent[0].type, "hello");
  });

  test("renders HTML in config text as text", () => {
    const rows = makeRows(1, { desc: "<img src=x onerror=alert(1)>", name: "x<b>y</b>" });
    const { el } = mount(baseState(rows));
    assert.equal(el.querySelectorAll("img").length, 0);
    assert.equal(el.querySelectorAll("tbody b").length, 0);
    assert.equal(q(el, "td.maw-col-desc").textContent, "<img src=x onerror=alert(1)>");
  });

  test("shows an empty state naming the project, and a loading state", () => {
    const { el, model } = mount({ ...baseState([]), project: "proj-42" });
    assert.equal(q(el, ".maw-message").textContent, "No training-job configs in project proj-42.");
    model.set("phase", "loading");
    assert.match(q(el, ".maw-message").textContent, /Loading/);
  });

  test("shows whole-widget errors in a banner with code and hint", () => {
    const { el } = mount({
      ...baseState([]),
      phase: "error",
      error: { code: "ModelArts.0108", message: "not authorized", hint: "grant it" },
    });
    const banner = q(el, ".maw-banner");
    assert.equal(banner.hidden, false);
    assert.match(banner.textContent, /ModelArts\.0108: not authorized/);
    assert.match(banner.textContent, /Ask an administrator to grant modelarts:trainConfig:list/); // the page's own hint
    const other = mount({ ...baseState([]), phase: "error", error: { code: "Client.Error", message: "boom", hint: "grant it" } });
    assert.match(q(other.el, ".maw-banner").textContent, /grant it/); // no catalog hint: Python's
  });

  test("renders only a window of rows for 10,000 configs", () => {
    const { el } = mount(baseState(makeRows(10_000)));
    const drawn = bodyNames(el).length;
    assert.ok(drawn > 10 && drawn < 200, `drew ${drawn} rows`);
    assert.match(q(el, ".maw-count").textContent, /10000 shown of 10000/);
  });

  test("cleanup removes every listener and the DOM", () => {
    const { el, model, cleanup } = mount(baseState(makeRows(2)));
    assert.ok(model.listenerCount() > 0);
    cleanup();
    assert.equal(model.listenerCount(), 0);
    assert.equal(el.children.length, 0);
  });
});

describe("selecting", () => {
  beforeEach(() => document.body.replaceChildren());

  test("ticking a row saves the selection and updates the button", () => {
    const { el, model } = mount(baseState(makeRows(3)));
    assert.equal(button(el, "Delete").disabled, true);
    box(el, "cfg-00001").click();
    assert.deepEqual(model.get("selected"), ["cfg-00001"]);
    assert.equal(model.saves, 1);
    assert.equal(button(el, "Delete").textContent, "Delete 1 selected");
    assert.equal(button(el, "Delete").disabled, false);
  });

  test("select all applies to the filtered rows only and is tri-state", () => {
    const { el, model } = mount(baseState(makeRows(6)));
    const filter = q(el, "input[aria-label='Filter configs']");
    filter.value = "odd";
    filter.dispatchEvent(new window.Event("input"));
    assert.deepEqual(bodyNames(el), ["cfg-00001", "cfg-00003", "cfg-00005"]);
    const all = q(el, "input[aria-label='Select all shown']");
    all.click();
    assert.deepEqual([...model.get("selected")].sort(), ["cfg-00001", "cfg-00003", "cfg-00005"]);
    box(el, "cfg-00003").click();
    assert.equal(all.indeterminate, true);
    all.click();
    assert.equal(model.get("selected").length, 3);
    all.click();
    assert.deepEqual(model.get("selected"), []);
  });

  test("shift-click selects the range from the last clicked row", () => {
    const { el, model } = mount(baseState(makeRows(6)));
    box(el, "cfg-00001").click();
    box(el, "cfg-00004").dispatchEvent(new window.MouseEvent("click", { shiftKey: true, bubbles: true }));
    assert.deepEqual([...model.get("selected")].sort(), ["cfg-00001", "cfg-00002", "cfg-00003", "cfg-00004"]);
  });

  test("protected rows cannot be selected and show why", () => {
    const rows = makeRows(2);
    rows[0].lock = "Protected by the pattern 'cfg-00000'";
    const { el, model } = mount(baseState(rows));
    assert.equal(box(el, "cfg-00000").disabled, true);
    assert.equal(q(el, ".maw-lock").getAttribute("title"), "Protected by the pattern 'cfg-00000'");
    q(el, "input[aria-label='Select all shown']").click();
    assert.deepEqual(model.get("selected"), ["cfg-00001"]);
  });

  test("a selection set from Python shows in the page", () => {
    const { el, model } = mount(baseState(makeRows(3)));
    model.set("selected", ["cfg-00002"]);
    assert.equal(box(el, "cfg-00002").checked, true);
    assert.match(q(el, ".maw-count").textContent, /^1 selected/);
  });

  test("sorting by a header reverses on the second click and sets aria-sort", () => {
    const { el } = mount(baseState(makeRows(3)));
    const nameHeader = button(el, "Name");
    nameHeader.click();
    assert.deepEqual(bodyNames(el), ["cfg-00002", "cfg-00001", "cfg-00000"]);
    assert.equal(nameHeader.closest("th").getAttribute("aria-sort"), "descending");
    button(el, "Created").click();
    assert.deepEqual(bodyNames(el), ["cfg-00000", "cfg-00001", "cfg-00002"]);
  });
});

describe("deleting", () => {
  beforeEach(() => document.body.replaceChildren());

  test("delete asks for an inline confirmation naming the configs, and confirm sends once", () => {
    const { el, model } = mount({ ...baseState(makeRows(6)), selected: makeRows(5).map((r) => r.name) });
    button(el, "Delete 5 selected").click();
    const confirm = q(el, ".maw-confirm");
    assert.equal(confirm.hidden, false);
    assert.match(
      confirm.textContent,
      /Delete 5 configs \(cfg-00000, cfg-00001, cfg-00002 \+2 more\)\? Their details are saved to the trash first/,
    );
    const confirmButton = button(el, "Confirm");
    confirmButton.click();
    confirmButton.click();
    const deletes = model.sent.filter((m) => m.type === "delete");
    assert.equal(deletes.length, 1);
    assert.equal(deletes[0].names.length, 5);
    assert.ok(deletes[0].token);
    assert.equal(confirm.hidden, true);
    assert.equal(button(el, "Delete").disabled, true);
  });

  test("cancel leaves the confirmation without sending", () => {
    const { el, model } = mount({ ...baseState(makeRows(2)), selected: ["cfg-00000"] });
    button(el, "Delete").click();
    button(el, "Cancel").click();
    assert.equal(q(el, ".maw-confirm").hidden, true);
    assert.equal(model.sent.filter((m) => m.type === "delete").length, 0);
  });

  test("statuses from Python show inline per row, with a summary and progress", () => {
    const { el, model } = mount({ ...baseState(makeRows(3)), selected: ["cfg-00000", "cfg-00001"] });
    model.set("running", true);
    model.receive({
      type: "statuses",
      updates: { "cfg-00000": ["deleted", "", ""], "cfg-00001": ["failed", "ModelArts.0108", "not authorized"] },
      counts: { deleted: 1, failed: 1 },
      total: 2,
      job: "delete",
    });
    const row0 = q(el, "tr[data-name='cfg-00000']");
    const row1 = q(el, "tr[data-name='cfg-00001']");
    assert.match(row0.textContent, /Deleted/);
    assert.ok(row0.classList.contains("maw-row-deleted"));
    assert.match(row1.textContent, /Failed ModelArts\.0108: not authorized/);
    assert.equal(q(el, ".maw-summary").textContent, "Deleted 1 of 2 · 1 failed");
    assert.equal(q(el, "[aria-live]").textContent, "Deleted 1 of 2 · 1 failed");
    assert.equal(button(el, "Stop").hidden, false);
    model.set("running", false);
    assert.equal(button(el, "Retry failed").hidden, false);
    button(el, "Retry failed").click();
    button(el, "Refresh").click();
    assert.deepEqual(
      model.sent.slice(-2).map((m) => m.type),
      ["retry", "refresh"],
    );
    assert.equal(box(el, "cfg-00000").disabled, true); // deleted rows cannot be chosen again
  });

  test("with backups off the confirmation says it cannot be undone", () => {
    const { el } = mount({ ...baseState(makeRows(2)), selected: ["cfg-00000"], backups: false });
    button(el, "Delete").click();
    assert.match(q(el, ".maw-confirm").textContent, /Backups are off: this cannot be undone\./);
  });

  test("a refused Undo says why", () => {
    const { el, model } = mount({ ...baseState(makeRows(2)), undo_count: 1 });
    button(el, "Undo: restore 1").click();
    model.reply({ ok: false, reason: "restore", rejected: "refused" });
    assert.equal(q(el, ".maw-notice").hidden, false);
    assert.match(q(el, ".maw-notice").textContent, /Nothing to restore/);
  });

  test("backing up and restoring show inline, and Undo sends an undo", () => {
    const { el, model } = mount({ ...baseState(makeRows(2)), selected: ["cfg-00000"] });
    model.set("running", true);
    model.receive({ type: "statuses", updates: { "cfg-00000": ["backing up", "", ""] }, counts: { "backing up": 1 }, total: 1 });
    assert.match(q(el, "tr[data-name='cfg-00000']").textContent, /Backing up…/);
    model.receive({ type: "statuses", updates: { "cfg-00000": ["deleted", "", ""] }, counts: { deleted: 1 }, total: 1 });
    model.set("undo_count", 1);
    model.set("running", false);
    const undo = button(el, "Undo: restore 1");
    assert.equal(undo.hidden, false);
    undo.click();
    assert.equal(model.sent.at(-1).type, "undo");
    assert.ok(model.sent.at(-1).id, "an undo Python can refuse carries an id for its reply");
    model.receive({
      type: "statuses",
      reset: true,
      updates: { "cfg-00000": ["restored", "", ""] },
      counts: { restored: 1 },
      total: 1,
      job: "restore",
    });
    assert.match(q(el, "tr[data-name='cfg-00000']").textContent, /Restored/);
    assert.equal(q(el, ".maw-summary").textContent, "Restored 1 of 1");
    assert.equal(box(el, "cfg-00000").disabled, false); // a restored config can be chosen again
  });

  test("a restore that restored nothing is still worded as a restore and offers no Retry", () => {
    const { el, model } = mount(baseState(makeRows(2)));
    const updates = { "cfg-00000": ["skipped", "Client.Exists", "exists"], "cfg-00001": ["failed", "ModelArts.0108", "denied"] };
    model.receive({ type: "statuses", reset: true, updates, counts: { skipped: 1, failed: 1 }, total: 2, job: "restore" });
    assert.equal(q(el, ".maw-summary").textContent, "Restored 0 of 2 · 1 failed · 1 skipped (they exist again)");
    assert.equal(button(el, "Retry failed").hidden, true); // Retry repeats a delete; the kernel refuses it here
  });

  test("the trash lists backups and restores the ticked configs once", () => {
    const { el, model } = mount(baseState(makeRows(1)));
    button(el, "Trash").click();
    assert.equal(model.sent.at(-1).type, "trash");
    model.set("trash_files", [{ file: "backup-1.json", created: "2026-11-27T09:00:00+00:00", project: "p1", names: ["old-a", "old-b"] }]);
    assert.match(q(el, ".maw-trash").textContent, /2 configs/);
    q(el, "input[aria-label='Restore old-b']").click();
    const restore = button(el, "Restore 1 selected");
    restore.click();
    restore.click();
    const sent = model.sent.filter((m) => m.type === "restore");
    assert.equal(sent.length, 1);
    assert.deepEqual(sent[0].names, ["old-b"]);
    assert.equal(sent[0].file, "backup-1.json");
  });

  test("the trash filters to this project; another project's backup needs the box naming both", () => {
    const { el, model } = mount(baseState(makeRows(1)));
    model.set("trash_scope", "project p1 (r1)");
    button(el, "Trash").click();
    assert.match(q(el, ".maw-trash").textContent, /No backups of project p1 \(r1\)/);
    const scope = q(el, ".maw-trash-scope input");
    scope.click();
    assert.deepEqual(model.sent.at(-1), { type: "trash", all_projects: true });
    model.set("trash_all_projects", true);
    model.set("trash_files", [
      { file: "backup-2.jsonl", created: "2026-11-28T09:00:00+00:00", project: "p2", region: "r2", other: true, names: ["b-1"] },
      { file: "backup-3.jsonl", created: "2026-11-27T09:00:00+00:00", project: "p1", region: "r1", other: false, names: null },
    ]);
    const allow = q(el, ".maw-trash-allow");
    assert.match(allow.textContent, /Restore into project p1 \(r1\), although this backup is from project p2 \(r2\)/);
    q(el, "input[aria-label='Restore b-1']").click();
    const restore = button(el, "Restore 1 selected");
    assert.equal(restore.disabled, true); // not before the box is ticked
    q(el, ".maw-trash-allow input").click();
    button(el, "Restore 1 selected").click();
    const sent = model.sent.filter((m) => m.type === "restore");
    assert.equal(sent.length, 1);
    assert.equal(sent[0].allow_other_project, true);
    button(el, "Show configs").click();
    assert.deepEqual(model.sent.at(-1), { type: "trash_open", file: "backup-3.jsonl" });
  });

  test("stop sends a stop message while running", () => {
    const { el, model } = mount(baseState(makeRows(1)));
    model.set("running", true);
    button(el, "Stop").click();
    assert.equal(model.sent.at(-1).type, "stop");
  });
});

describe("helpers", () => {
  test("viewRows filters on name and description, case-insensitively", () => {
    const rows = makeRows(4);
    assert.equal(viewRows(rows, { filter: "ODD" }).length, 2);
    assert.equal(viewRows(rows, { filter: "cfg-00003" }).length, 1);
  });

  test("summarize counts what is left", () => {
    const t = translator(CATALOGS, "en");
    assert.equal(summarize({ deleted: 2, queued: 3 }, 5, t), "Deleted 2 of 5 · 3 left");
    assert.equal(summarize({ deleted: 2, queued: 3 }, 5, translator(CATALOGS, "zh-CN")), "已删除 2/5 · 剩余 3 个");
    assert.equal(summarize({}, 0, t), "");
  });
});
