"""Issue 16: the environment variables are read through one table (sdk/settings.py), and the
README's Configuration section lists exactly those."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from modelarts_widgets import choose, i18n
from modelarts_widgets.sdk import settings, trash
from modelarts_widgets.sdk.configs import not_found_codes

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "modelarts_widgets"


def _configuration_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("\n## Configuration")
    return readme[start : readme.index("\n## ", start + 1)]


def test_the_readme_configuration_lists_every_setting_and_no_other() -> None:
    section = _configuration_section()
    for name in settings.NAMES:
        assert re.search(rf"\b{name}\b", section), f"README's Configuration does not name {name}"
    named = set(re.findall(r"\b(?:MODELARTS|HUAWEICLOUD)_[A-Z_]+[A-Z]\b", section))
    assert named <= settings.NAMES


def test_no_module_reads_the_environment_around_the_table() -> None:
    # transport.py and session.py read the session's own environ (the table names its variables);
    # i18n.py is imported by the SDK, so it cannot import the table and reads its locale itself.
    allowed = {"sdk/settings.py", "sdk/transport.py", "i18n.py", "sdk/session.py"}
    readers = [
        path.relative_to(PACKAGE).as_posix()
        for path in sorted(PACKAGE.rglob("*.py"))
        if "emulator" not in path.parts and "os.environ" in path.read_text(encoding="utf-8")
    ]
    assert set(readers) <= allowed, readers
    literal = re.compile(r"""["'](?:MODELARTS|HUAWEICLOUD)_[A-Z_]+["']""")
    spelled = [
        f"{path.relative_to(PACKAGE)}: {match.group(0)}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if "emulator" not in path.parts and path.name != "settings.py"
        for match in literal.finditer(path.read_text(encoding="utf-8"))
    ]
    assert spelled == [f"i18n.py: {settings.LANGUAGE!r}".replace("'", '"')]
    assert i18n.LANGUAGE_ENV == settings.LANGUAGE


def test_an_unknown_name_is_refused() -> None:
    with pytest.raises(KeyError):
        settings.get("MODELARTS_PROTEC")


def test_the_readers_see_the_environment_through_the_table(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(settings.PROTECT, "prod-*, baseline")
    monkeypatch.setenv(settings.NOT_FOUND_CODES, "X.1,Y.2")
    monkeypatch.setenv(settings.TRASH_DIR, str(tmp_path / "bin"))
    monkeypatch.setenv(settings.TRASH_KEEP_FILES, "3")
    assert choose.protect_patterns() == ["prod-*", "baseline"]
    assert not_found_codes() == {"X.1", "Y.2"}
    bin_ = trash.Trash()
    assert bin_.folder == tmp_path / "bin"
    assert bin_.keep_files == 3
    monkeypatch.setenv(settings.NOT_FOUND_CODES, "")
    assert not_found_codes() == frozenset()  # set but empty: nothing but a 404 counts
    monkeypatch.delenv(settings.NOT_FOUND_CODES)
    assert not_found_codes() == {"ModelArts.0015"}
