"""The emulator as an independent counterpart: it runs without the SDK, and none of its modules imports it."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.helpers_emulator import EMULATOR_DIR

# -- independence --------------------------------------------------------------------------------


def test_the_emulator_runs_without_importing_the_sdk() -> None:
    # Every route is exercised, authenticated by an IAM token (the SDK's signer must not be
    # loaded here), so that an import made lazily inside a handler is caught too.
    script = """
import json, sys, urllib.request
from modelarts_widgets.emulator import Emulator

def call(em, method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(em.endpoint + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("X-Auth-Token", token)
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.headers, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.headers, {"status": exc.code}

with Emulator(configs=3) as em:
    em.identities.users[("d", "u")] = "p"
    auth = {"identity": {"methods": ["password"], "password": {"user": {
        "name": "u", "password": "p", "domain": {"name": "d"}}}},
        "scope": {"project": {"id": em.project_id}}}
    headers, _ = call(em, "POST", "/v3/auth/tokens", {"auth": auth})
    token = headers["X-Subject-Token"]
    base = "/v1/" + em.project_id
    body = {"config_name": "indep", "worker_server_num": 1, "app_url": "/a/", "model_id": 0,
            "boot_file_url": "/a/b.py", "spec_id": 1, "engine_id": 2, "data_url": "/d/"}
    steps = [
        ("GET", "/v3", None), ("GET", base + "/job/ai-engines?job_type=train", None),
        ("GET", base + "/job/resource-specs?job_type=train", None),
        ("GET", base + "/training-job-configs?per_page=2", None),
        ("POST", base + "/training-job-configs", body),
        ("GET", base + "/training-job-configs/indep", None),
        ("PUT", base + "/training-job-configs/indep", {**body, "config_name": None}),
        ("PUT", base + "/training-job-configs/indep", {"config_desc": "partial"}),
        ("DELETE", base + "/training-job-configs/indep", None),
        ("DELETE", base + "/training-job-configs/indep", None),
    ]
    for method, path, payload in steps:
        print(method, path, call(em, method, path, payload, token)[1].get("status", "ok"))
loaded = sorted(m for m in sys.modules if m.startswith("modelarts_widgets.sdk"))
print(loaded)
sys.exit(1 if loaded else 0)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "POST /v1/" in done.stdout, done.stdout
    assert "Traceback" not in done.stderr, done.stderr


def _imported_names(tree: ast.AST) -> list[str]:
    """Every module an emulator source imports, as dotted names (relative ones with their dots),
    including ``from .. import sdk`` and ``importlib.import_module("...")`` / ``__import__``."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = ("." * node.level) + (node.module or "")
            names.append(target)
            names.extend(f"{target}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__"):
                names.extend(
                    a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
                )
    return names


def test_no_emulator_module_names_the_sdk() -> None:
    for source in sorted(EMULATOR_DIR.glob("*.py")):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for target in _imported_names(tree):
            assert "sdk" not in target.split("."), (source.name, target)


@pytest.mark.parametrize(
    "line",
    [
        "from .. import sdk",
        "from modelarts_widgets import sdk",
        "from ..sdk import signer",
        "import modelarts_widgets.sdk.signer",
        "importlib.import_module('modelarts_widgets.sdk')",
        "__import__('modelarts_widgets.sdk.signer')",
    ],
)
def test_the_import_check_sees_every_way_of_importing_the_sdk(line: str) -> None:
    names = _imported_names(ast.parse(f"def lazy():\n    {line}\n"))
    assert any("sdk" in name.split(".") for name in names), names
