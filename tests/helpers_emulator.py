"""Plain values shared by the emulator test files."""

from __future__ import annotations

from pathlib import Path

EMULATOR_DIR = Path(__file__).resolve().parent.parent / "modelarts_widgets" / "emulator"
