// Readable in every state: long errors stay two lines with the full text at hand, and the
// Engine column sorts by what it shows.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, beforeEach, describe, test } from "node:test";
import { Window } from "happy-dom";

import widget, { engineText, viewRows } from "../widget.js";
import { baseState, FakeModel, makeRows } from "./lib/fake-model.js";

let window;
before(() => {
  window = new Window();
  for (const key of ["document", "HTMLInputElement", "requestAnimationFrame"]) globalThis[key] = window[key];
});
after(async () => {
  await window.happyDOM.close();
});
beforeEach(() => document.body.replaceChildren());

function mount(state) {
  const model = new FakeModel(state);
  const el = document.createElement("div");
  document.body.append(el);
  widget.render({ model, el });
  return { model, el };
}

const LONG = `Internal error while deleting the config: ${"the backend reported a long stack of reasons ".repeat(20)}end.`;

describe("the Status cell", () => {
  test("a failure shows code and message in a two-line summary, whole on hover and when expanded", () => {
    const { el, model } = mount(baseState(makeRows(2)));
    model.receive({ type: "statuses", updates: { "cfg-00001": ["failed", "ModelArts.0999", LONG] }, counts: { failed: 1 }, total: 1 });
    const cell = el.querySelector("tr[data-name='cfg-00001'] td.maw-col-status");
    const details = cell.querySelector("details.maw-error");
    assert.ok(details, "the error is an expandable detail");
    assert.equal(details.open, false);
    const summary = details.querySelector("summary");
    assert.match(summary.textContent, /^Failed ModelArts\.0999: Internal error/);
    assert.ok(summary.textContent.endsWith("end."), "the summary holds the whole text; CSS clamps it");
    assert.equal(cell.title, `ModelArts.0999: ${LONG}`);
  });

  test("an expanded detail stays expanded when the rows are drawn again", () => {
    const { el, model } = mount(baseState(makeRows(2)));
    model.receive({ type: "statuses", updates: { "cfg-00001": ["failed", "ModelArts.0999", LONG] }, counts: { failed: 1 }, total: 1 });
    const details = () => el.querySelector("tr[data-name='cfg-00001'] details.maw-error");
    details().open = true;
    details().dispatchEvent(new window.Event("toggle"));
    model.receive({ type: "statuses", updates: { "cfg-00000": ["deleted", "", ""] }, counts: { failed: 1, deleted: 1 }, total: 2 });
    assert.equal(details().open, true);
    details().open = false;
    details().dispatchEvent(new window.Event("toggle"));
    model.set("rows", makeRows(2));
    assert.equal(details().open, false);
  });

  test("a state without an error is a plain badge", () => {
    const { el, model } = mount(baseState(makeRows(1)));
    model.receive({ type: "statuses", updates: { "cfg-00000": ["deleted", "", ""] }, counts: { deleted: 1 }, total: 1 });
    const cell = el.querySelector("td.maw-col-status");
    assert.equal(cell.querySelector("details"), null);
    assert.equal(cell.textContent, "Deleted");
  });

  test("the stylesheet clamps the summary to two lines and unclamps it when open", () => {
    const css = readFileSync(new URL("../widget.css", import.meta.url), "utf8");
    const closed = css.match(/\.maw-error > summary \{([^}]*)\}/)?.[1] ?? "";
    assert.match(closed, /-webkit-line-clamp: 2;/);
    assert.match(closed, /overflow: hidden;/);
    const open = css.match(/\.maw-error\[open\] > summary \{([^}]*)\}/)?.[1] ?? "";
    assert.match(open, /-webkit-line-clamp: unset;/);
  });
});

describe("the Engine column", () => {
  const rows = [
    { ...makeRows(1)[0], name: "a", engine: "Ascend-Powered-Engine", version: "Mindspore-1.2.0-c76-python3.7" },
    { ...makeRows(1)[0], name: "b", engine: "MXNet", version: "MXNet-1.2.1-python3.6" },
    { ...makeRows(1)[0], name: "c", engine: "PyTorch", version: "PyTorch-1.10.0-python3.8" },
    { ...makeRows(1)[0], name: "d", engine: "PyTorch", version: "PyTorch-1.8.0-python3.7" },
    { ...makeRows(1)[0], name: "e", engine: "Caffe", version: "" },
    { ...makeRows(1)[0], name: "f", engine: "TensorFlow", version: "TF-2.1.0-python3.6" },
  ];

  test("sorts by the text it shows, numbers as numbers", () => {
    const shown = viewRows(rows, { sortKey: "engine" }).map(engineText);
    assert.deepEqual(shown, [
      "Caffe",
      "Mindspore-1.2.0-c76-python3.7",
      "MXNet-1.2.1-python3.6",
      "PyTorch-1.8.0-python3.7",
      "PyTorch-1.10.0-python3.8",
      "TF-2.1.0-python3.6",
    ]);
    assert.deepEqual(
      viewRows(rows, { sortKey: "engine", sortDir: "desc" }).map((r) => r.name),
      ["f", "c", "d", "b", "a", "e"],
    );
  });

  test("the page's cells read in sorted order after clicking the header", () => {
    const { el } = mount(baseState(rows));
    [...el.querySelectorAll("button.maw-sort")].find((b) => b.textContent === "Engine").click();
    const cells = [...el.querySelectorAll("tbody td.maw-col-engine")].map((td) => td.textContent);
    const sorted = [...cells].sort((x, y) => x.localeCompare(y, undefined, { numeric: true, sensitivity: "base" }));
    assert.deepEqual(cells, sorted);
    assert.equal(cells[0], "Caffe");
  });
});
