"""Bulk delete and listing through the SDK core, against the official-SDK way and the bound."""

from __future__ import annotations

import json
import math
import statistics
import time

from common import Figure, RemoteEmulator, measure

from modelarts_widgets.sdk import Estimator, Session, delete_job_configs, list_all_configs
from modelarts_widgets.sdk.bulk import BACKUP_READS_PER_DELETE, DEFAULT_DELETE_CONCURRENCY
from modelarts_widgets.sdk.estimator import CONFIGS, list_query


def _session(emu: RemoteEmulator) -> Session:
    return Session(environ=emu.env)


def bulk_delete(
    emu: RemoteEmulator, sizes: list[int], latency: float, runs: int, baseline_size: int
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

    baseline = measure(lambda: official_loop(baseline_size), runs, warmup=lambda: official_loop(20))
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
            target="≥ 7× the baseline; ≤ 1.25× the bound",
            speedup_at_least=7,
            bound_at_most=1.25,
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
            target="≤ 1.25× the bound",
            bound_at_most=1.25,
        )
        if n == baseline_size:
            figure.baseline, figure.baseline_name = base_median, "official loop"
            figure.target, figure.speedup_at_least = "≥ 7× the baseline; ≤ 1.25× the bound", 7
            figure.notes.append(
                f"backups add {figure.median - off_median:.2f} s to backups off "
                f"({figure.median / off_median:.2f}×): one details GET per config, up to {reads} in flight, "
                "each appended and fsynced before its DELETE; the official loop keeps no backup"
            )
        figures.append(figure)
    return figures


def listing(emu: RemoteEmulator, n: int, latency: float, runs: int) -> list[Figure]:
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
    page10 = measure(lambda: paged(10), runs, warmup=lambda: None)
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
            target="≥ 50× the page-10 loop; ≤ 1.5× the bound",
            speedup_at_least=50,
            bound_at_most=1.5,
            notes=[f"vs page size 1000 sequentially: {vs_page1000:.1f}× faster"],
        ),
    ]
