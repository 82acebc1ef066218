"""Bulk delete and listing through the SDK core, against the official-SDK way and the bound."""

from __future__ import annotations

import json
import math
import socket
import statistics
import threading
import time
from pathlib import Path
from typing import Any

from common import Figure, RemoteEmulator, measure

from modelarts_widgets.emulator.faults import FAULT_KINDS, MALFORMED_KINDS
from modelarts_widgets.sdk import BulkDelete, Estimator, Session, delete_job_configs, list_all_configs
from modelarts_widgets.sdk.bulk import BACKUP_READS_PER_DELETE, DEFAULT_DELETE_CONCURRENCY, FINAL_STATES
from modelarts_widgets.sdk.configs import create_body
from modelarts_widgets.sdk.estimator import CONFIGS, list_query
from modelarts_widgets.sdk.restore import BulkRestore, load_backup
from modelarts_widgets.sdk.throttle import AdaptiveThrottle
from modelarts_widgets.sdk.trash import DEFAULT_RESTORE_CONCURRENCY


def _session(emu: RemoteEmulator) -> Session:
    return Session(environ=emu.env)


def bulk_delete(
    emu: RemoteEmulator,
    sizes: list[int],
    latency: float,
    runs: int,
    baseline_size: int,
    baseline_runs: int | None = None,
) -> list[Figure]:
    session = _session(emu)

    def ours(n: int, backup: bool = True) -> float:
        emu.reset(n, latency)
        names = sorted(emu.names())
        started = time.perf_counter()
        results = delete_job_configs(session, names, backup=backup)
        elapsed = time.perf_counter() - started
        assert all(r["is_success"] for r in results.values())
        assert not emu.names()
        return elapsed

    def official_loop(n: int) -> float:
        emu.reset(n, latency)
        names = sorted(emu.names())
        started = time.perf_counter()
        for name in names:
            Estimator(modelarts_session=session, config_name=name).delete_job_configs()
        elapsed = time.perf_counter() - started
        assert not emu.names()
        return elapsed

    baseline = measure(
        lambda: official_loop(baseline_size), baseline_runs or runs, warmup=lambda: official_loop(20)
    )
    figures = [
        Figure(
            f"bulk delete, {baseline_size:,} configs, official-SDK loop (baseline)",
            "s",
            baseline,
            target="—",
        )
    ]
    base_median = statistics.median(baseline)
    off = measure(lambda: ours(baseline_size, backup=False), runs, warmup=lambda: ours(20, backup=False))
    off_median = statistics.median(off)
    figures.append(
        Figure(
            f"bulk delete, {baseline_size:,} configs, backups off",
            "s",
            off,
            baseline=base_median,
            baseline_name="official loop",
            bound=baseline_size * latency / DEFAULT_DELETE_CONCURRENCY,
            bound_name="N × latency / concurrency",
            target="≥ 8× the baseline; ≤ 1.15× the bound",
            speedup_at_least=8,
            bound_at_most=1.15,
            notes=[_overhead_note(base_median, baseline_size, latency, off_median, 1)],
        )
    )
    reads = BACKUP_READS_PER_DELETE * DEFAULT_DELETE_CONCURRENCY
    for n in sizes:
        samples = measure(lambda n=n: ours(n), runs, warmup=lambda: ours(20))
        figure = Figure(
            f"bulk delete, {n:,} configs, backups on (the default)",
            "s",
            samples,
            # Pipelined: the reads run ahead in their own pool, so the deletes set the pace.
            bound=latency + n * latency / DEFAULT_DELETE_CONCURRENCY,
            bound_name=f"latency + N × latency / {DEFAULT_DELETE_CONCURRENCY}",
            target="≤ 1.2× the bound",
            bound_at_most=1.2,
        )
        if n == baseline_size:
            figure.notes.append(_overhead_note(base_median, n, latency, figure.median, 1, extra=latency))
            figure.baseline, figure.baseline_name = base_median, "official loop"
            figure.target, figure.speedup_at_least = "≥ 8× the baseline; ≤ 1.2× the bound", 8
            figure.notes.append(
                f"backups add {figure.median - off_median:.2f} s to backups off "
                f"({figure.median / off_median:.2f}×): one details GET per config, up to {reads} in flight, "
                "each appended and fsynced before its DELETE; the official loop keeps no backup"
            )
        figures.append(figure)
    return figures


def _overhead_note(
    loop: float,
    n: int,
    latency: float,
    measured: float,
    per_config: int,
    *,
    extra: float = 0.0,
    concurrency: int = DEFAULT_DELETE_CONCURRENCY,
) -> str:
    """Where the time beyond the bound goes: each request's own cost, measured by the sequential loop."""
    each = loop / n - latency  # signing, HTTP and the emulator's work, per request, one at a time
    rounds = n * per_config / concurrency
    expected = extra + rounds * (latency + each)
    return (
        f"beyond the latency, each request costs {each * 1000:.1f} ms of signing, HTTP and the emulator's "
        f"work (the sequential loop's time per request, less the latency); with it the bound becomes "
        f"{expected:.2f} s, and the figure is {measured / expected:.2f}× that"
    )


def listing(
    emu: RemoteEmulator, n: int, latency: float, runs: int, baseline_runs: int | None = None
) -> list[Figure]:
    session = _session(emu)
    emu.reset(n, latency)

    def ours() -> float:
        started = time.perf_counter()
        configs = list_all_configs(session)
        elapsed = time.perf_counter() - started
        assert len(configs) == n
        return elapsed

    def paged(per_page: int) -> float:
        started = time.perf_counter()
        got, page = 0, 1
        while True:
            answer = Estimator.get_job_configs_list(session, per_page=per_page, page=page)
            got += len(answer["configs"])
            if got >= answer["config_total_count"] or not answer["configs"]:
                break
            page += 1
        elapsed = time.perf_counter() - started
        assert got == n
        return elapsed

    def parse_time() -> float:
        bodies = [
            session._api.request("GET", session._path(CONFIGS), query=list_query(1000, p)).content
            for p in range(1, math.ceil(n / 1000) + 1)
        ]
        started = time.perf_counter()
        for body in bodies:
            json.loads(body)
        return time.perf_counter() - started

    samples = measure(ours, runs)
    page10 = measure(lambda: paged(10), baseline_runs or runs, warmup=lambda: None)
    page1000 = measure(lambda: paged(1000), runs)
    parsing = statistics.median(measure(parse_time, runs))
    bound = 2 * latency + parsing
    vs_page1000 = statistics.median(page1000) / statistics.median(samples)
    return [
        Figure(f"list {n:,} configs, page size 10 sequentially (baseline)", "s", page10, target="—"),
        Figure(f"list {n:,} configs, page size 1000 sequentially (baseline)", "s", page1000, target="—"),
        Figure(
            f"list {n:,} configs, first page then the rest concurrently",
            "s",
            samples,
            baseline=statistics.median(page10),
            baseline_name="page size 10",
            bound=bound,
            bound_name="2 round trips + JSON parsing",
            target="≥ 50× the page-10 loop; ≤ 1.25× the bound",
            speedup_at_least=50,
            bound_at_most=1.25,
            notes=[f"vs page size 1000 sequentially: {vs_page1000:.1f}× faster"],
        ),
    ]


def under_faults(emu: RemoteEmulator, n: int, latency: float, runs: int, fault_free: float) -> list[Figure]:
    """Bulk delete (backups on) under the reliability soak's mix: 10% of requests get a random fault."""
    session = _session(emu)
    failed: list[int] = []
    most_done: list[float] = []  # seconds until 99% of the names had their final status

    def once(seed: int) -> float:
        emu.reset(n, latency)
        names = sorted(emu.names())
        emu.faults(error_rate=0.10, kinds=[*FAULT_KINDS, *MALFORMED_KINDS], retry_after=1, seed=seed)
        finals: list[float] = []

        def on_status(name: str, state: str, result: Any) -> None:
            if state in FINAL_STATES:
                finals.append(time.perf_counter())

        started = time.perf_counter()
        results = delete_job_configs(session, names, on_status=on_status)
        elapsed = time.perf_counter() - started
        most_done.append(sorted(finals)[int(0.99 * len(finals)) - 1] - started)
        emu.faults(error_rate=0.0)
        failed.append(sum(1 for r in results.values() if not r["is_success"]))
        left = emu.names()
        # Every name ends true: deleted and gone, or failed (still there, or its fate unknown).
        assert all(not r["is_success"] or name not in left for name, r in results.items())
        return elapsed

    seeds = iter(range(1000))
    samples = measure(lambda: once(next(seeds)), runs, warmup=lambda: None)
    return [
        Figure(
            f"bulk delete, {n:,} configs, backups on, under 10% faults (the soak's mix)",
            "s",
            samples,
            baseline=fault_free,
            baseline_name="fault-free",
            target="≤ 1.5× the fault-free time",
            at_most=1.5 * fault_free,
            notes=[
                f"{fault_free / statistics.median(samples):.2f}× the fault-free speed "
                f"({statistics.median(samples) / fault_free:.2f}× its time, fault-free {fault_free:.3f} s); "
                f"names that ended failed per run (a DELETE whose answer was lost or garbled is not "
                f"resent blindly): {', '.join(map(str, failed[-runs:]))}; refused requests (429/503) "
                "wait the Retry-After of 1 s, on their own worker",
                f"99% of the names were final after {statistics.median(most_done):.2f} s (median; "
                f"{statistics.median(most_done) / fault_free:.2f}× the fault-free time): the rest is the "
                "tail of the unluckiest names, whose faults came one after another (e.g. 429, 503, then a "
                "500 on the DELETE and a 429 on its check: over 4 s of waits the server asked for)",
            ],
        )
    ]


def restore(
    emu: RemoteEmulator, n: int, latency: float, runs: int, baseline_runs: int | None = None
) -> list[Figure]:
    """Restore ``n`` configs from one backup file, against a loop of create calls."""
    session = _session(emu)

    def deleted_with_backup() -> tuple[Path, list[str]]:
        emu.reset(n, 0.0)
        names = sorted(emu.names())
        run = BulkDelete(session, names)
        run.run()
        assert run.backup_path is not None
        assert not emu.names()
        emu.faults(latency=latency)
        return run.backup_path, names

    def ours() -> float:
        path, names = deleted_with_backup()
        started = time.perf_counter()
        results = BulkRestore(session, path).run()
        elapsed = time.perf_counter() - started
        assert all(r["is_success"] for r in results.values())
        assert emu.names() == set(names)
        return elapsed

    def create_loop() -> float:
        path, names = deleted_with_backup()
        saved = load_backup(session, path).configs
        started = time.perf_counter()
        for name in names:
            session.call("POST", CONFIGS, json_body=create_body(saved[name]))
        elapsed = time.perf_counter() - started
        assert emu.names() == set(names)
        return elapsed

    loop = measure(create_loop, baseline_runs or runs, warmup=lambda: None)
    samples = measure(ours, runs)
    requests = 2  # the GET that finds the config absent, then its create
    return [
        Figure(f"restore {n:,} configs, a loop of create calls (baseline)", "s", loop, target="—"),
        Figure(
            f"restore {n:,} configs from one backup file",
            "s",
            samples,
            baseline=statistics.median(loop),
            baseline_name="create loop",
            bound=n * requests * latency / DEFAULT_RESTORE_CONCURRENCY,
            bound_name=f"N × {requests} requests × latency / {DEFAULT_RESTORE_CONCURRENCY}",
            target="≥ 6× the create loop; ≤ 1.3× the bound",
            speedup_at_least=6,
            bound_at_most=1.3,
            notes=[
                _overhead_note(
                    statistics.median(loop),
                    n,
                    latency,
                    statistics.median(samples),
                    requests,
                    concurrency=DEFAULT_RESTORE_CONCURRENCY,
                )
            ],
        ),
    ]


class _Unpaced(AdaptiveThrottle):
    """Counts answers but never paces: the client as it was, bursting and sleeping Retry-After."""

    def answered(self, status: int, sent_at: float) -> None:
        with self._lock:
            if status == 429:
                self.refused += 1
            else:
                self.accepted += 1


def rate_limited(
    emu: RemoteEmulator, n: int, latency: float, limit: float, runs: int, unpaced_runs: int = 1
) -> list[Figure]:
    """Bulk delete (backups on) against the emulator's gateway limit of ``limit`` requests per second."""

    def once(throttle: AdaptiveThrottle) -> tuple[float, float, int, list[tuple[float, int, int, float]]]:
        emu.reset(n, latency)
        names = sorted(emu.names())
        session = _session(emu)
        session._api.throttle = throttle  # before the run takes its scoped view
        emu.faults(rate_limit=limit, retry_after=1)
        samples: list[tuple[float, int, int, float]] = []
        done = threading.Event()
        started = time.perf_counter()

        def sample() -> None:
            while not done.wait(1.0):
                rate = throttle.rate()
                samples.append(
                    (time.perf_counter() - started, throttle.accepted, throttle.refused, rate or 0.0)
                )

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        results = delete_job_configs(session, names)
        elapsed = time.perf_counter() - started
        done.set()
        sampler.join()
        emu.faults(rate_limit=0)
        failed = sum(1 for r in results.values() if not r["is_success"])
        answers = throttle.accepted + throttle.refused
        samples.append((elapsed, throttle.accepted, throttle.refused, throttle.rate() or 0.0))
        return throttle.accepted / elapsed, 100 * throttle.refused / answers, failed, samples

    paced = [once(AdaptiveThrottle()) for _ in range(runs)]
    unpaced = [once(_Unpaced()) for _ in range(unpaced_runs)]
    name = f"bulk delete, {n:,} configs, backups on, gateway limit {limit:g} requests/s"
    rates = [r for r, _, _, _ in paced]
    median_run = sorted(paced, key=lambda run: run[0])[len(paced) // 2]
    timeline = _timeline(median_run[3])
    old_rate, old_share, old_failed, _ = unpaced[0] if unpaced else (0.0, 0.0, 0, [])
    notes = [
        "a request answered 429 waits its Retry-After (1 s) and is sent again, paced; every answer "
        "counted, resends included",
    ]
    if unpaced:
        notes.append(
            f"without the adaptive throttle (bursting, then sleeping Retry-After), same run: "
            f"{old_rate:.1f} accepted requests/s, {old_share:.1f}% of requests answered 429, "
            f"{old_failed} names failed"
        )
    notes.append("throughput over time, the median run (per interval): " + timeline)
    return [
        Figure(
            f"{name}: accepted requests per second",
            "req/s",
            rates,
            bound=limit,
            bound_name="the limit",
            target=f"≥ 90% of the limit ({0.9 * limit:g} req/s)",
            at_least=0.9 * limit,
            notes=notes,
        ),
        Figure(
            f"{name}: requests answered 429",
            "%",
            [share for _, share, _, _ in paced],
            target="≤ 5%",
            at_most=5,
        ),
        Figure(
            f"{name}: names failed",
            "names",
            [float(failed) for _, _, failed, _ in paced],
            target="0 (none for throttling alone)",
            at_most=0,
        ),
    ]


def _timeline(samples: list[tuple[float, int, int, float]], step: float = 5.0) -> str:
    """Accepted and refused requests per second and the pacing rate, by ``step``-second interval."""
    parts = []
    last_t, last_acc, last_ref = 0.0, 0, 0
    for t, acc, ref, rate in samples:
        if t - last_t >= step - 0.5 or (t, acc, ref, rate) == samples[-1]:
            span = max(t - last_t, 1e-9)
            paced = f"paced at {rate:.0f}/s" if rate else "not paced"
            parts.append(
                f"{last_t:.0f}–{t:.0f} s: {(acc - last_acc) / span:.1f} accepted/s, "
                f"{(ref - last_ref) / span:.1f} refused/s, {paced}"
            )
            last_t, last_acc, last_ref = t, acc, ref
    return "; ".join(parts)


def unreachable(runs: int) -> list[Figure]:
    """From the call to the first error shown, against an endpoint where nothing listens."""
    from IPython.core.interactiveshell import InteractiveShell

    from modelarts_widgets import JobConfigTable

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now: connections are refused
    env = {
        "HUAWEICLOUD_SDK_AK": "AK-BENCH",
        "HUAWEICLOUD_SDK_SK": "SK-BENCH",
        "HUAWEICLOUD_SDK_PROJECT_ID": "p-bench",
        "MODELARTS_REGION": "cn-north-4",
        "MODELARTS_ENDPOINT": f"http://127.0.0.1:{port}",
    }

    def widget() -> float:
        started = time.perf_counter()
        table = JobConfigTable(session=Session(environ=env))
        table.wait_loaded(60)
        elapsed = time.perf_counter() - started
        assert table.error.get("code") == "Client.Unreachable", table.error
        table.close()
        return elapsed * 1000

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "modelarts_widgets")

    def magic() -> float:
        shell.user_ns["bench_session"] = Session(environ=env)
        started = time.perf_counter()
        error: Any = None
        try:
            shell.run_line_magic("modelarts_delete", "--match 'x*' --session bench_session")
        except Exception as exc:  # the magic's error, shown as a one-line message
            error = exc
        elapsed = time.perf_counter() - started
        assert "refused" in str(error), error
        return elapsed * 1000

    note = "nothing listens on the endpoint's port (connection refused); the session's default settings"
    return [
        Figure(
            "unreachable endpoint: JobConfigTable() to its error banner (kernel side)",
            "ms",
            measure(widget, runs),
            target="≤ 2 s",
            at_most=2000,
            notes=[note],
        ),
        Figure(
            "unreachable endpoint: `%modelarts_delete --match` to its error",
            "ms",
            measure(magic, runs),
            target="≤ 2 s",
            at_most=2000,
        ),
    ]
