// @ts-check
// JobConfigTable front end: a plain ES module for anywidget (no bundler, no dependencies).
//
// The contract with Python (the synced traits, and the custom messages both ways) is written
// down in one place, modelarts_widgets/widget.py; the types below mirror it. Per-row statuses
// arrive as custom messages {type: "statuses"} carrying only what changed, so a 1,000-name run
// costs a few dozen small messages instead of full re-syncs. A request that Python can refuse
// (delete, restore, retry, undo) carries an id, and its answer is a {type: "reply"} with that id.
// All config text is set with textContent: it is never parsed as HTML.
//
// Every word the page shows comes from the catalogs in modelarts_widgets/locales/*.json, which
// Python syncs as the `_catalogs` trait (one source for kernel and page; see i18n.py for why JSON).
// The language: the `language` trait when set (JobConfigTable(language=...)), else the page's
// <html lang> (JupyterLab and Notebook 7 set it from the chosen language pack), else the browser's.

/**
 * A config as a table row (widget.py's _row). `created` is the server's create_time as sent (ms
 * since the epoch when it is usable); `lock` is why the name is protected ("" if it is not), and
 * `lock_pattern` the protect pattern that matched (only on a protected row).
 * @typedef {{name: string, desc: string, engine: string, version: string, created: unknown,
 *   lock: string, lock_pattern?: string}} Row
 */
/**
 * A backup file of the Trash view (widget.py's list_trash). `created` is the header's created_at
 * (ISO 8601, but any text a file holds); `names` is null until the file is opened.
 * @typedef {{file: string, created?: string, project?: string, region?: string, endpoint?: string,
 *   other?: boolean, names?: string[] | null}} TrashFile
 */
/** The error banner's fields; {} for none. @typedef {{code?: string, message?: string, hint?: string}} ErrorBanner */
/** A catalog language. @typedef {"en" | "zh-CN"} Language */
/** The table's sortable columns (Row keys). @typedef {"name" | "desc" | "engine" | "created"} ColumnKey */
/**
 * The synced traits.
 * @typedef {{rows: Row[], selected: string[], phase: "loading" | "ready" | "error", project: string, error: ErrorBanner,
 *   running: boolean, undo_count: number, backups: boolean, trash_files: TrashFile[],
 *   trash_all_projects: boolean, trash_scope: string, language: "" | Language,
 *   _catalogs: Record<string, Catalog>}} Traits
 */
/** key -> text, or plural category -> text. @typedef {Record<string, string | Record<string, string>>} Catalog */
/** [state, code, message]: a state of sdk/states.py, and the error's code and message ("" if none). */
/** @typedef {[string, string, string]} StatusEntry */
/** The kind of job statuses belong to (sdk Job.KIND); "" when none. @typedef {"" | "delete" | "restore"} JobKind */
/**
 * @typedef {{type: "statuses", updates?: Record<string, StatusEntry>, counts?: Record<string, number>,
 *   total?: number, reset?: boolean, job?: JobKind}} StatusesMessage
 */
/**
 * `reason` (when refused): "busy" | "changed" | "restore" | "retry", a page.rejected.* key.
 * @typedef {{type: "reply", id: string | null, request?: string, ok: boolean, reason?: string,
 *   rejected?: string}} ReplyMessage
 */
/** A custom message from Python. @typedef {StatusesMessage | ReplyMessage} KernelMessage */
/**
 * A custom message to Python.
 * @typedef {{type: "refresh" | "stop"}
 *   | {type: "hello", language: Language}
 *   | {type: "retry" | "undo", id: string}
 *   | {type: "delete", id: string, names: string[], token: string}
 *   | {type: "restore", id: string, file: string, names: string[], token: string, allow_other_project?: boolean}
 *   | {type: "trash", all_projects?: boolean}
 *   | {type: "trash_open", file: string}} PageRequest
 */
/** A request Python answers with a ReplyMessage of its id. @typedef {Extract<PageRequest, {id: string}>} AskedRequest */
/** The event anywidget fires when a synced trait changes. @typedef {`change:${keyof Traits}`} ChangeEvent */
/**
 * The part of anywidget's model this page uses (after @anywidget/types' AnyModel).
 * @typedef {{
 *   get<K extends keyof Traits>(key: K): Traits[K],
 *   set<K extends keyof Traits>(key: K, value: Traits[K]): void,
 *   save_changes(): void,
 *   send(content: PageRequest): void,
 *   on(event: "msg:custom", fn: (msg: KernelMessage, buffers: DataView[]) => void): void,
 *   on<K extends keyof Traits>(event: `change:${K}`, fn: (model: unknown, value: Traits[K]) => void): void,
 *   off(event: "msg:custom", fn: (msg: KernelMessage, buffers: DataView[]) => void): void,
 *   off<K extends keyof Traits>(event: `change:${K}`, fn: (model: unknown, value: Traits[K]) => void): void,
 * }} Model
 */
/**
 * t(key, params): a catalog text; t.has(key): whether a catalog has the key.
 * @typedef {((key: string, params?: Record<string, unknown>) => string) & {has: (key: string) => boolean}} Translate
 */
/** Date formats of a locale: short for the Created column, full for its tooltip. */
/** @typedef {{short: Intl.DateTimeFormat, full: Intl.DateTimeFormat}} DateFormats */

const ROW_HEIGHT = 32; // the first estimate; drawBody measures the real height
const OVERSCAN = 20;
const PREVIEW_NAMES = 3;

/** @type {{key: ColumnKey}[]} */
const COLUMNS = [{ key: "name" }, { key: "desc" }, { key: "engine" }, { key: "created" }];
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * The catalog language a tag names ("zh_CN", "zh-Hans" -> "zh-CN"; "en-GB" -> "en"), or null.
 * @param {string | null | undefined} tag
 * @returns {"en" | "zh-CN" | null}
 */
export function supportedLanguage(tag) {
  const base = String(tag || "")
    .trim()
    .split(/[-_.@]/)[0]
    .toLowerCase();
  return base === "zh" ? "zh-CN" : base === "en" ? "en" : null;
}

/**
 * [catalog language, locale for dates]: the forced language, else the first supported of the
 * page's lang and the browser's languages, else English.
 * @param {string | null | undefined} forced
 * @param {string | null | undefined} documentLang
 * @param {(string | null | undefined)[]} [browserLangs]
 * @returns {[Language, string]}
 */
export function chooseLanguage(forced, documentLang, browserLangs = []) {
  const tags = forced ? [forced] : [documentLang, ...browserLangs];
  for (const tag of tags) {
    const language = supportedLanguage(tag);
    if (language) return [language, language === "en" ? englishLocale(tag) : language];
  }
  return ["en", "en"];
}

/**
 * The English variant a tag names for dates ("en_GB" -> "en-GB"); "en" for one Intl refuses ("en-", "en_US.UTF-8").
 * @param {string | null | undefined} tag
 * @returns {string}
 */
function englishLocale(tag) {
  const locale = String(tag).trim().replace(/_/g, "-");
  try {
    return Intl.DateTimeFormat.supportedLocalesOf([locale]).length ? locale : "en";
  } catch {
    return "en"; // not a well-formed language tag: a RangeError here would leave no widget at all
  }
}

/**
 * t(key, params): the text of `key` in `language`, plural form by params.count, placeholders filled.
 * @param {Record<string, Catalog> | null | undefined} catalogs
 * @param {string} language
 * @returns {Translate}
 */
export function translator(catalogs, language) {
  /** @type {Catalog} */
  const catalog = catalogs?.[language] || {};
  /** @type {Catalog} */
  const english = catalogs?.en || {};
  const plurals = new Intl.PluralRules(language);
  /**
   * @param {string} key
   * @param {Record<string, unknown>} [params]
   */
  const t = (key, params = {}) => {
    let entry = catalog[key] ?? english[key] ?? key;
    if (typeof entry === "object") entry = entry[plurals.select(Number(params.count))] ?? entry.other;
    return entry.replace(PLACEHOLDER, (whole, /** @type {string} */ name) => (name in params ? String(params[name]) : whole));
  };
  t.has = (/** @type {string} */ key) => key in catalog || key in english;
  return t;
}

/**
 * The catalog key of our hint for an error code, mirroring errors.hint_for in Python; or null.
 * @param {Catalog} catalog
 * @param {string | undefined} code
 * @returns {string | null}
 */
function hintKey(catalog, code) {
  if (!code) return null;
  if (`hint.${code}` in catalog) return `hint.${code}`;
  return code.startsWith("HTTP.5") ? "hint.HTTP.5xx" : null;
}

/**
 * Create an element with a class, text and attributes.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {{cls?: string, text?: string, attrs?: Record<string, string>}} [options]
 * @param {(Node | string)[]} [children]
 * @returns {HTMLElementTagNameMap[K]}
 */
function h(tag, { cls, text, attrs } = {}, children = []) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

const SVG = "http://www.w3.org/2000/svg";

/**
 * A padlock drawn in SVG (no emoji font needed), labelled with the protection reason.
 * @param {string} reason
 * @param {Translate} t
 */
function lockIcon(reason, t) {
  const svg = document.createElementNS(SVG, "svg");
  for (const [name, value] of Object.entries({
    viewBox: "0 0 16 16",
    width: "12",
    height: "12",
    role: "img",
    "aria-label": t("page.protected", { reason }),
  })) {
    svg.setAttribute(name, value);
  }
  const title = document.createElementNS(SVG, "title");
  title.textContent = reason;
  const body = document.createElementNS(SVG, "rect");
  for (const [name, value] of Object.entries({ x: "3", y: "7", width: "10", height: "8", rx: "1.5" })) body.setAttribute(name, value);
  const shackle = document.createElementNS(SVG, "path");
  shackle.setAttribute("d", "M5 7V5a3 3 0 0 1 6 0v2");
  shackle.setAttribute("fill", "none");
  shackle.setAttribute("stroke-width", "1.6");
  svg.append(title, body, shackle);
  const wrap = h("span", { cls: "maw-lock", attrs: { title: reason } });
  wrap.append(svg);
  return wrap;
}

/**
 * Date formatters for a locale: short for the column, full for its tooltip.
 * @param {string} locale
 * @returns {DateFormats}
 */
function dateFormats(locale) {
  const short = new Intl.DateTimeFormat(locale, {
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });
  const full = new Intl.DateTimeFormat(locale, { dateStyle: "full", timeStyle: "short", hourCycle: "h23" });
  return { short, full };
}

/**
 * The zone of a local date as text: "UTC+08:00".
 * @param {Date} date
 */
export function zoneText(date) {
  const offset = -date.getTimezoneOffset();
  const pad = (/** @type {number} */ n) => String(n).padStart(2, "0");
  const sign = offset < 0 ? "-" : "+";
  return `UTC${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
}

/**
 * [local time shown in the cell, tooltip with its zone]; both empty for an unusable value.
 * With `dates` (dateFormats) the time is in that locale's format, else "2026-11-03 22:24".
 * @param {unknown} ms a Row's created: ms since the epoch, or whatever the server sent
 * @param {Translate} t
 * @param {DateFormats | null} [dates]
 * @returns {[string, string]}
 */
export function formatCreated(ms, t, dates = null) {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return ["", ""];
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return ["", t("page.created.invalid", { ms })];
  const pad = (/** @type {number} */ n) => String(n).padStart(2, "0");
  const local = dates
    ? dates.short.format(date)
    : `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` + `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  const long = dates ? dates.full.format(date) : local;
  return [local, t("page.created.full", { date: long, zone: zoneText(date), ms })];
}

/**
 * What the Engine column shows: the version (it names the engine too), else the engine.
 * @param {Row} row
 */
export function engineText(row) {
  return String(row.version || row.engine || "");
}

const createdNumber = (/** @type {Row} */ row) => (typeof row.created === "number" && Number.isFinite(row.created) ? row.created : 0);

/**
 * @param {ColumnKey} key
 * @returns {(a: Row, b: Row) => number}
 */
function compareBy(key) {
  if (key === "created") return (a, b) => createdNumber(a) - createdNumber(b) || a.name.localeCompare(b.name);
  if (key === "engine") {
    // By the text in the cell, with numbers compared as numbers (PyTorch-1.8 before PyTorch-1.10).
    /** @type {Intl.CollatorOptions} */
    const opts = { numeric: true, sensitivity: "base" };
    return (a, b) => engineText(a).localeCompare(engineText(b), undefined, opts) || a.name.localeCompare(b.name);
  }
  return (a, b) => String(a[key] ?? "").localeCompare(String(b[key] ?? "")) || a.name.localeCompare(b.name);
}

/** Rows in view order: filtered by a case-insensitive substring of name or description, then sorted. */
/**
 * @param {Row[]} rows
 * @param {{filter?: string, sortKey?: ColumnKey, sortDir?: "asc" | "desc"}} [order]
 * @returns {Row[]}
 */
export function viewRows(rows, { filter = "", sortKey = "name", sortDir = "asc" } = {}) {
  const needle = filter.trim().toLowerCase();
  const shown = needle
    ? rows.filter(
        (r) =>
          r.name.toLowerCase().includes(needle) ||
          String(r.desc ?? "")
            .toLowerCase()
            .includes(needle),
      )
    : rows.slice();
  shown.sort(compareBy(sortKey));
  if (sortDir === "desc") shown.reverse();
  return shown;
}

// The states are spelled in modelarts_widgets/sdk/states.py; tests/test_states.py checks these lists.
const UNFINISHED = ["queued", "backing up", "backed up", "deleting", "restoring"];

/**
 * How many names of the current run have reached a final state.
 * @param {Record<string, number>} counts state -> names of the run in it
 * @param {number} total names in the run
 */
function finishedCount(counts, total) {
  return total - UNFINISHED.reduce((sum, state) => sum + (counts[state] || 0), 0);
}

/**
 * A state as a CSS class suffix ("backing up" -> "backing-up").
 * @param {string} state
 */
function stateClass(state) {
  return state.replace(" ", "-");
}

/** A readable summary of the current run's counts, in the language of `t` (from translator()). */
/**
 * @param {Record<string, number>} counts state -> names of the run in it
 * @param {number} total names in the run
 * @param {Translate} t
 * @param {JobKind} [job] the run's kind (a restore may end with no name restored)
 */
export function summarize(counts, total, t, job = "delete") {
  if (!total) return "";
  const done = finishedCount(counts, total);
  const restoring = job === "restore";
  const parts = [
    restoring
      ? t("page.summary.restored", { done: counts.restored || 0, total })
      : t("page.summary.deleted", { done: counts.deleted || 0, total }),
  ];
  if (counts["already gone"]) parts.push(t("page.summary.already_gone", { count: counts["already gone"] }));
  if (counts["backing up"]) parts.push(t("page.summary.backing_up", { count: counts["backing up"] }));
  if (counts.failed) parts.push(t("page.summary.failed", { count: counts.failed }));
  if (counts.skipped) parts.push(t(restoring ? "page.summary.skipped_exist" : "page.summary.skipped", { count: counts.skipped }));
  if (counts.cancelled) parts.push(t("page.summary.not_sent", { count: counts.cancelled }));
  if (total - done > 0) parts.push(t("page.summary.left", { count: total - done }));
  return parts.join(t("page.summary.separator"));
}

/**
 * Build the widget in `el` and keep it in step with `model`; returns the clean-up.
 * @param {{model: Model, el: HTMLElement}} view
 * @returns {() => void}
 */
function draw({ model, el }) {
  const [language, locale] = chooseLanguage(model.get("language"), document.documentElement?.lang, [
    ...(globalThis.navigator?.languages || [globalThis.navigator?.language]),
  ]);
  const catalogs = model.get("_catalogs") || {};
  const t = translator(catalogs, language);
  const dates = dateFormats(locale);
  const stateText = (/** @type {string} */ state) => (t.has(`page.state.${state}`) ? t(`page.state.${state}`) : state);
  /** The view's own state (not synced). */
  const ui = {
    filter: "",
    /** @type {ColumnKey} */
    sortKey: "name",
    /** @type {"asc" | "desc"} */
    sortDir: "asc",
    confirming: false,
    /** @type {string[]} */
    confirmNames: [], // exactly the names the open confirmation shows
    confirmToken: 0,
    /** @type {number | null} */
    lastClicked: null, // the row index last ticked (shift-click ticks the range)
    /** @type {Map<string, StatusEntry>} */
    statuses: new Map(), // name -> [state, code, message]
    /** @type {Set<string>} */
    expanded: new Set(), // names whose error detail is open
    /** @type {Record<string, number>} */
    counts: {},
    total: 0,
    /** @type {JobKind} */
    job: "", // the kind of the run the statuses belong to
    /** @type {Row[]} */
    view: [],
    sent: false, // a delete was sent and `running` has not flipped yet
    rowHeight: ROW_HEIGHT,
  };
  let selected = new Set(model.get("selected"));
  /** @type {Set<string>} */
  const awaiting = new Set(); // ids of this view's requests that wait for their reply
  let requests = 0;
  const nextId = () => {
    requests += 1;
    return `${Date.now()}-q${requests}`;
  };
  /** Send a request that Python answers with a reply carrying its id. @param {AskedRequest} request */
  const ask = (request) => {
    awaiting.add(request.id);
    model.send(request);
  };

  // -- skeleton ------------------------------------------------------------------------------
  const root = h("div", {
    cls: "maw-root",
    attrs: { "data-lm-suppress-shortcuts": "true", "data-jp-suppress-context-menu": "true", lang: language },
  });
  const filterBox = h("input", {
    cls: "maw-filter",
    attrs: { type: "search", placeholder: t("page.filter.placeholder"), "aria-label": t("page.filter.label") },
  });
  const countText = h("span", { cls: "maw-count" });
  const refreshButton = h("button", { cls: "maw-button", text: t("page.refresh"), attrs: { type: "button" } });
  const deleteButton = h("button", { cls: "maw-button maw-danger", attrs: { type: "button" } });
  const toolbar = h("div", { cls: "maw-toolbar" }, [filterBox, countText, h("span", { cls: "maw-spacer" }), refreshButton, deleteButton]);
  /** @type {Map<string, Set<string>>} */
  const trashChoice = new Map(); // backup file -> Set of names ticked for restoring
  /** @type {Set<string>} */
  const trashAllowed = new Set(); // backup files of other projects the user agreed to restore here

  const confirmText = h("span", { cls: "maw-confirm-text" });
  const confirmList = h("ul", { cls: "maw-confirm-list" });
  const confirmSummary = h("summary", {});
  const confirmDetails = h("details", { cls: "maw-confirm-names" }, [confirmSummary, confirmList]);
  const notice = h("div", { cls: "maw-notice", attrs: { role: "status" } });
  notice.hidden = true;
  const confirmButton = h("button", { cls: "maw-button maw-danger-strong", text: t("page.confirm"), attrs: { type: "button" } });
  const cancelButton = h("button", { cls: "maw-button", text: t("page.cancel"), attrs: { type: "button" } });
  const confirmBar = h("div", { cls: "maw-confirm", attrs: { role: "group", "aria-label": t("page.confirm.label") } }, [
    confirmText,
    confirmButton,
    cancelButton,
    confirmDetails,
  ]);

  const progress = h("progress", { cls: "maw-progress", attrs: { max: "1", value: "0", "aria-label": t("page.progress.label") } });
  const summaryText = h("span", { cls: "maw-summary" });
  const stopButton = h("button", { cls: "maw-button", text: t("page.stop"), attrs: { type: "button" } });
  const retryButton = h("button", { cls: "maw-button", text: t("page.retry"), attrs: { type: "button" } });
  const undoButton = h("button", { cls: "maw-button", attrs: { type: "button" } });
  const runBar = h("div", { cls: "maw-run" }, [progress, summaryText, stopButton, retryButton, undoButton]);

  const trashButton = h("button", { cls: "maw-button", text: t("page.trash"), attrs: { type: "button", "aria-expanded": "false" } });
  const trashPanel = h("div", { cls: "maw-trash", attrs: { role: "region", "aria-label": t("page.trash.label") } });
  trashPanel.hidden = true;

  const banner = h("div", { cls: "maw-banner", attrs: { role: "alert" } });
  const live = h("div", { cls: "maw-sr-only", attrs: { "aria-live": "polite", role: "status" } });

  const headerBox = h("input", { attrs: { type: "checkbox", "aria-label": t("page.select_all") } });
  const headRow = h("tr", {}, [h("th", { cls: "maw-check", attrs: { scope: "col" } }, [headerBox])]);
  /** @type {Map<ColumnKey, {button: HTMLButtonElement, th: HTMLTableCellElement}>} */
  const sortButtons = new Map();
  for (const column of COLUMNS) {
    const label = t(`page.column.${column.key}`);
    const button = h("button", { cls: "maw-sort", text: label, attrs: { type: "button", title: label } });
    const th = h("th", { cls: `maw-col-${column.key}`, attrs: { scope: "col", "aria-sort": "none" } }, [button]);
    sortButtons.set(column.key, { button, th });
    headRow.append(th);
  }
  headRow.append(h("th", { cls: "maw-col-status", text: t("page.column.status"), attrs: { scope: "col" } }));
  const caption = h("caption", { cls: "maw-sr-only", text: t("page.caption") });
  const tbody = h("tbody");
  const table = h("table", { cls: "maw-table" }, [caption, h("thead", {}, [headRow]), tbody]);
  const scroller = h("div", { cls: "maw-scroller" }, [table]);
  const message = h("div", { cls: "maw-message" });

  toolbar.insertBefore(trashButton, refreshButton);
  root.append(toolbar, confirmBar, notice, banner, runBar, trashPanel, scroller, message, live);
  el.append(root);

  // -- derived state -------------------------------------------------------------------------
  const rowsByName = () => new Map(model.get("rows").map((r) => [r.name, r]));
  let byName = rowsByName();

  const GONE = ["deleted", "already gone"];
  const deletable = (/** @type {Row | undefined} */ row) => row && !row.lock && !GONE.includes(ui.statuses.get(row.name)?.[0] ?? "");
  const chosen = () => [...selected].filter((name) => deletable(byName.get(name)));

  function recomputeView() {
    ui.view = viewRows(model.get("rows"), ui);
  }

  function saveSelection() {
    model.set("selected", [...selected]);
    model.save_changes();
  }

  // -- drawing -------------------------------------------------------------------------------
  /** @param {string} name */
  function statusCell(name) {
    const cell = h("td", { cls: "maw-col-status" });
    const status = ui.statuses.get(name);
    if (!status) return cell;
    const [state, code, text] = status;
    const badge = h("span", { cls: `maw-state maw-state-${stateClass(state)}`, text: stateText(state) });
    const detail = state === "failed" || state === "skipped" ? [code, text].filter(Boolean).join(": ") : "";
    if (!detail) {
      cell.append(badge);
      return cell;
    }
    // Clamped to two lines (CSS); the whole text on hover, and in full once expanded.
    const summary = h("summary", { cls: "maw-error-summary" }, [badge, h("span", { cls: "maw-error-detail", text: ` ${detail}` })]);
    const expandable = h("details", { cls: "maw-error" }, [summary]);
    expandable.open = ui.expanded.has(name);
    expandable.addEventListener("toggle", () => {
      if (expandable.open) ui.expanded.add(name);
      else ui.expanded.delete(name);
    });
    cell.append(expandable);
    // The server's message as sent (it is data); our hint, in the page's language, beside it.
    const hint = hintKey(catalogs.en || {}, code);
    cell.title = hint ? `${detail}\n${t(hint)}` : detail;
    return cell;
  }

  /**
   * @param {Row} row
   * @param {number} index its place in ui.view
   */
  function drawRow(row, index) {
    const status = ui.statuses.get(row.name)?.[0];
    const tr = h("tr", {
      cls: `maw-row${status ? ` maw-row-${stateClass(status)}` : ""}${row.lock ? " maw-row-locked" : ""}`,
      attrs: { "aria-selected": String(selected.has(row.name)), "data-name": row.name },
    });
    const box = h("input", { attrs: { type: "checkbox", "aria-label": t("page.select_row", { name: row.name }) } });
    box.checked = selected.has(row.name);
    box.disabled = !deletable(row) || model.get("running");
    box.dataset.index = String(index);
    const checkCell = h("td", { cls: "maw-check" }, [box]);
    if (row.lock) checkCell.append(lockIcon(row.lock_pattern ? t("page.protected_by", { pattern: row.lock_pattern }) : row.lock, t));
    const [local, full] = formatCreated(row.created, t, dates);
    tr.append(
      checkCell,
      h("td", { cls: "maw-col-name", text: row.name, attrs: { title: row.name } }),
      h("td", { cls: "maw-col-desc", text: row.desc ?? "", attrs: { title: row.desc ?? "" } }),
      h("td", { cls: "maw-col-engine", text: engineText(row), attrs: { title: [row.engine, row.version].filter(Boolean).join(" · ") } }),
      h("td", { cls: "maw-col-created", text: local, attrs: { title: full } }),
      statusCell(row.name),
    );
    return tr;
  }

  /** @param {number} height in px */
  function spacer(height) {
    const tr = h("tr", { cls: "maw-spacer-row", attrs: { "aria-hidden": "true" } });
    tr.style.height = `${height}px`;
    tr.append(h("td", { attrs: { colspan: String(COLUMNS.length + 2) } }));
    return tr;
  }

  function drawBody() {
    const total = ui.view.length;
    const height = ui.rowHeight;
    const viewport = scroller.clientHeight || 420;
    const first = Math.max(0, Math.floor(scroller.scrollTop / height) - OVERSCAN);
    const last = Math.min(total, first + Math.ceil(viewport / height) + 2 * OVERSCAN);
    const rows = [];
    if (first > 0) rows.push(spacer(first * height));
    for (let i = first; i < last; i++) rows.push(drawRow(ui.view[i], i));
    if (last < total) rows.push(spacer((total - last) * height));
    tbody.replaceChildren(...rows);
    const measured = tbody.querySelector("tr[data-name]")?.getBoundingClientRect().height;
    if (measured && Math.abs(measured - ui.rowHeight) > 0.5) ui.rowHeight = measured;
  }

  function drawHeader() {
    const shown = ui.view.filter(deletable);
    const picked = shown.filter((r) => selected.has(r.name)).length;
    headerBox.checked = shown.length > 0 && picked === shown.length;
    headerBox.indeterminate = picked > 0 && picked < shown.length;
    headerBox.disabled = shown.length === 0 || model.get("running");
    for (const [key, { th }] of sortButtons) {
      th.setAttribute("aria-sort", key === ui.sortKey ? (ui.sortDir === "asc" ? "ascending" : "descending") : "none");
    }
  }

  /** @param {string} text */
  function showNotice(text) {
    notice.textContent = text;
    notice.hidden = !text;
    if (text) announce(text);
  }

  /** Withdraw an open confirmation whose names are no longer exactly the choice. */
  function checkConfirmation() {
    if (!ui.confirming) return;
    const now = chosen();
    const same = now.length === ui.confirmNames.length && ui.confirmNames.every((n) => now.includes(n));
    if (same) return;
    ui.confirming = false;
    ui.confirmNames = [];
    showNotice(t("page.confirm.withdrawn"));
  }

  function drawToolbar() {
    checkConfirmation();
    const n = chosen().length;
    const rows = model.get("rows");
    const loading = model.get("phase") === "loading";
    countText.textContent = t(loading ? "page.count.loading" : "page.count", { selected: n, shown: ui.view.length, total: rows.length });
    deleteButton.textContent = t("page.delete", { count: n });
    deleteButton.disabled = n === 0 || model.get("running") || ui.sent || ui.confirming;
    refreshButton.disabled = model.get("running");
    drawConfirmation();
  }

  /** The confirmation bar: how many configs, how many the filter hides, a preview of the names. */
  function drawConfirmation() {
    confirmBar.hidden = !ui.confirming;
    if (ui.confirming) {
      const names = ui.confirmNames;
      const shown = new Set(ui.view.map((r) => r.name));
      const hidden = names.filter((name) => !shown.has(name)).length;
      const listed = names.slice(0, PREVIEW_NAMES).join(t("page.list.separator"));
      const preview =
        names.length > PREVIEW_NAMES ? t("page.confirm.more", { names: listed, count: names.length - PREVIEW_NAMES }) : listed;
      const hiddenText = hidden ? t("page.confirm.hidden", { count: hidden }) : "";
      const after = t(model.get("backups") ? "page.confirm.backup" : "page.confirm.no_backup", { count: names.length });
      confirmText.textContent = t("page.confirm.text", { count: names.length, hidden: hiddenText, preview, after });
    }
  }

  function drawRun() {
    const running = model.get("running");
    const done = finishedCount(ui.counts, ui.total);
    const undo = model.get("undo_count") || 0;
    runBar.hidden = ui.total === 0 && !undo;
    progress.max = Math.max(ui.total, 1);
    progress.value = Math.max(done, 0);
    summaryText.textContent = summarize(ui.counts, ui.total, t, ui.job);
    stopButton.hidden = !running;
    retryButton.hidden = running || !ui.counts.failed || ui.job !== "delete"; // Retry repeats a delete only
    undoButton.hidden = running || !undo;
    undoButton.textContent = t("page.undo", { count: undo });
    trashButton.disabled = !model.get("backups");
  }

  function drawTrash() {
    trashButton.setAttribute("aria-expanded", String(!trashPanel.hidden));
    if (trashPanel.hidden) return;
    const files = model.get("trash_files") || [];
    const running = model.get("running");
    const here = model.get("trash_scope") || model.get("project") || t("page.trash.this_project");
    const everything = Boolean(model.get("trash_all_projects"));
    const scopeBox = h("input", { attrs: { type: "checkbox" } });
    scopeBox.checked = everything;
    scopeBox.addEventListener("change", () => model.send({ type: "trash", all_projects: scopeBox.checked }));
    const scope = h("label", { cls: "maw-trash-scope" }, [scopeBox, h("span", { text: ` ${t("page.trash.all_projects", { here })}` })]);
    const blocks = files.map((file) => {
      const picked = trashChoice.get(file.file) || new Set();
      const names = Array.isArray(file.names) ? file.names : null;
      const items = (names || []).map((name) => {
        const box = h("input", { attrs: { type: "checkbox", "aria-label": t("page.trash.restore_row", { name }) } });
        box.checked = picked.has(name);
        box.disabled = running;
        box.addEventListener("change", () => {
          if (box.checked) picked.add(name);
          else picked.delete(name);
          trashChoice.set(file.file, picked);
          drawTrash();
        });
        const status = ui.statuses.get(name);
        const label = h("label", { cls: "maw-trash-item" }, [box, h("span", { text: ` ${name}` })]);
        if (status) {
          const detail = [stateText(status[0]), status[1], status[2]].filter(Boolean).join(" ");
          // Cut to the item's own column (CSS); the whole text on hover.
          label.append(h("span", { cls: `maw-state maw-state-${stateClass(status[0])}`, text: ` ${detail}`, attrs: { title: detail } }));
        }
        return h("li", {}, [label]);
      });
      const origin = t("page.trash.project_region", { project: file.project || "?", region: file.region || "?" });
      /** @type {HTMLInputElement | null} */
      let allow = null;
      if (file.other) {
        const box = h("input", { attrs: { type: "checkbox" } });
        box.checked = trashAllowed.has(file.file);
        box.addEventListener("change", () => {
          if (box.checked) trashAllowed.add(file.file);
          else trashAllowed.delete(file.file);
          drawTrash();
        });
        allow = box;
      }
      const restore = h("button", {
        cls: "maw-button",
        text: t("page.trash.restore", { count: picked.size }),
        attrs: { type: "button" },
      });
      restore.disabled = running || picked.size === 0 || Boolean(file.other && !trashAllowed.has(file.file));
      restore.addEventListener("click", () => {
        ui.confirmToken += 1;
        const token = `${Date.now()}-r${ui.confirmToken}`;
        /** @type {PageRequest} */
        const request = { type: "restore", id: nextId(), file: file.file, names: [...picked], token };
        if (file.other) request.allow_other_project = trashAllowed.has(file.file);
        ask(request);
        trashChoice.set(file.file, new Set());
        restore.disabled = true;
      });
      const when = new Date(file.created || NaN); // a header's created_at may be any text
      const created = Number.isNaN(when.getTime()) ? file.file : dates.short.format(when);
      const title = t("page.trash.backup_of", { date: created });
      const head = [h("strong", { text: title })];
      if (names) head.push(h("span", { cls: "maw-count", text: ` · ${t("page.trash.configs", { count: names.length })}` }));
      if (file.other) head.push(h("span", { cls: "maw-trash-origin", text: ` · ${t("page.trash.origin", { origin })}` }));
      head.push(h("span", { cls: "maw-spacer" }), restore);
      /** @type {HTMLElement[]} */
      const body = [h("div", { cls: "maw-trash-head" }, head)];
      if (allow) {
        body.push(
          h("label", { cls: "maw-trash-allow" }, [allow, h("span", { text: ` ${t("page.trash.allow_other", { here, origin })}` })]),
        );
      }
      if (names) body.push(h("ul", { cls: "maw-trash-list" }, items));
      else {
        const open = h("button", { cls: "maw-button", text: t("page.trash.show_configs"), attrs: { type: "button" } });
        open.addEventListener("click", () => {
          open.disabled = true;
          model.send({ type: "trash_open", file: file.file });
        });
        body.push(open);
      }
      return h("section", { cls: "maw-trash-file", attrs: { "aria-label": title } }, body);
    });
    const empty = everything ? t("page.trash.empty") : t("page.trash.empty_here", { here });
    trashPanel.replaceChildren(scope, ...(blocks.length ? blocks : [h("div", { cls: "maw-message", text: empty })]));
  }

  function drawBanner() {
    const error = model.get("error") || {};
    banner.hidden = !error.message;
    banner.replaceChildren();
    if (!error.message) return;
    banner.append(
      h("strong", { text: `${error.code || t("page.error")}: ` }),
      h("span", { cls: "maw-banner-message", text: error.message }),
    );
    const hint = hintKey(catalogs.en || {}, error.code);
    if (hint || error.hint) banner.append(h("div", { cls: "maw-hint", text: hint ? t(hint) : error.hint }));
  }

  function drawMessage() {
    const phase = model.get("phase");
    const rows = model.get("rows");
    let text = "";
    if (phase === "loading" && rows.length === 0) text = t("page.loading");
    else if (phase === "ready" && rows.length === 0) text = t("page.empty", { project: model.get("project") });
    else if (rows.length > 0 && ui.view.length === 0) text = t("page.no_match");
    message.textContent = text;
    message.hidden = !text;
    root.dataset.phase = phase;
  }

  function drawAll() {
    drawToolbar();
    drawHeader();
    drawBody();
    drawRun();
    drawBanner();
    drawMessage();
    drawTrash();
  }

  /** @param {string} text */
  function announce(text) {
    live.textContent = text;
  }

  // -- events from the page --------------------------------------------------------------------
  function onFilter() {
    ui.filter = filterBox.value;
    recomputeView();
    drawToolbar();
    drawHeader();
    drawBody();
    drawMessage();
  }

  /** @param {ColumnKey} key */
  function onSort(key) {
    ui.sortDir = ui.sortKey === key && ui.sortDir === "asc" ? "desc" : "asc";
    ui.sortKey = key;
    recomputeView();
    drawHeader();
    drawBody();
  }

  /** @param {Event} event a click: a MouseEvent */
  function onBodyClick(event) {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || box.type !== "checkbox" || !box.dataset.index) return;
    const index = Number(box.dataset.index);
    const on = box.checked;
    let range = [index];
    if (/** @type {MouseEvent} */ (event).shiftKey && ui.lastClicked !== null) {
      const [a, b] = [Math.min(ui.lastClicked, index), Math.max(ui.lastClicked, index)];
      range = Array.from({ length: b - a + 1 }, (_, i) => a + i);
    }
    for (const i of range) {
      const row = ui.view[i];
      if (!deletable(row)) continue;
      if (on) selected.add(row.name);
      else selected.delete(row.name);
    }
    ui.lastClicked = index;
    saveSelection();
    drawToolbar();
    drawHeader();
    if (range.length > 1) drawBody();
    else box.closest("tr")?.setAttribute("aria-selected", String(on));
  }

  function onHeaderBox() {
    const shown = ui.view.filter(deletable);
    const all = shown.length > 0 && shown.every((r) => selected.has(r.name));
    for (const row of shown) {
      if (all) selected.delete(row.name);
      else selected.add(row.name);
    }
    saveSelection();
    drawToolbar();
    drawHeader();
    drawBody();
  }

  function onDelete() {
    const names = chosen();
    if (names.length === 0) return;
    ui.confirming = true;
    ui.confirmNames = names;
    showNotice("");
    // Every name can be seen, however many: an expandable list, built once per confirmation.
    confirmSummary.textContent = t("page.confirm.show_names", { count: names.length });
    confirmList.replaceChildren(...names.map((name) => h("li", { text: name })));
    confirmDetails.open = false;
    drawToolbar();
    confirmButton.focus();
  }

  function onConfirm() {
    checkConfirmation();
    if (!ui.confirming || ui.sent) return;
    const names = ui.confirmNames;
    ui.confirming = false;
    ui.confirmNames = [];
    ui.sent = true;
    ui.confirmToken += 1;
    ask({ type: "delete", id: nextId(), names, token: `${Date.now()}-${ui.confirmToken}` });
    announce(t("page.announce.deleting", { count: names.length }));
    drawToolbar();
  }

  function onCancel() {
    ui.confirming = false;
    ui.confirmNames = [];
    drawToolbar();
    deleteButton.focus();
  }

  function onTrash() {
    trashPanel.hidden = !trashPanel.hidden;
    if (!trashPanel.hidden) model.send({ type: "trash" });
    drawTrash();
  }

  let scrollPending = false;
  function onScroll() {
    if (scrollPending) return;
    scrollPending = true;
    requestAnimationFrame(() => {
      scrollPending = false;
      drawBody();
    });
  }

  /** @type {[EventTarget, string, EventListener][]} */
  const domListeners = [
    [filterBox, "input", onFilter],
    [tbody, "click", onBodyClick],
    [headerBox, "click", onHeaderBox],
    [deleteButton, "click", onDelete],
    [confirmButton, "click", onConfirm],
    [cancelButton, "click", onCancel],
    [refreshButton, "click", () => model.send({ type: "refresh" })],
    [stopButton, "click", () => model.send({ type: "stop" })],
    [retryButton, "click", () => ask({ type: "retry", id: nextId() })],
    [undoButton, "click", () => ask({ type: "undo", id: nextId() })],
    [trashButton, "click", onTrash],
    [scroller, "scroll", onScroll],
  ];
  for (const [key, { button }] of sortButtons) domListeners.push([button, "click", () => onSort(key)]);
  for (const [node, type, fn] of domListeners) node.addEventListener(type, fn);

  // -- events from Python -----------------------------------------------------------------------
  function onRows() {
    byName = rowsByName();
    recomputeView();
    drawAll();
  }

  function onSelected() {
    const incoming = model.get("selected");
    // Our own saveSelection echoes back here: the page already shows it.
    if (incoming.length === selected.size && incoming.every((name) => selected.has(name))) return;
    selected = new Set(incoming);
    drawToolbar();
    drawHeader();
    drawBody();
  }

  function onRunning() {
    if (model.get("running")) ui.sent = false;
    drawAll();
  }

  /** @param {ReplyMessage} msg */
  function onReply(msg) {
    // Another view of the same model asked: its answer is not for this one.
    if (!awaiting.delete(String(msg.id))) return;
    if (msg.ok) return; // `running` turns true and redraws
    ui.sent = false;
    showNotice(msg.reason && t.has(`page.rejected.${msg.reason}`) ? t(`page.rejected.${msg.reason}`) : msg.rejected || "");
    drawToolbar();
  }

  /** @param {KernelMessage} msg */
  function onCustom(msg) {
    if (msg?.type === "reply") onReply(msg);
    if (msg?.type !== "statuses") return;
    if (msg.reset) ui.statuses = new Map();
    for (const [name, status] of Object.entries(msg.updates || {})) ui.statuses.set(name, status);
    ui.counts = msg.counts || {};
    ui.total = msg.total || 0;
    ui.job = msg.job || "";
    if (ui.total) announce(summarize(ui.counts, ui.total, t, ui.job));
    drawAll();
  }

  /** @type {[ChangeEvent, () => void][]} */
  const modelListeners = [
    ["change:rows", onRows],
    ["change:selected", onSelected],
    ["change:running", onRunning],
    ["change:phase", drawAll],
    ["change:error", drawAll],
    ["change:project", drawMessage],
    ["change:undo_count", drawRun],
    ["change:backups", drawAll],
    ["change:trash_files", drawTrash],
    ["change:trash_all_projects", drawTrash],
    ["change:trash_scope", drawTrash],
  ];
  for (const [event, fn] of modelListeners) model.on(event, fn);
  model.on("msg:custom", onCustom);

  recomputeView();
  drawAll();
  model.send({ type: "hello", language }); // the kernel words its texts for this page in it

  return () => {
    for (const [event, fn] of modelListeners) model.off(event, fn);
    model.off("msg:custom", onCustom);
    for (const [node, type, fn] of domListeners) node.removeEventListener(type, fn);
    root.remove();
  };
}

/**
 * Draw the widget; a new `language` from Python redraws it in that language.
 * @param {{model: Model, el: HTMLElement}} view
 */
function render({ model, el }) {
  let cleanup = draw({ model, el });
  const redraw = () => {
    cleanup();
    cleanup = draw({ model, el });
  };
  model.on("change:language", redraw);
  return () => {
    model.off("change:language", redraw);
    cleanup();
  };
}

export default { render };
