// The page in English and Simplified Chinese: the language choice, and that every word it shows
// comes from the catalogs (modelarts_widgets/locales/*.json).

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";

import { chooseLanguage, supportedLanguage, translator } from "../widget.js";
import { mount, useDom } from "./lib/dom.js";
import { baseState, CATALOGS, makeRows } from "./lib/fake-model.js";

useDom();

const q = (el, sel) => el.querySelector(sel);
const SERVER = { code: "ModelArts.0108", message: "Permission denied by policy" };

/** Data the page shows as given (names, descriptions, server messages): not ours to translate. */
function dataStrings(rows, trashFiles) {
  return [
    ...rows.flatMap((r) => [r.name, r.desc, r.engine, r.version, r.lock_pattern, r.lock]),
    ...trashFiles.flatMap((f) => [f.file, ...(f.names || [])]),
    SERVER.code,
    SERVER.message,
    "HTTP.503",
    "Service Unavailable",
    "p1",
    "p2",
    "r2",
    "project p1 (r1)",
    "项目 p1（r1）",
  ].filter(Boolean);
}

/** Every piece of text a person can meet: text nodes, and the labels, tooltips and placeholders. */
function shownTexts(el) {
  const texts = [];
  const walker = document.createTreeWalker(el, 4 /* SHOW_TEXT */);
  while (walker.nextNode()) texts.push(walker.currentNode.textContent);
  for (const node of el.querySelectorAll("*")) {
    for (const attr of ["aria-label", "title", "placeholder"]) {
      if (node.hasAttribute(attr)) texts.push(node.getAttribute(attr));
    }
  }
  return texts.filter((text) => text.trim());
}

/** Drive the widget through every state it can show: rows, locks, confirm, run, trash, banner. */
function everything(language) {
  const rows = makeRows(13); // one per state, one more failure, one protected
  rows[12] = { ...rows[12], name: "prod-main", lock: "Protected by the pattern 'prod-*'", lock_pattern: "prod-*" };
  rows[0] = { ...rows[0], created: 1e20 }; // a time no clock can show
  const trashFiles = [
    { file: "backup-1.json", created: "2026-11-27T09:00:00+00:00", project: "p1", names: ["old-a", "old-b"] },
    { file: "backup-2.json", created: "2026-11-28T09:00:00+00:00", project: "p1", names: ["old-c"] },
    // Another project's backup, not opened yet: its names come with "Show configs".
    { file: "backup-3.json", created: "2026-11-29T09:00:00+00:00", project: "p2", region: "r2", other: true, names: null },
  ];
  const state = { ...baseState(rows), language, selected: rows.slice(0, 5).map((r) => r.name), undo_count: 2 };
  const { el, model } = mount(state);
  const texts = [];
  const snap = () => texts.push(...shownTexts(el));
  snap();
  const deleteButton = [...el.querySelectorAll("button")].find((b) => b.classList.contains("maw-danger"));
  deleteButton.click(); // Delete: the confirmation, with its list of names
  snap();
  model.set(
    "selected",
    rows.slice(0, 4).map((r) => r.name),
  ); // withdraws the confirmation
  snap();
  model.set(
    "selected",
    rows.slice(0, 5).map((r) => r.name),
  );
  const filterBox = q(el, "input[type=search]");
  filterBox.value = rows[0].name;
  filterBox.dispatchEvent(new window.Event("input"));
  deleteButton.click(); // four of the five hidden by the filter
  snap();
  filterBox.value = "";
  filterBox.dispatchEvent(new window.Event("input"));
  const states = [
    "queued",
    "backing up",
    "backed up",
    "restoring",
    "restored",
    "deleting",
    "deleted",
    "already gone",
    "failed",
    "skipped",
    "cancelled",
  ];
  const updates = {};
  states.forEach((state, i) => {
    updates[rows[i].name] = [state, state === "failed" ? SERVER.code : "", state === "failed" ? SERVER.message : ""];
  });
  updates[rows[11].name] = ["failed", "HTTP.503", "Service Unavailable"];
  const counts = Object.fromEntries(states.map((s) => [s, 1]));
  model.set("running", true);
  model.receive({ type: "statuses", updates, counts, total: states.length });
  snap();
  model.set("running", false);
  model.receive({
    type: "statuses",
    updates,
    counts: { deleted: 2, "already gone": 1, failed: 1, skipped: 1, cancelled: 1, queued: 1 },
    total: 7,
  });
  const retryButton = el.querySelectorAll(".maw-run button")[1];
  retryButton.click(); // a request Python answers
  model.reply({ ok: false, rejected: "A job is running: nothing was deleted", reason: "busy" });
  snap();
  retryButton.click();
  model.reply({ ok: false, rejected: "The selection changed", reason: "changed" });
  snap();
  q(el, "button[aria-expanded]").click(); // Trash
  model.set("trash_scope", language === "zh-CN" ? "项目 p1（r1）" : "project p1 (r1)"); // the kernel's words
  model.set("trash_files", trashFiles);
  el.querySelector(".maw-trash-list input[type=checkbox]").click();
  snap();
  model.set("trash_files", []);
  snap();
  model.set("error", { code: SERVER.code, message: SERVER.message, hint: "python's hint" });
  snap();
  const filter = q(el, "input[type=search]");
  filter.value = "zzz-nothing";
  filter.dispatchEvent(new window.Event("input"));
  snap();
  model.set("rows", []);
  snap();
  model.set("phase", "loading");
  snap();
  return { texts, data: dataStrings(rows, trashFiles) };
}

/** The texts with data, dates and numbers taken out: what is left must be ours. */
function ourWords(texts, data) {
  const sorted = [...new Set(data)].sort((a, b) => b.length - a.length);
  return texts.map((text) => {
    let rest = text;
    for (const value of sorted) rest = rest.split(value).join(" ");
    return rest.replace(/\b(UTC|GMT)\b/g, " ").replace(/\d+/g, " ");
  });
}

describe("language choice", () => {
  test("the forced language wins, then <html lang>, then the browser's languages", () => {
    assert.deepEqual(chooseLanguage("zh-CN", "en", ["en-US"]), ["zh-CN", "zh-CN"]);
    assert.deepEqual(chooseLanguage("", "zh-CN", ["en-US"]), ["zh-CN", "zh-CN"]);
    assert.deepEqual(chooseLanguage("", "zh_CN", []), ["zh-CN", "zh-CN"]);
    assert.deepEqual(chooseLanguage("", "en-GB", ["zh-CN"]), ["en", "en-GB"]);
    assert.deepEqual(chooseLanguage("", "", ["fr-FR", "zh-Hans-CN"]), ["zh-CN", "zh-CN"]);
    assert.deepEqual(chooseLanguage("", "", ["fr-FR"]), ["en", "en"]);
    assert.equal(supportedLanguage("zh-TW"), "zh-CN");
    assert.equal(supportedLanguage("de"), null);
  });

  test("a malformed <html lang> (en-, en_US.UTF-8, en-x) still draws the page, in English", () => {
    for (const tag of ["en-", "en_US.UTF-8", "en-x", "en--GB", "  en-GB "]) {
      const [language, locale] = chooseLanguage("", tag, ["zh-CN"]);
      assert.equal(language, "en", tag);
      assert.doesNotThrow(() => new Intl.DateTimeFormat(locale), tag);
      document.documentElement.lang = tag;
      try {
        const { el } = mount({ ...baseState(makeRows(2)), language: "" });
        assert.equal(q(el, ".maw-sort").textContent, "Name", tag);
        assert.match(q(el, "td.maw-col-created").textContent, /\d/, tag);
      } finally {
        document.documentElement.lang = "";
      }
    }
    assert.deepEqual(chooseLanguage("", "  en-GB ", []), ["en", "en-GB"]);
  });

  test("a protected row's tooltip quotes its pattern in both languages, as the kernel does", () => {
    for (const [language, expected] of [
      ["en", "Protected by the pattern 'prod-*'"],
      ["zh-CN", "受保护（匹配规则 'prod-*'）"],
    ]) {
      const rows = [{ ...makeRows(1)[0], name: "prod-main", lock: "x", lock_pattern: "prod-*" }];
      const { el } = mount({ ...baseState(rows), language });
      assert.equal(q(el, ".maw-lock").title, expected);
    }
  });

  test("the confirmation of one config says it, not them", () => {
    const rows = makeRows(2);
    const { el } = mount({ ...baseState(rows), language: "en", selected: [rows[0].name] });
    [...el.querySelectorAll("button")].find((b) => b.classList.contains("maw-danger")).click();
    const text = q(el, ".maw-confirm-text").textContent;
    assert.match(text, /^Delete 1 config \(cfg-00000\)\? Its details are saved to the trash first, so Undo can re-create it\.$/);
  });

  test("plural forms: English one/other, Chinese one form; placeholders by name", () => {
    const en = translator(CATALOGS, "en");
    const zh = translator(CATALOGS, "zh-CN");
    assert.equal(en("page.trash.configs", { count: 1 }), "1 config");
    assert.equal(en("page.trash.configs", { count: 2 }), "2 configs");
    assert.equal(en("page.trash.configs", { count: 0 }), "0 configs");
    assert.equal(zh("page.trash.configs", { count: 1 }), "1 个训练作业参数");
    assert.equal(en("page.empty", { project: "{count}" }), "No training-job configs in project {count}.");
  });
});

describe("every word from the catalogs", () => {
  beforeEach(() => document.body.replaceChildren());

  test("in zh-CN no English word of ours is shown, anywhere, in any state", () => {
    const { texts, data } = everything("zh-CN");
    // Latin words the Chinese catalog itself uses (product names, API names, "AI").
    const allowed = new Set(
      Object.values(CATALOGS["zh-CN"])
        .flatMap((v) => (typeof v === "string" ? [v] : Object.values(v)))
        .flatMap((v) => v.match(/[A-Za-z][A-Za-z_:.-]*/g) || []),
    );
    const stray = ourWords(texts, data)
      .flatMap((text) => text.match(/[A-Za-z][A-Za-z_:.-]*/g) || [])
      .filter((word) => !allowed.has(word));
    assert.deepEqual([...new Set(stray)], []);
    assert.ok(
      texts.some((text) => text.includes("确定删除 5 个训练作业参数")),
      "the confirmation is Chinese",
    );
    for (const piece of [
      "其中 4 个被筛选隐藏",
      "显示全部 5 个名称",
      "所选内容已变化，确认已撤回",
      "有任务正在运行",
      "同时显示其他项目的备份",
      "恢复到 项目 p1（r1），尽管此备份来自项目 p2（r2）",
      "显示训练作业参数",
      "无效的时间",
      "已不存在 1 个",
    ]) {
      assert.ok(
        texts.some((text) => text.includes(piece)),
        piece,
      );
    }
    for (const state of ["排队中", "备份中…", "已备份", "恢复中…", "已恢复", "删除中…", "已删除", "已不存在", "失败", "已跳过", "未发送"]) {
      assert.ok(texts.includes(state), state);
    }
    assert.ok(
      texts.some((text) => text.includes("当前 IAM 用户缺少训练作业参数的权限")),
      "the hint is Chinese",
    );
    assert.ok(
      texts.some((text) => text.includes(SERVER.message)),
      "the server's message is shown as sent",
    );
    assert.ok(
      texts.some((text) => text.startsWith(`${SERVER.code}: ${SERVER.message}\n当前 IAM 用户`)),
      "a failed row's tooltip: the server's message, then our hint in Chinese",
    );
    assert.ok(texts.some((text) => text.startsWith("HTTP.503: Service Unavailable\nModelArts 或其前端网关出错")));
  });

  test("in zh-CN no English catalog text appears, and in English no Chinese", () => {
    const english = Object.values(CATALOGS.en).flatMap((v) => (typeof v === "string" ? [v] : Object.values(v)));
    const words = english.map((v) => v.split(/\{[A-Za-z_]+\}/)[0].trim()).filter((v) => v.length > 3);
    const zh = everything("zh-CN").texts.join("\n");
    assert.deepEqual(
      words.filter((w) => zh.includes(w)),
      [],
    );
    document.body.replaceChildren();
    const en = everything("en");
    assert.deepEqual(
      ourWords(en.texts, en.data).filter((text) => /[\u3000-\u9fff\uff00-\uffef]/.test(text)),
      [],
    );
  });

  test("the page follows <html lang> and redraws when Python sets the language", () => {
    document.documentElement.lang = "zh-CN";
    try {
      const { el, model } = mount({ ...baseState(makeRows(2)), language: "" });
      assert.equal(q(el, ".maw-sort").textContent, "名称");
      assert.equal(q(el, ".maw-root").getAttribute("lang"), "zh-CN");
      // The kernel words its own texts for this page (trash scope, run statuses) in the same language.
      assert.deepEqual(model.sent[0], { type: "hello", language: "zh-CN" });
      model.set("language", "en");
      assert.equal(q(el, ".maw-sort").textContent, "Name");
      assert.equal(el.querySelectorAll(".maw-root").length, 1);
    } finally {
      document.documentElement.lang = "";
    }
  });

  test("a backup whose created_at is no date still shows in the Trash view, by its file name", () => {
    for (const language of ["zh-CN", "en"]) {
      document.body.replaceChildren();
      const { el, model } = mount({ ...baseState(makeRows(1)), language });
      q(el, "button[aria-expanded]").click();
      const files = [
        { file: "backup-odd.json", created: "yesterday", project: "p1", names: ["old-a"] },
        { file: "backup-ok.json", created: "2026-11-27T09:00:00.123456+00:00", project: "p1", names: ["old-b"] },
      ];
      assert.doesNotThrow(() => model.set("trash_files", files), language);
      const heads = [...el.querySelectorAll(".maw-trash-head strong")].map((node) => node.textContent);
      assert.equal(heads.length, 2, language);
      assert.ok(heads[0].includes("backup-odd.json"), heads[0]);
      assert.match(heads[1], /2026/, language);
    }
  });

  test("dates in the locale's format", () => {
    const created = Date.UTC(2023, 10, 14, 22, 13);
    const zh = mount({ ...baseState(makeRows(1, { created })), language: "zh-CN" });
    assert.match(q(zh.el, "td.maw-col-created").textContent, /^2023\/11\/1[45] \d\d:13$/);
    assert.match(q(zh.el, "td.maw-col-created").title, /2023年11月1[45]日/);
    const en = mount({ ...baseState(makeRows(1, { created })), language: "en" });
    assert.match(q(en.el, "td.maw-col-created").textContent, /^11\/1[45]\/2023, \d\d:13$/);
  });
});
