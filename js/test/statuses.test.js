// Issue 12 in the page: the confirmation is the contract, "Already gone", times with their zone.

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";

import { formatCreated, summarize, translator, zoneText } from "../widget.js";
import { mount, useDom } from "./lib/dom.js";
import { baseState, CATALOGS, makeRows } from "./lib/fake-model.js";

const t = translator(CATALOGS, "en");

useDom();

const q = (el, sel) => el.querySelector(sel);
const button = (el, text) => [...el.querySelectorAll("button")].find((b) => b.textContent.startsWith(text));
const deletes = (model) => model.sent.filter((m) => m.type === "delete");

function filter(el, text) {
  const box = q(el, ".maw-filter");
  box.value = text;
  box.dispatchEvent(new window.Event("input"));
}

describe("the confirmation is the contract", () => {
  beforeEach(() => document.body.replaceChildren());

  test("a selection set from Python while the confirmation is open withdraws it; Confirm sends nothing", () => {
    const { el, model } = mount({ ...baseState(makeRows(4)), selected: ["cfg-00000", "cfg-00001"] });
    button(el, "Delete 2 selected").click();
    assert.equal(q(el, ".maw-confirm").hidden, false);
    model.set("selected", ["cfg-00003"]);
    assert.equal(q(el, ".maw-confirm").hidden, true);
    assert.match(q(el, ".maw-notice").textContent, /selection changed.*withdrawn.*nothing was deleted/);
    button(el, "Confirm").click();
    assert.equal(deletes(model).length, 0);
    // Asked again, it names the new selection.
    button(el, "Delete 1 selected").click();
    button(el, "Confirm").click();
    assert.deepEqual(
      deletes(model).map((m) => m.names),
      [["cfg-00003"]],
    );
  });

  test("ticking another row while the confirmation is open withdraws it", () => {
    const { el, model } = mount({ ...baseState(makeRows(4)), selected: ["cfg-00000"] });
    button(el, "Delete 1 selected").click();
    q(el, 'input[aria-label="Select cfg-00002"]').click();
    assert.equal(q(el, ".maw-confirm").hidden, true);
    assert.equal(deletes(model).length, 0);
  });

  test("a refresh that drops a confirmed name withdraws it", () => {
    const { el, model } = mount({ ...baseState(makeRows(4)), selected: ["cfg-00000", "cfg-00001"] });
    button(el, "Delete 2 selected").click();
    model.set("rows", makeRows(4).slice(1));
    assert.equal(q(el, ".maw-confirm").hidden, true);
  });

  test("the same selection re-sent (an echo) keeps the confirmation open", () => {
    const { el, model } = mount({ ...baseState(makeRows(4)), selected: ["cfg-00000", "cfg-00001"] });
    button(el, "Delete 2 selected").click();
    model.set("selected", ["cfg-00001", "cfg-00000"]);
    assert.equal(q(el, ".maw-confirm").hidden, false);
    button(el, "Confirm").click();
    assert.deepEqual(deletes(model)[0].names, ["cfg-00000", "cfg-00001"]);
  });

  test("it says how many chosen configs the filter hides and lists every name", () => {
    const names = makeRows(7).map((r) => r.name);
    const { el } = mount({ ...baseState(makeRows(7)), selected: names });
    filter(el, "cfg-00001"); // one of the seven stays shown
    button(el, "Delete 7 selected").click();
    const text = q(el, ".maw-confirm-text").textContent;
    assert.match(text, /^Delete 7 configs — 6 of them hidden by the filter \(cfg-00000, cfg-00001, cfg-00002 \+4 more\)\?/);
    const details = q(el, "details.maw-confirm-names");
    assert.equal(q(el, "details.maw-confirm-names summary").textContent, "Show all 7 names");
    assert.deepEqual(
      [...details.querySelectorAll("li")].map((li) => li.textContent),
      names,
    );
    filter(el, "");
    assert.doesNotMatch(q(el, ".maw-confirm-text").textContent, /hidden/);
  });

  test("a refusal from Python is shown, not only announced", () => {
    const { el, model } = mount({ ...baseState(makeRows(2)), selected: ["cfg-00000"] });
    button(el, "Delete 1 selected").click();
    button(el, "Confirm").click();
    model.reply({ ok: false, rejected: "The selection changed since the confirmation was shown" });
    assert.equal(q(el, ".maw-notice").hidden, false);
    assert.match(q(el, ".maw-notice").textContent, /selection changed/);
  });

  test("a reply answers its own request only: another view's refusal is not shown here", () => {
    const { el, model } = mount({ ...baseState(makeRows(2)), selected: ["cfg-00000"] });
    button(el, "Delete 1 selected").click();
    button(el, "Confirm").click();
    const [sent] = deletes(model);
    assert.equal(typeof sent.id, "string");
    model.receive({ type: "reply", id: "another-view-1", request: "delete", ok: false, reason: "changed" });
    assert.equal(q(el, ".maw-notice").hidden, true);
    assert.equal(button(el, "Delete 1 selected").disabled, true); // still waiting for its answer
    model.receive({ type: "reply", id: sent.id, request: "delete", ok: false, reason: "changed" });
    assert.equal(q(el, ".maw-notice").hidden, false);
    assert.equal(button(el, "Delete 1 selected").disabled, false);
  });
});

describe("already gone", () => {
  beforeEach(() => document.body.replaceChildren());

  test("shows 'Already gone' per row, counted apart from Deleted, and the row cannot be ticked", () => {
    const { el, model } = mount({ ...baseState(makeRows(3)), selected: ["cfg-00000", "cfg-00001"] });
    model.receive({
      type: "statuses",
      updates: { "cfg-00000": ["deleted", "", ""], "cfg-00001": ["already gone", "", ""] },
      counts: { deleted: 1, "already gone": 1 },
      total: 2,
    });
    const row = q(el, "tr[data-name='cfg-00001']");
    assert.equal(row.querySelector(".maw-state").textContent, "Already gone");
    assert.ok(row.classList.contains("maw-row-already-gone"));
    assert.equal(row.querySelector("input").disabled, true);
    assert.equal(q(el, ".maw-summary").textContent, "Deleted 1 of 2 · 1 already gone");
  });

  test("summarize counts already gone apart", () => {
    assert.equal(summarize({ deleted: 3, "already gone": 2, failed: 1 }, 6, t), "Deleted 3 of 6 · 2 already gone · 1 failed");
  });
});

describe("times", () => {
  test("the tooltip gives the local time with its zone", () => {
    const ms = Date.UTC(2026, 10, 3, 14, 24);
    const [local, title] = formatCreated(ms, t);
    assert.match(local, /^\d{4}-\d\d-\d\d \d\d:\d\d$/);
    assert.ok(title.startsWith(`${local} UTC`), title);
    assert.ok(title.endsWith(` (local time; ${ms} ms since the epoch)`), title);
    assert.match(zoneText(new Date(ms)), /^UTC[+-]\d\d:\d\d$/);
  });

  test("a time no clock can show is not drawn as NaN", () => {
    assert.deepEqual(formatCreated(1e20, t), ["", "Invalid time (100000000000000000000)"]);
    assert.deepEqual(formatCreated("yesterday", t), ["", ""]);
    assert.deepEqual(formatCreated(null, t), ["", ""]);
  });
});
