"""Both languages complete, chosen as documented, and every text for people read from a catalog."""

from __future__ import annotations

import ast
import json
import re
import socket
import time
from pathlib import Path
from typing import Any

import pytest
import traitlets
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from modelarts_widgets import i18n
from modelarts_widgets.emulator import Emulator
from modelarts_widgets.sdk import Session
from modelarts_widgets.sdk.errors import ModelArtsError, hint_for
from modelarts_widgets.sdk.states import ALL_STATES
from modelarts_widgets.widget import JobConfigTable

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "modelarts_widgets"
LOCALES = PACKAGE / "locales"
CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _load(language: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((LOCALES / f"{language}.json").read_text(encoding="utf-8"))
    return data


def _forms(entry: Any) -> list[str]:
    return [entry] if isinstance(entry, str) else list(entry.values())


# -- the catalogs ------------------------------------------------------------------------------


def test_every_key_is_in_both_languages() -> None:
    en, zh = _load("en"), _load("zh-CN")
    assert sorted(set(en) - set(zh)) == [], "keys missing in zh-CN.json"
    assert sorted(set(zh) - set(en)) == [], "keys missing in en.json"
    assert i18n.LANGUAGES == ("en", "zh-CN")


def test_the_widget_words_a_text_once() -> None:
    # The kernel's widget texts (table.*) and the page's (page.*) reach the same screen: a text
    # both need is the page's key, which the kernel can word too (e.g. a reply's refusal).
    for language in i18n.LANGUAGES:
        catalog = _load(language)
        page = {
            json.dumps(entry, ensure_ascii=False) for key, entry in catalog.items() if key.startswith("page.")
        }
        twice = [
            key
            for key, entry in catalog.items()
            if key.startswith("table.") and json.dumps(entry, ensure_ascii=False) in page
        ]
        assert twice == [], language


def test_plural_forms_are_the_languages_own() -> None:
    for key, entry in _load("en").items():
        if isinstance(entry, dict):
            assert set(entry) == {"one", "other"}, key
    for key, entry in _load("zh-CN").items():
        if isinstance(entry, dict):
            assert set(entry) == {"other"}, key  # Chinese has no plural inflection


def test_placeholders_agree_and_chinese_is_chinese() -> None:
    en, zh = _load("en"), _load("zh-CN")
    for key in en:
        want = {p for form in _forms(en[key]) for p in PLACEHOLDER.findall(form)}
        for form in _forms(zh[key]):
            assert set(PLACEHOLDER.findall(form)) == want, key
        for form in _forms(en[key]):
            assert not CJK.search(form), key
    # Separators and punctuation may be shared; every sentence has Chinese in it.
    neutral = {"page.summary.separator", "report.end", "page.list.separator", "credentials.source.notebook"}
    untranslated = [k for k in zh if k not in neutral and not any(CJK.search(f) for f in _forms(zh[k]))]
    assert untranslated == []


def test_plurals_and_placeholders_in_python() -> None:
    assert i18n.t("magic.deleting", lang="en", count=1) == "Deleting 1 config…"
    assert i18n.t("magic.deleting", lang="en", count=3) == "Deleting 3 configs…"
    assert i18n.t("magic.deleting", lang="en", count=0) == "Deleting 0 configs…"
    assert i18n.t("magic.deleting", lang="zh-CN", count=1) == "正在删除 1 个训练作业参数…"
    # A value is never read as a placeholder or a format spec.
    assert i18n.t("magic.not_found", lang="en", name="{project}", project="p") == (
        "No config named {project} in project p; nothing was sent"
    )
    assert i18n.width("删除ab") == 6
    assert i18n.ljust("失败", 8) == "失败    "


# -- the code uses only keys that exist, and the catalogs hold no dead keys --------------------

# Any quoted string shaped like a key (also those chosen by a conditional: t(a ? "x.y" : "x.z")).
_PREFIXES = (
    "page|hint|error|credentials|protect|table|magic|report|doctor|bulk|configs|restore|trash|estimator"
    "|transport"
)
_KEY = re.compile(r"""f?["'`]((?:""" + _PREFIXES + r""")\.[A-Za-z0-9_. ${}]+)["'`]""")


def _used_keys() -> set[str]:
    """Literal keys, with each key built at run time ("page.state.${state}") expanded to its values."""
    families = {
        "page.state.${state}": list(ALL_STATES),
        "page.column.${column.key}": ["name", "desc", "engine", "created"],
        "page.rejected.${msg.reason}": ["busy", "changed", "restore", "retry"],
        "page.rejected.{why}": ["busy", "changed", "restore", "retry"],
        "credentials.source.{name}": ["environment", "profile", "notebook", "metadata", "legacy"],
        "report.head.{h}": ["outcome", "name", "created", "details"],
    }
    found = [k for path in PACKAGE.rglob("*.py") for k in _KEY.findall(path.read_text(encoding="utf-8"))]
    found += _KEY.findall((ROOT / "js" / "widget.js").read_text(encoding="utf-8"))
    used = {"page.column.status"}
    for key in found:
        if key.startswith("hint."):
            continue  # looked up by error code; see test_every_key_in_the_catalogs_is_used
        if "{" in key:
            prefix = key[: key.index("{")].rstrip("$")
            used.update(prefix + value for value in families[key])
        else:
            used.add(key)
    return used


def test_every_key_the_code_asks_for_exists() -> None:
    en = _load("en")
    missing = sorted(k for k in _used_keys() if k not in en)
    assert missing == []


def test_the_page_receives_every_key_it_asks_for() -> None:
    js = _KEY.findall((ROOT / "js" / "widget.js").read_text(encoding="utf-8"))
    assert js
    assert sorted(k for k in js if not k.startswith(i18n.PAGE_PREFIXES)) == []
    sent = i18n.page_catalogs()
    assert (
        set(sent["en"]) == set(sent["zh-CN"]) == {k for k in _load("en") if k.startswith(i18n.PAGE_PREFIXES)}
    )


def test_every_key_in_the_catalogs_is_used() -> None:
    used = _used_keys()
    used |= {"report.outcome.restored", "report.outcome.not_restored"}
    # Hints are looked up by error code (errors.hint_for and the page's hintKey).
    dead = sorted(k for k in _load("en") if k not in used and not k.startswith("hint."))
    assert dead == []


# -- the kernel side: no literal sentence for people outside the catalogs -----------------------

# Modules whose texts are not in the catalogs yet. Only remove entries.
NOT_YET: set[str] = set()
# The emulator is a test double whose texts are the fake server's; i18n's one error is about
# choosing the language itself.
SKIP = {"emulator", "i18n.py"}
# The settings table's descriptions document each variable for the README and its test; no
# code shows them to people.
DOCS_ONLY = {"sdk/settings.py"}
# Literal sentences that are not for people to read as messages, each with its reason.
NOT_MESSAGES = {
    ", TLS verification OFF",  # Session's repr, for programmers
    ", CA bundle {}",
    "environment variables",  # Session.auth_source values: identifiers scripts compare
    "profile file {}",
    "legacy config {}",
    "ModelArts notebook (official SDK session)",
    "metadata service ({})",
    "Cloud Service Agency",  # matched in the metadata service's answer
    "IAM token",  # Session.credentials_kind values, identifiers too
    "temporary AK/SK",
    "module {} has no attribute {}",  # Python's AttributeError protocol
    "{}() got an unexpected keyword argument {}{}; valid options: {}",  # Python's TypeError protocol
    " (did you mean {}?)",  # its part, as Python words it
    "already gone",  # state and bucket values (sdk.bulk, report): identifiers scripts compare
    "backing up",
    "backed up",
    "not sent",
    "not found",
    "would delete",
    "age unknown",
    "search only",
    "no modelarts package",  # an ImportError of which only the type name is shown
    "Connection refused",  # the OS's words, searched for in exception text (transport._FAILURES)
    "Connection reset",
    "Name or service not known",
    "nodename nor servname",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "python -m modelarts_widgets doctor",  # argparse prog: a command, not a sentence
    "unrecognized arguments: (?P<args>.+)",  # argparse's English errors, matched to be translated
    "argument (?P<arg>\\S+): invalid (?P<type>\\w+) value: (?P<value>.+)",
    "ambiguous option: (?P<option>\\S+) could match (?P<matches>.+)",
    "argument (?P<arg>\\S+): expected one argument",
    "argument (?P<arg>\\S+): ignored explicit argument (?P<value>.+)",
    '<tr><th colspan="4">{}</th></tr>',  # HTML markup around a translated heading
    '<div class="maw-fallback"><b>{}</b> {}</div>',  # and around the doctor's translated hint
}
_WORDS = re.compile(r"[A-Za-z]{2,}[\s,;:]+[A-Za-z]{2,}")  # two words in a row: a sentence
_QUIET = {"log", "logging", "warnings"}  # logs
_NAMES = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*\(\)")


def _literal(node: ast.AST) -> str | None:
    """A string literal's text, with each f-string field as {}; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def _sentences_for_people(path: Path, base: Path = PACKAGE) -> list[str]:
    """Every string literal in ``path`` that reads as a sentence, except docstrings, log calls,
    the pieces inside f-strings, and NOT_MESSAGES."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            skip.add(id(body[0].value))  # a docstring
        if isinstance(node, ast.JoinedStr):
            skip.update(id(v) for v in ast.walk(node) if v is not node)
        if isinstance(node, ast.Call):
            func = node.func
            owner = func.value if isinstance(func, ast.Attribute) else func
            if isinstance(owner, ast.Name) and owner.id in _QUIET:
                skip.update(id(v) for v in ast.walk(node))
    found = []
    for node in sorted(ast.walk(tree), key=lambda n: getattr(n, "lineno", 0)):
        text = _literal(node)
        if text is None or id(node) in skip or text in NOT_MESSAGES:
            continue
        if _WORDS.search(text):
            found.append(f"{path.relative_to(base)}:{getattr(node, 'lineno', 0)}: {text[:60]!r}")
    return found


def test_kernel_texts_for_people_come_from_the_catalogs() -> None:
    stray = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative in NOT_YET or relative in DOCS_ONLY or relative.split("/")[0] in SKIP:
            continue
        stray += _sentences_for_people(path)
    assert stray == []


def test_the_scan_finds_english_literals(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""A docstring is fine."""\n'
        'raise UsageError(f"--x takes a number, not {v}")\n'
        'message = "No config named x; nothing was sent"\n'
        'log.info("Backed up %d configs", n)\n'
        'print(t("magic.interrupted"))\n'
    )
    assert [line.split(":")[1] for line in _sentences_for_people(sample, tmp_path)] == ["2", "3"]


# -- choosing the language ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh-CN"),
        ({"LANG": "zh_TW.UTF-8"}, "zh-CN"),  # every Chinese locale: the one (Simplified) catalog
        ({"LC_ALL": "zh_HK.UTF-8"}, "zh-CN"),
        ({"MODELARTS_LANGUAGE": "zh-Hant"}, "zh-CN"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "fr_FR.UTF-8"}, "en"),
        ({"LC_MESSAGES": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh-CN"),
        ({"LC_ALL": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, "en"),
        ({"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"MODELARTS_LANGUAGE": "zh-CN", "LC_ALL": "en_US.UTF-8"}, "zh-CN"),
        ({"MODELARTS_LANGUAGE": "en", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"MODELARTS_LANGUAGE": "klingon", "LANG": "zh_CN.UTF-8"}, "zh-CN"),  # ignored, logged
        ({"MODELARTS_LANGUAGE": "zh_Hans"}, "zh-CN"),
    ],
)
def test_kernel_language_from_the_environment(env: dict[str, str], expected: str) -> None:
    assert i18n.language_for(None, env) == expected


def test_a_language_argument_wins_and_is_checked() -> None:
    assert i18n.language_for("zh-CN", {"MODELARTS_LANGUAGE": "en"}) == "zh-CN"
    assert i18n.language_for("en", {"LANG": "zh_CN.UTF-8"}) == "en"
    with pytest.raises(ValueError, match="language must be one of en, zh-CN"):
        i18n.language_for("fr")


# -- the kernel's texts in Chinese ---------------------------------------------------------------


@pytest.fixture(params=["MODELARTS_LANGUAGE", "LANG"])
def chinese(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The kernel set to Chinese one way or the other."""
    if request.param == "LANG":
        monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    else:
        monkeypatch.setenv("MODELARTS_LANGUAGE", "zh-CN")
    return str(request.param)


@pytest.fixture
def ip(emulator_env: dict[str, str]) -> InteractiveShell:
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "modelarts_widgets")
    return shell


def _plain(emulator: Emulator, n: int) -> list[str]:
    return sorted(x for x in emulator.store.names() if not x.startswith("prod-"))[:n]


def test_magic_dry_run_in_chinese(emulator: Emulator, ip: InteractiveShell, chinese: str) -> None:
    names = _plain(emulator, 2)
    report = ip.run_line_magic("modelarts_delete", " ".join(names))
    text = repr(report)
    assert text.startswith("试运行：将删除 2 个训练作业参数。未删除任何内容；加上 --yes 才会真正删除。")
    assert "将删除" in text
    assert "Dry run" not in text
    html = report._repr_html_()
    assert "<th>结果</th>" in html
    assert "加上 <code>--yes</code> 才会真正删除" in html


def test_magic_progress_and_report_in_chinese(
    emulator: Emulator, ip: InteractiveShell, chinese: str, capsys: pytest.CaptureFixture[str]
) -> None:
    names = _plain(emulator, 3)
    emulator.faults.fail_names = {names[1]: [403, "ModelArts.0108", "You are not authorized."]}
    report = ip.run_line_magic("modelarts_delete", " ".join(names) + " --yes")
    out = capsys.readouterr().out
    assert "正在删除 3 个训练作业参数…" in out
    # Marks padded to the widest, 已不存在 (eight columns).
    assert f"  已删除    {names[0]}" in out
    # The server's message exactly as sent, beside our mark.
    assert f"  失败      {names[1]}  ModelArts.0108: You are not authorized." in out
    text = repr(report)
    assert text.startswith("已删除 2/3 个，失败 1 个。")
    assert "备份：" in text
    assert emulator.store.names().isdisjoint({names[0], names[2]})


def test_usage_errors_in_chinese(ip: InteractiveShell, chinese: str) -> None:
    with pytest.raises(UsageError, match="--concurrency 至少为 1，当前为 0"):
        ip.run_line_magic("modelarts_delete", "a --concurrency 0")
    with pytest.raises(UsageError, match="无效的训练作业参数名称 'bad name!'"):
        ip.run_line_magic("modelarts_delete", "'bad name!'")
    with pytest.raises(UsageError, match="不能同时使用"):
        ip.run_line_magic("modelarts_delete", "--match x --widget --yes")


@pytest.mark.parametrize(
    ("line", "english", "chinese"),
    [
        ("--frobnicate", "unrecognized arguments: --frobnicate", "无法识别的参数：--frobnicate"),
        (
            "--concurrency abc",
            "argument --concurrency: invalid int value: 'abc'",
            "参数 --concurrency 的值无效",
        ),
        ("--older-than x", "argument --older-than: invalid float value: 'x'", "参数 --older-than 的值无效"),
        ("--restore", "argument --restore: expected one argument", "参数 --restore 需要一个值"),
        ("--yes=please", "argument -y/--yes: ignored explicit argument 'please'", "参数 -y/--yes 不接受值"),
        ("-yx", "argument -y/--yes: ignored explicit argument 'x'", "参数 -y/--yes 不接受值"),
        ("--no-backup=1", "argument --no-backup: ignored explicit argument '1'", "参数 --no-backup 不接受值"),
    ],
)
def test_argument_errors_in_both_languages(
    ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch, line: str, english: str, chinese: str
) -> None:
    """argparse's own messages (a mistyped option or value) are UsageErrors people read too."""
    with pytest.raises(UsageError) as caught:
        ip.run_line_magic("modelarts_delete", line)
    assert str(caught.value) == english
    monkeypatch.setenv("MODELARTS_LANGUAGE", "zh-CN")
    with pytest.raises(UsageError) as caught:
        ip.run_line_magic("modelarts_delete", line)
    assert str(caught.value).startswith(chinese)
    assert not re.search(r"[a-z]{3,} [a-z]{3,}", str(caught.value)), str(caught.value)


def test_hints_follow_the_language_and_server_messages_do_not(chinese: str) -> None:
    error = ModelArtsError("You are not authorized.", "ModelArts.0108", status=403)
    assert str(error).startswith("ModelArts.0108: You are not authorized. (HTTP 403)。当前 IAM 用户")
    assert hint_for("HTTP.503").startswith("ModelArts 或其前端网关出错")
    assert hint_for("ModelArts.0108", language="en").startswith("Your IAM user lacks")


@pytest.mark.parametrize(
    ("language", "message", "status", "expected"),
    [
        ("en", "Not authorized", None, "ModelArts.0108: Not authorized. Your IAM user lacks"),
        ("en", "Not authorized.", None, "ModelArts.0108: Not authorized. Your IAM user lacks"),
        ("en", "没有权限。", None, "ModelArts.0108: 没有权限。Your IAM user lacks"),
        ("zh-CN", "没有权限", None, "ModelArts.0108: 没有权限。当前 IAM 用户"),
        ("zh-CN", "没有权限。", None, "ModelArts.0108: 没有权限。当前 IAM 用户"),
        ("zh-CN", "Not authorized.", None, "ModelArts.0108: Not authorized. 当前 IAM 用户"),
        ("zh-CN", "Not authorized", 403, "ModelArts.0108: Not authorized (HTTP 403)。当前 IAM 用户"),
    ],
)
def test_the_hint_follows_the_message_with_the_languages_punctuation(
    monkeypatch: pytest.MonkeyPatch, language: str, message: str, status: int | None, expected: str
) -> None:
    """The server's words stay as sent; the joint to our hint is the chosen language's, once."""
    monkeypatch.setenv("MODELARTS_LANGUAGE", language)
    assert str(ModelArtsError(message, "ModelArts.0108", status=status)).startswith(expected)


def test_no_credentials_message_in_chinese(chinese: str) -> None:
    with pytest.raises(ModelArtsError) as caught:
        Session()
    message = caught.value.error_msg
    head = [
        "未找到 ModelArts 凭证。已按顺序尝试：",
        "  1. 环境变量：未设置 HUAWEICLOUD_SDK_AK 和 HUAWEICLOUD_SDK_SK",
    ]
    assert message.startswith("\n".join([*head, "  2. 配置文件："]))
    assert "在 ModelArts Notebook 中无需任何配置" in message
    assert caught.value.hint == "请配置凭证：参见 README 中的“Configuration”一节。"


# -- the widget ---------------------------------------------------------------------------------


def test_widget_sends_both_catalogs_and_the_forced_language(session: Session) -> None:
    table = JobConfigTable(session=session, protect=["prod-*"], language="zh-CN", autoload=False)
    assert table.language == "zh-CN"
    catalogs = table._catalogs
    assert set(catalogs) == {"en", "zh-CN"}
    assert catalogs["zh-CN"]["page.confirm"] == "确认"
    assert all(k.startswith(("page.", "hint.")) for k in catalogs["en"])
    table = JobConfigTable(session=session, autoload=False)
    assert table.language == ""  # follow the page
    table.language = "zh_CN"
    assert table.language == "zh-CN"
    with pytest.raises(traitlets.TraitError, match="language must be one of en, zh-CN, not 'de'"):
        table.language = "de"
    assert table.language == "zh-CN"


def test_widget_rejects_an_unknown_language(session: Session, emulator: Emulator) -> None:
    before = len(emulator.requests)
    with pytest.raises(ValueError, match="language must be one of en, zh-CN, not 'fr'"):
        JobConfigTable(session=session, language="fr")
    time.sleep(0.2)
    assert len(emulator.requests) == before  # nothing was loaded


def test_widget_kernel_texts_follow_its_language(emulator: Emulator, session: Session) -> None:
    emulator.faults.deny = ["list"]
    table = JobConfigTable(session=session, language="zh-CN")
    table.wait_loaded(10)
    assert table.error["code"] == "ModelArts.0108"
    assert table.error["hint"].startswith("当前 IAM 用户缺少训练作业参数的权限")
    emulator.faults.deny = []
    table.refresh()
    table.wait_loaded(10)
    table._patterns = ["prod-*"]
    table.refresh()
    table.wait_loaded(10)
    locked = [r for r in table.rows if r["lock"]]
    assert locked
    assert locked[0]["lock"] == "受保护（匹配规则 'prod-*'）"
    assert locked[0]["lock_pattern"] == "prod-*"


# -- texts that arrived with main: statuses, trash, contract, doctor ------------------------------


def test_new_kernel_texts_in_chinese(chinese: str, tmp_path: Path) -> None:
    from modelarts_widgets.frontend import fallback_text, hint_html
    from modelarts_widgets.report import DeletionReport
    from modelarts_widgets.sdk.configs import list_query
    from modelarts_widgets.sdk.trash import Trash

    # The plain-text fallback still leads with the command (ipywidgets 7 keeps 110 characters).
    assert fallback_text().startswith("控件未显示？在单元格中运行 %run -m modelarts_widgets.doctor")
    assert "<b>控件未显示？</b>" in hint_html()
    assert "<code>%run -m modelarts_widgets.doctor</code>" in hint_html()
    nothing = DeletionReport(dry_run=True, criteria="--match 'zzz*'")
    assert repr(nothing).startswith("没有与 --match 'zzz*' 匹配的项；未删除任何内容。要扩大选择范围")
    gone = DeletionReport(
        dry_run=False,
        planned=[{"config_name": "a"}, {"config_name": "b"}],
        results={"a": {"is_success": True}, "b": {"is_success": True, "already_gone": True}},
        backups=False,
    )
    assert repr(gone).startswith("已删除 1/2 个，已不存在 1 个。")
    assert "  已不存在" in repr(gone)
    assert "删除时已不存在（已在别处删除）" in repr(gone)
    with pytest.raises(ValueError, match="per_page 应在 1 到 1000 之间，当前为 0"):
        list_query(per_page=0)
    with pytest.raises(FileNotFoundError, match="中没有备份文件"):
        Trash(tmp_path / "trash").latest()


def test_new_kernel_texts_stay_english_by_default() -> None:
    from modelarts_widgets.frontend import fallback_text
    from modelarts_widgets.report import DeletionReport

    assert fallback_text().startswith("Widget not shown? In a cell: %run -m modelarts_widgets.doctor · ")
    assert repr(DeletionReport(dry_run=True)).startswith("Nothing matches; nothing was deleted. To widen")


# -- the widget's own runs speak its language, not the kernel's environment ---------------------


def test_widget_run_statuses_follow_a_forced_language(emulator: Emulator, session: Session) -> None:
    """Texts the delete and restore jobs make (shown in the page's Status column) are in the
    widget's language even when the kernel's environment is English."""
    table = JobConfigTable(session=session, language="zh-CN")
    table.wait_loaded(10)
    name = sorted(n for n in emulator.store.names() if not n.startswith("prod-"))[0]
    table.selected = [name]
    table.delete_selected()
    table.undo(wait=True)
    assert table._statuses[name][0] == "restored"
    table.list_trash()
    table.restore_from_trash(table.trash_files[0]["file"], [name], wait=True)  # it exists again
    state, code, message = table._statuses[name]
    assert (state, code) == ("skipped", "Client.Exists")
    assert message == f"名为 {name} 的训练作业参数已重新存在；未覆盖它"


def test_widget_following_the_page_speaks_the_page_language(emulator: Emulator, session: Session) -> None:
    """With no language= the page says which language it chose (its hello); the kernel's texts
    for that page (the Trash view's scope, run statuses) follow it, not $LANG."""
    table = JobConfigTable(session=session)
    table.wait_loaded(10)
    table._on_front_msg(None, {"type": "hello", "language": "zh-CN"}, [])
    table.list_trash()
    assert table.trash_scope.startswith("项目 ")
    table._on_front_msg(None, {"type": "hello", "language": "klingon"}, [])  # ignored
    table.list_trash()
    assert table.trash_scope.startswith("项目 ")
    table.language = "en"  # a forced language wins over the page's
    table.list_trash()
    assert table.trash_scope.startswith("project ")


def test_a_failed_load_worded_before_the_pages_hello_is_worded_again_in_the_pages_language(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The load starts when the widget is made, before the page can say its language: a failure
    it met then (our words: unreachable, no credentials) is asked again and worded for the page."""
    monkeypatch.setenv("MODELARTS_LANGUAGE", "en")
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    session = Session(environ={**emulator.env(), "MODELARTS_ENDPOINT": f"http://127.0.0.1:{port}"})
    table = JobConfigTable(session=session)
    table.wait_loaded(10)
    assert table.phase == "error"
    assert i18n.t("transport.reason.refused", lang="en") in table.error["message"]
    table._on_front_msg(None, {"type": "hello", "language": "zh-CN"}, [])
    table.wait_loaded(10)
    assert table.phase == "error"
    assert table.error["code"] == "Client.Unreachable"
    assert i18n.t("transport.reason.refused", lang="zh-CN") in table.error["message"]
    loader = table._loader
    table._on_front_msg(None, {"type": "hello", "language": "zh-CN"}, [])  # the same language: not again
    assert table._loader is loader
    table.language = "en"  # forced from Python: worded again too
    table.wait_loaded(10)
    assert i18n.t("transport.reason.refused", lang="en") in table.error["message"]


@pytest.mark.parametrize(
    ("environment", "forced", "start"), [("zh-CN", "en", "Widget not shown?"), ("en", "zh-CN", "控件未显示")]
)
def test_the_widgets_plain_text_is_in_its_forced_language(
    session: Session, monkeypatch: pytest.MonkeyPatch, environment: str, forced: str, start: str
) -> None:
    """language= wins over $MODELARTS_LANGUAGE for the widget's own text/plain form too."""
    monkeypatch.setenv("MODELARTS_LANGUAGE", environment)
    table = JobConfigTable(session=session, language=forced, autoload=False)
    assert repr(table).startswith(start), repr(table)


def test_english_backup_notes_agree_with_one_config(tmp_path: Path) -> None:
    """One config is "it", not "them": the notes beside a count take its plural form too."""
    from modelarts_widgets.report import DeletionReport

    one = [{"config_name": "a"}]
    two = [{"config_name": "a"}, {"config_name": "b"}]
    dry = DeletionReport(dry_run=True, planned=one, backup=str(tmp_path), language="en")
    assert f"Its details would be saved in {tmp_path} first." in repr(dry)
    dry2 = DeletionReport(dry_run=True, planned=two, backup=str(tmp_path), language="en")
    assert f"Their details would be saved in {tmp_path} first." in repr(dry2)
    off = DeletionReport(dry_run=True, planned=one, backups=False, language="en")
    assert "the deleted config could not be restored" in repr(off)
    done = DeletionReport(
        dry_run=False, planned=one, results={"a": {"is_success": True}}, backups=False, language="en"
    )
    assert "Backups were off: the deleted config cannot be restored." in repr(done)
    zh = DeletionReport(dry_run=True, planned=one, backup=str(tmp_path), language="zh-CN")
    assert f"删除前会先将其详情保存到 {tmp_path}。" in repr(zh)


def _classic_server() -> tuple[Any, str]:
    """A classic Notebook server over real HTTP that serves both nbextensions."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    served = {
        "/api/status",
        "/nbextensions/anywidget/extension.js",
        "/nbextensions/jupyter-js-widgets/extension.js",
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path in served else 404)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def test_doctor_in_chinese_words_every_server_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chinese: str
) -> None:
    from modelarts_widgets import frontend

    for name in ("data", "config", "runtime"):
        (tmp_path / name).mkdir()
        monkeypatch.setenv(f"JUPYTER_{name.upper()}_DIR", str(tmp_path / name))
    server, url = _classic_server()
    try:
        runtime = tmp_path / "runtime"
        (runtime / "jpserver-1.json").write_text(json.dumps({"url": "http://127.0.0.1:9/", "pid": 1}))
        (runtime / "jpserver-2.json").write_text(json.dumps({"url": url, "pid": 2}))
        text = str(frontend.diagnose(install=False))
    finally:
        server.shutdown()
    assert "服务器 http://127.0.0.1:9/：内核无法访问" in text
    assert f"服务器 {url}（经典 Notebook）：anywidget nbextension 已安装，控件 nbextension 已安装" in text
    assert "Server " not in text
    assert "present" not in text


def test_widget_language_empty_follows_the_page_as_the_trait_does(session: Session) -> None:
    """language="" is the trait's own "follow the page"; the constructor takes it as the setter does."""
    table = JobConfigTable(session=session, language="", autoload=False)
    assert table.language == ""
    table.language = "zh-CN"
    table.language = ""
    assert table.language == ""


def test_trash_view_failures_follow_the_widget_language(emulator: Emulator, session: Session) -> None:
    """A backup file that turns out unreadable when the Trash view opens it is reported in the
    banner in the widget's language."""
    table = JobConfigTable(session=session, language="zh-CN")
    table.wait_loaded(10)
    name = sorted(n for n in emulator.store.names() if not n.startswith("prod-"))[0]
    table.selected = [name]
    table.delete_selected()
    table.list_trash()
    listed = table.trash_files[0]["file"]
    path = table._trash_headers[listed].path
    path.write_bytes(path.read_bytes().split(b"\n")[0][:-5] + b"\n")  # its header cut off
    table._on_front_msg(None, {"type": "trash_open", "file": listed}, [])
    deadline = time.monotonic() + 10
    while not table.error and time.monotonic() < deadline:
        time.sleep(0.02)
    assert table.error["code"] == "Client.BadBackupFile", table.error
    assert str(path) in table.error["message"], table.error
    assert CJK.search(table.error["message"]), table.error


def test_an_unknown_modelarts_language_is_warned_about_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Every text looks the language up: a bad $MODELARTS_LANGUAGE is said once, not per line."""
    from modelarts_widgets.report import DeletionReport

    monkeypatch.setenv("MODELARTS_LANGUAGE", "klingon-once")
    with caplog.at_level("WARNING", logger="modelarts_widgets"):
        text = repr(DeletionReport(dry_run=True, planned=[{"config_name": f"c{i}"} for i in range(20)]))
        i18n.t("magic.deleting", count=2)
    assert text.startswith("Dry run: would delete 20 configs.")
    warned = [r for r in caplog.records if "klingon-once" in r.getMessage()]
    assert len(warned) == 1


def test_widget_without_credentials_says_so_in_its_language(emulator: Emulator) -> None:
    """No credentials at all (the kernel's $LANG English): the banner of a Chinese widget says
    what was tried in Chinese, beside its Chinese hint."""
    table = JobConfigTable(language="zh-CN")
    table.wait_loaded(30)
    assert table.error["code"] == "Client.NoCredentials"
    assert table.error["message"].startswith("未找到 ModelArts 凭证。已按顺序尝试：")
    assert table.error["hint"].startswith("请配置凭证")
