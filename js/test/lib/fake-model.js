// A stand-in for anywidget's model: get/set/on/off/send/save_changes over plain objects.
import { readFileSync } from "node:fs";

const LOCALES = new URL("../../../modelarts_widgets/locales/", import.meta.url);

/** The catalogs as Python syncs them (i18n.page_catalogs(): page.* and hint.* keys). */
export function loadCatalogs() {
  const catalogs = {};
  for (const language of ["en", "zh-CN"]) {
    const all = JSON.parse(readFileSync(new URL(`${language}.json`, LOCALES), "utf8"));
    catalogs[language] = Object.fromEntries(Object.entries(all).filter(([key]) => key.startsWith("page.") || key.startsWith("hint.")));
  }
  return catalogs;
}

export const CATALOGS = loadCatalogs();

export class FakeModel {
  constructor(state) {
    this.state = { ...state };
    this.listeners = new Map();
    this.sent = [];
    this.saves = 0;
  }
  get(key) {
    return this.state[key];
  }
  set(key, value) {
    this.state[key] = value;
    this.emit(`change:${key}`);
  }
  on(event, fn) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event).add(fn);
  }
  off(event, fn) {
    this.listeners.get(event)?.delete(fn);
  }
  emit(event, ...args) {
    for (const fn of [...(this.listeners.get(event) || [])]) fn(...args);
  }
  send(content) {
    this.sent.push(content);
  }
  save_changes() {
    this.saves += 1;
  }
  listenerCount() {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }
  /** Deliver a custom message from "Python". */
  receive(content) {
    this.emit("msg:custom", content);
  }
  /** Answer the last request sent with an id, as Python's _reply does. */
  reply(fields) {
    const request = this.sent.findLast((m) => m.id !== undefined);
    if (!request) throw new Error("no request waits for a reply");
    this.receive({ type: "reply", id: request.id, request: request.type, ...fields });
  }
}

export function makeRows(n, extra = {}) {
  return Array.from({ length: n }, (_, i) => ({
    name: `cfg-${String(i).padStart(5, "0")}`,
    desc: i % 2 ? "odd one" : "even one",
    engine: "PyTorch",
    version: "PyTorch-1.8.0-python3.7",
    created: 1_700_000_000_000 + i * 1000,
    lock: "",
    ...extra,
  }));
}

export function baseState(rows) {
  return {
    rows,
    selected: [],
    phase: "ready",
    project: "p1",
    error: {},
    running: false,
    backups: true,
    undo_count: 0,
    trash_files: [],
    language: "en",
    _catalogs: CATALOGS,
  };
}
