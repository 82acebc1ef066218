"""The benchmark suite in quick mode, so it never rots. It reports timings; it does not judge them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_benchmark_suite_runs_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "quick.md"
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--out", str(out)],
        check=True,
        timeout=600,
        cwd=ROOT,
    )
    report = out.read_text()
    for section in (
        "Bulk delete",
        "Listing",
        "Traffic",
        "Kernel memory",
        "Front end",
        "JupyterLab",
        "Start-up",
    ):
        assert f"## {section}" in report
    assert "## Against the targets" in report
    assert "Machine:" in report
    assert "official-SDK loop (baseline)" in report


def test_late_reader_counts_every_widget_model_it_receives() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from bench_frontend import late_reader, widget_models
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    assert widget_models(3) == 3 * 14 + 2  # per row: Checkbox, 3 Labels, HBox, with layouts and styles
    assert late_reader(3, delay=0.2) == (44, 44)
