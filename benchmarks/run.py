"""Run the benchmark suite and write a Markdown report.

    python benchmarks/run.py            # full sizes, writes benchmarks/RESULTS.md (about 30 minutes)
    python benchmarks/run.py --quick    # small sizes, writes test-artifacts/benchmarks-quick.md

Every figure is the median of several runs after a warm-up, with its baseline measured in the
same run. The suite reports; it never fails on a timing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # the suite's modules, and tests/ for its helpers

from bench_frontend import harness, in_jupyterlab  # noqa: E402
from bench_kernel import memory, startup, traffic  # noqa: E402
from bench_sdk import bulk_delete, listing, rate_limited, restore, under_faults, unreachable  # noqa: E402
from common import Figure, machine, remote_emulator  # noqa: E402

FULL = {
    "runs": 5,
    "baseline_runs": 3,  # the sequential loops take a minute each
    "latency": 0.05,
    "delete_sizes": [100, 1000],
    "delete_baseline": 1000,
    "restore": 1000,
    "faults": 1000,
    "rate_limit": (1000, 40.0),
    "rate_limit_runs": 3,
    "list_size": 10_000,
    "ui_sizes": [1000, 10_000],
    "lab_rows": [200, 500, 1000],
    "traffic": 1000,
    "memory": 10_000,
}
QUICK = {
    "runs": 2,
    "baseline_runs": 2,
    "latency": 0.005,
    "delete_sizes": [50],
    "delete_baseline": 50,
    "restore": 50,
    "faults": 50,
    "rate_limit": (60, 40.0),
    "rate_limit_runs": 1,
    "list_size": 1500,
    "ui_sizes": [500],
    "lab_rows": [50],
    "traffic": 60,
    "memory": 500,
}


# Causes found by measuring, and what fixing them changed (figures from earlier runs of this suite).
CHANGES = [
    "The emulator wrote headers and body in two writes; with Nagle's algorithm and the client's "
    "delayed ACK every keep-alive request waited about 40 ms more. Quick mode, 5 ms latency: 50 "
    "sequential deletes 2.40 s → 0.35 s; page-size-10 listing of 1,500 configs 7.80 s → 1.28 s. "
    "Fixed with TCP_NODELAY in the emulator (`disable_nagle_algorithm`); real gateways add no such delay.",
    "Toggling one row redrew the visible table twice: once in the click handler and once when the "
    "model echoed the page's own selection change back. The echo is now recognised and skipped: "
    "10,000 rows, toggle one row 20 ms → 10 ms median.",
    "Backups before deleting add one details GET per config. All read before the first DELETE, "
    "1,000 deletes at 50 ms took 10.3 s (5.2× the loop). Pipelined (each config read, its line "
    "fsynced, then its DELETE; the reads in their own pool ahead of the DELETEs), backups on costs "
    "what backups off does: 5.47 s against 5.44 s in a side-by-side run.",
    "With 8 DELETEs in flight, 8× the sequential loop needs each request to cost no more in "
    "parallel than alone (the loop's 53.7 ms each; measured 54.0 ms: 7.9×). Now that the client "
    "paces itself to a gateway's limit (below), 10 are in flight by default: 5.44 s, 9.8×. A restore "
    "of 8 configs at once, two requests each, had a bound of 12.5 s, 4.3× the create loop at best; "
    "16 at once: 6.8 s, 7.9×.",
    "Under the soak's 10% faults, 1,000 deletes took 10.5 s, 1.96× the fault-free 5.35 s. A DELETE "
    "refused with Retry-After 1 s held one of the 10 slots through that second (about 22 per run: "
    "2.2 s of the 10 slots), and the first random 429, its answer the first of the run, set the "
    "throttle pacing at 93 requests/s for seconds. Now a worker gives its slot back while it waits "
    "(`InFlightGate`, with spare workers), and the throttle cuts only on evidence (20 answers and 5% "
    "refused, or 4 and 25%): 7.8–8.3 s, 1.48×.",
    "Against the 40 requests/s limit, the throttle's first cut fell to 0.5 requests/s: four 429s "
    "came back before any accepted answer (those take the latency, a refusal none), so it measured "
    "no accepted rate; 1,000 deletes ran at 29 accepted requests/s. Now attempts still in flight "
    "count as accepted, rates are measured over the time the data covers, and a mostly refused "
    "window halves the rate: 40.0 accepted requests/s, 2.6% answered 429.",
    "Listing 10,000 configs at 50 ms was 0.231 s, 1.73× its bound. `py-spy record --gil` on both "
    "processes during repeated listings: the emulator spent 60% of its samples encoding JSON, one "
    "page at a time under its GIL, and 10% picking list fields; the client 13% copying list fields "
    "out of items that had no others, and it read each ~270 KB body in requests' 10 KB pieces, each "
    "a Python call contending for the GIL with the other pages' threads. The emulator now keeps each "
    "config's list entry encoded (dropped when the config changes) and joins a page from them; the "
    "client keeps items that carry only list fields as they are and reads a body in one read capped "
    "at its size limit. Measured side by side, 10,000 configs at 50 ms, median: 0.223 s → 0.162 s "
    "(emulator entries, client items; the emulator's profile samples per listing 145 → 27), then "
    "0.180 s → 0.170 s (one read instead of 10 KB pieces, 10 runs each, alternating).",
]


# Each bound from first principles: what no client could beat against this emulator, given its
# latency (every request takes at least that long) and the concurrency chosen.
BOUNDS = [
    "**Bulk delete, backups off**: N DELETEs, each at least one latency long, at most c "
    "(`DEFAULT_DELETE_CONCURRENCY`) in flight: N × latency / c.",
    "**Bulk delete, backups on**: each config needs its details GET, then its DELETE. The GETs run "
    "in their own pool ahead of the DELETEs, so only the first DELETE waits for a GET: "
    "latency + N × latency / c. The official loop keeps no backup, so the speed-up against it "
    "includes the backups' cost.",
    "**Under faults**: the bound is the fault-free run of the same size in the same suite; a "
    "refused request (429/503, about 2.2% of requests in the soak's mix) waits its Retry-After "
    "of 1 s on its own worker, and a DELETE whose answer is lost or garbled costs a GET check.",
    "**Against a gateway limit of L requests/s**: with backups on, each config costs two "
    "requests the gateway counts, so no client can finish sooner than 2N / L; the figure is the "
    "accepted requests per second over the whole run (start and tail included), against L.",
    "**Restore**: each config costs two requests one after the other (the GET that finds it "
    "absent, then its create), c (`DEFAULT_RESTORE_CONCURRENCY`) configs at once: "
    "N × 2 × latency / c. The baseline loop sends only the creates, one at a time.",
    "**Listing**: the first page tells the total, then all other pages go at once: two round "
    "trips, plus the JSON parsing of every page (measured in the same run, on the same bodies).",
    "**First status on screen**: no network round trip to ModelArts is needed (every name is "
    "queued at once), so it is the page's click handling, the kernel starting the job, and one "
    "repaint of the table: a few frames. The target is 200 ms.",
    "**Unreachable endpoint**: a refused connection on the same host is answered within a "
    "millisecond; the target is 2 s (it was 15 s: five resends with doubling back-off).",
]


# What a reviewer measured outside the targets' conditions (small scripts, 50 ms latency), and why
# it is left as it is.
LIMITS = [
    "Random 429s that do not depend on the rate (not a gateway limit) still make the throttle cut: "
    "with 30% of the backup reads refused at random, 300 deletes took 204 s (3.6 requests/s); at "
    "10%, 2.9 s. A real limit's 429s grow with the sending rate, which is what the throttle reads "
    "them as; telling the two apart is left for when a live gateway shows such answers.",
    "Under the soak's 10% faults the 1.5× target holds at 1,000 configs (1.3–1.5×), not at 300 "
    "(2.7–3.4×): the slowest name's resends, each after a 1 s Retry-After or a back-off, are a "
    "fixed cost that a short run cannot spread.",
    "Against lower limits the first seconds dominate: at 5 requests/s, 13% of requests were "
    "answered 429 and 3.8 were accepted per second (76% of the limit); no name failed.",
    "A server that accepts the connection and never answers is a hung server, not an unreachable "
    "one: its first error comes after the read timeout (30 s by default).",
]


def against_targets(figures: list[Figure], quick: bool) -> list[str]:
    """The report's summary: each figure with a numeric target, and whether it was met."""
    lines = ["", "## Against the targets", ""]
    if quick:
        lines += ["Quick mode: the sizes are far below those the targets are set for.", ""]
    lines += ["| Figure | Target | Result |", "|---|---|---|"]
    for figure in figures:
        verdicts = figure.verdicts()
        if not verdicts:
            continue
        if any(met is False for met, _ in verdicts):
            outcome = "**missed**"
        elif any(met is None for met, _ in verdicts):
            outcome = "not measurable"
        else:
            outcome = "met"
        lines.append(f"| {figure.name} | {figure.target} | {outcome}: {'; '.join(t for _, t in verdicts)} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for the test suite")
    parser.add_argument("--out", type=Path, help="where to write the report")
    parser.add_argument("--skip-lab", action="store_true", help="leave out the JupyterLab comparison")
    parser.add_argument("--baseline-runs", type=int, help="runs of each sequential baseline loop")
    parser.add_argument("--rate-limit-runs", type=int, help="runs against the gateway rate limit")
    args = parser.parse_args(argv)
    size = dict(QUICK if args.quick else FULL)
    if args.baseline_runs:
        size["baseline_runs"] = args.baseline_runs
    if args.rate_limit_runs:
        size["rate_limit_runs"] = args.rate_limit_runs
    out = args.out or (
        HERE.parent / "test-artifacts" / "benchmarks-quick.md" if args.quick else HERE / "RESULTS.md"
    )
    runs = int(size["runs"])
    sections: list[tuple[str, list[Figure]]] = []
    started = time.perf_counter()

    def step(title: str, figures: list[Figure]) -> None:
        sections.append((title, figures))
        for figure in figures:
            print(f"{figure.name}: median {figure.median:.4g} {figure.unit}", flush=True)

    # Backups written by the benchmark go to a scratch trash, not the user's.
    os.environ["MODELARTS_TRASH_DIR"] = tempfile.mkdtemp(prefix="bench-trash-")
    baseline_runs = int(size["baseline_runs"])
    with remote_emulator() as emu:
        latency = float(size["latency"])
        deletes = bulk_delete(
            emu, list(size["delete_sizes"]), latency, runs, int(size["delete_baseline"]), baseline_runs
        )
        step(f"Bulk delete ({latency * 1000:g} ms emulator latency per request)", deletes)
        on = f"bulk delete, {int(size['faults']):,} configs, backups on"
        fault_free = next(f.median for f in deletes if f.name.startswith(on))
        step(
            f"Bulk delete under faults ({latency * 1000:g} ms latency)",
            under_faults(emu, int(size["faults"]), latency, runs, fault_free),
        )
        limited, limit = size["rate_limit"]
        step(
            f"Bulk delete against a gateway rate limit ({latency * 1000:g} ms latency)",
            rate_limited(emu, int(limited), latency, float(limit), int(size["rate_limit_runs"])),
        )
        step(
            f"Restore ({latency * 1000:g} ms latency per request)",
            restore(emu, int(size["restore"]), latency, runs, baseline_runs),
        )
        step(
            f"Listing ({latency * 1000:g} ms latency per request)",
            listing(emu, int(size["list_size"]), latency, runs, baseline_runs),
        )
        kernel = traffic(emu, int(size["traffic"]), latency, runs)
        step("Traffic between kernel and page", kernel)
        step("Kernel memory", memory(emu, int(size["memory"]), runs))
    step("Unreachable endpoint", unreachable(runs))
    first_status = (int(size["traffic"]), kernel[-1].samples)
    step(
        "Front end in Chromium (the real widget.js, no kernel)",
        harness(list(size["ui_sizes"]), runs, first_status),
    )
    if not args.skip_lab:
        with tempfile.TemporaryDirectory() as tmp:
            step(
                "JupyterLab, against an ipywidgets table",
                in_jupyterlab(list(size["lab_rows"]), runs, Path(tmp)),
            )
    step("Start-up", startup(max(runs, 5)))

    info = machine()
    lines = [
        "# Benchmark results" + (" (quick mode)" if args.quick else ""),
        "",
        f"Run on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC with `python benchmarks/run.py"
        + "".join(f" {a}" for a in (sys.argv[1:] if argv is None else argv))
        + f"` in {time.perf_counter() - started:.0f} s.",
        f"Machine: {info['cores']} cores, {info['memory']}, Python {info['python']}, {info['chromium']}, "
        f"{info['platform']}.",
        "",
        "Each figure: min / **median** / max of the runs after a warm-up. Baselines and bounds were "
        "measured in the same run. The emulator runs in its own process on loopback.",
        *against_targets([figure for _, figures in sections for figure in figures], args.quick),
        "",
        "## Bounds, from first principles",
        "",
        *[f"- {bound}" for bound in BOUNDS],
    ]
    for title, figures in sections:
        lines += [
            "",
            f"## {title}",
            "",
            "| Figure | min / **median** / max | runs | vs baseline | vs bound | target |",
            "|---|---|---|---|---|---|",
        ]
        lines += [figure.row() for figure in figures]
        notes = [f"- {figure.name}: {note}" for figure in figures for note in figure.notes]
        if notes:
            lines += ["", *notes]
    lines += ["", "## Changes made after measuring", "", *[f"- {change}" for change in CHANGES]]
    lines += ["", "## Known limits (measured by review, outside the targets)", ""]
    lines += [f"- {limit}" for limit in LIMITS]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
