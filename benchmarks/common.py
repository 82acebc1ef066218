"""Shared pieces of the benchmark suite: an emulator in its own process, timing, machine facts."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Figure:
    """One measured quantity: its samples, and how it compares with its baseline and bound."""

    name: str
    unit: str
    samples: list[float]
    baseline: float | None = None
    baseline_name: str = ""
    bound: float | None = None
    bound_name: str = ""
    target: str = ""
    notes: list[str] = field(default_factory=list)
    # The target as numbers, in the figure's own unit; the report checks every one that is set.
    at_most: float | None = None
    at_least: float | None = None
    speedup_at_least: float | None = None
    bound_at_most: float | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def verdicts(self) -> list[tuple[bool | None, str]]:
        """(met, what was measured) for each numeric target; met is None when it cannot be told."""
        out: list[tuple[bool | None, str]] = []
        if self.at_most is not None:
            out.append((self.median <= self.at_most, f"{fmt(self.median)} {self.unit}"))
        if self.at_least is not None:
            out.append((self.median >= self.at_least, f"{fmt(self.median)} {self.unit}"))
        if self.speedup_at_least is not None:
            if self.baseline:
                speedup = self.baseline / self.median
                out.append((speedup >= self.speedup_at_least, f"{speedup:,.1f}× the {self.baseline_name}"))
            else:
                out.append((None, "no baseline figure to compare with (see the notes)"))
        if self.bound_at_most is not None and self.bound:
            ratio = self.median / self.bound
            out.append((ratio <= self.bound_at_most, f"{ratio:.2f}× the bound"))
        return out

    def row(self) -> str:
        vs_base = vs_bound = ""
        if self.baseline:
            vs_base = (
                f"{self.baseline / self.median:,.1f}× faster ({self.baseline_name} {fmt(self.baseline)})"
            )
        if self.bound:
            vs_bound = f"{self.median / self.bound:,.2f}× the bound ({self.bound_name} {fmt(self.bound)})"
        spread = f"{fmt(min(self.samples))} / **{fmt(self.median)}** / {fmt(max(self.samples))} {self.unit}"
        return f"| {self.name} | {spread} | {len(self.samples)} | {vs_base} | {vs_bound} | {self.target} |"


def fmt(value: float) -> str:
    return f"{value:,.3f}" if value < 10 else f"{value:,.1f}"


def measure(
    fn: Callable[[], float | None], runs: int, warmup: Callable[[], Any] | None = None
) -> list[float]:
    """Run ``fn`` ``runs`` times after one warm-up; ``fn`` returns its own time or None to be timed."""
    (warmup or fn)()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        own = fn()
        samples.append(own if own is not None else time.perf_counter() - started)
    return samples


class RemoteEmulator:
    """The emulator in a separate process, so that client and server do not share a GIL."""

    def __init__(self, process: subprocess.Popen[str], env: dict[str, str]) -> None:
        self.process = process
        self.env = env
        self.endpoint = env["MODELARTS_ENDPOINT"]

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            self.endpoint + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as answer:
            result: dict[str, Any] = json.loads(answer.read())
            return result

    def reset(self, configs: int, latency: float = 0.0) -> None:
        self._post("/_emulator/reset", {"configs": configs, "seed": 1})
        self._post("/_emulator/faults", {"latency": latency})

    def faults(self, **changes: Any) -> dict[str, Any]:
        """Change the emulator's fault settings (see modelarts_widgets/emulator/faults.py)."""
        return self._post("/_emulator/faults", changes)

    def names(self) -> set[str]:
        with urllib.request.urlopen(self.endpoint + "/_emulator/state", timeout=60) as answer:
            return set(json.loads(answer.read())["configs"])


@contextmanager
def remote_emulator() -> Iterator[RemoteEmulator]:
    process = subprocess.Popen(
        [sys.executable, "-m", "modelarts_widgets.emulator", "--configs", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    env: dict[str, str] = {}
    assert process.stdout is not None
    for line in process.stdout:
        match = re.match(r"export (\w+)=(.*)", line.strip())
        if match:
            env[match.group(1)] = match.group(2).strip("'")
        if "HUAWEICLOUD_SDK_PROJECT_ID" in env:
            break
    try:
        yield RemoteEmulator(process, env)
    finally:
        process.terminate()
        process.wait(10)


def machine() -> dict[str, str]:
    memory = ""
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            kib = int(handle.readline().split()[1])
            memory = f"{kib / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    chromium = shutil.which("chromium")
    chromium_version = ""
    if chromium:
        out = subprocess.run([chromium, "--version"], capture_output=True, text=True, check=False).stdout
        chromium_version = out.strip().splitlines()[-1] if out.strip() else ""
    return {
        "cores": str(os.cpu_count()),
        "memory": memory,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "chromium": chromium_version,
    }
