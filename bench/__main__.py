"""Run every benchmark, print one table of ratios, and write it to bench/results/latest.md.

make bench                      # sets up .venv-bench with the comparison SDKs, then runs this
python -m bench --quick         # fewer rounds, for a smoke run
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import (
    batch_scale,
    fake_throughput,
    faulted_batch,
    instructions,
    overhead,
    shared_budget,
    startup,
    task_batch,
    throughput,
)
from bench._runner import ROOT, canned_server
from bench._venvs import LIB_PYTHON, PEER_PYTHON, separate
from zhipu_images._tasks import FIRST_POLL, GROWTH

Row = tuple[str, str, str, str]


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _venv_name(python: str) -> str:
    return Path(python).parent.parent.name


def _instruction_keys(name: str, mode: str, sdk_venv: bool) -> tuple[str, str]:
    """The instruction counts' names for an overhead row, and for the raw httpx of the same venv."""
    venv = " (SDK venv)" if sdk_venv else ""
    suffix = "" if mode == "sync" else " async"
    own = f"raw httpx{suffix}{venv}" if name.startswith("raw httpx") else f"{name}{suffix}"
    return own, f"raw httpx{suffix}{venv}"


def _why_lost(summary: faulted_batch.Summary) -> str:
    """How the CLI's lost prompts failed (over all rounds), as its manifests say."""
    if not summary.failed_as:
        return ""
    return (
        " (failed, in all rounds: " + ", ".join(f"{error} x{count}" for error, count in summary.failed_as.items()) + ")"
    )


def _scale_rows(sizes: tuple[int, int, int], tasks: bool = False) -> list[Row]:
    """The batch at growing sizes: peak memory, rate, and the resume of a finished run."""
    rows: list[Row] = []
    scaled = batch_scale.run(sizes, tasks=tasks)
    what = "batch, glm-image tasks via fake-server" if tasks else "batch --fake"
    smallest, middle = scaled[sizes[0]][0], scaled[sizes[1]][0]
    for count, (first, resumed) in scaled.items():
        target = ""
        if count == sizes[-1]:
            flat = first.peak_mib <= 1.2 * middle.peak_mib
            steady = first.rate >= 0.8 * smallest.rate
            target = (
                f"peak RSS <= 1.2x at {sizes[1]} ({first.peak_mib / middle.peak_mib:.2f}x): {verdict(flat)}; "
                f"items/s >= 0.8x at {sizes[0]} ({first.rate / smallest.rate:.2f}x): {verdict(steady)}"
            )
        rows.append(
            (
                f"{what}, {count} prompts, concurrency 20",
                f"{first.seconds:.1f} s, {first.rate:.0f} items/s",
                f"peak RSS {first.peak_mib:.0f} MiB",
                target,
            )
        )
        fast = resumed.seconds < 5 and resumed.peak_mib < 100
        rows.append(
            (
                f"{what}: resume of {count} finished prompts",
                f"{resumed.seconds:.2f} s",
                f"peak RSS {resumed.peak_mib:.0f} MiB",
                f"< 5 s and < 100 MiB: {verdict(fast)}" if count == sizes[-1] else "",
            )
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer rounds and runs")
    args = parser.parse_args()
    rounds, calls, runs = (5, 50, 5) if args.quick else (40, 150, 15)
    if not separate():
        print("note: ZHIPU_IMAGES_BENCH_LIB_PYTHON is not set: the library runs beside the SDKs", file=sys.stderr)
    started = time.perf_counter()
    rows: list[Row] = []

    print("per-request overhead ...", file=sys.stderr)
    with canned_server() as url:
        per_request = overhead.run(url, rounds=rounds, calls=calls)
        size, rss = startup.download_rss_growth_mb(url, runs=3, mode="stream")
        _, in_memory = startup.download_rss_growth_mb(url, runs=3, mode="memory")
        counted = instructions.per_request(url) if instructions.available() else None
    for mode, measured in per_request.items():
        for name, m in sorted(measured.items(), key=lambda kv: kv[1].cpu_ratio):
            timing = (
                f"{m.wall_ratio:.2f}x wall (IQR {m.wall_spread[0]:.2f}-{m.wall_spread[1]:.2f}), "
                f"{m.cpu_ratio:.2f}x CPU (IQR {m.cpu_spread[0]:.2f}-{m.cpu_spread[1]:.2f})"
            )
            median = f"{m.wall_us:.0f} us wall, {m.cpu_us:.0f} us CPU"
            target = ""
            if counted is not None:
                sdk_venv = name.startswith(("openai", "zai")) or name.endswith("(SDK venv)")
                key, base = _instruction_keys(name, mode, sdk_venv)
                instr = counted[mode][key]
                ratio = instr / counted[mode][base]
                median = f"{instr / 1e6:.2f} M instructions; " + median
                timing = f"{ratio:.3f}x instructions; " + timing
                if name == "zhipu_images":
                    others = [v for n, v in counted[mode].items() if n.startswith(("openai", "zai-sdk"))]
                    ok = ratio <= 1.10 and all(instr < other for other in others)
                    target = f"<= 1.10x raw httpx, below the SDKs (instructions): {verdict(ok)}"
            rows.append((f"{mode} request: {name}", median, timing, target))

    print("batch throughput ...", file=sys.stderr)
    batch = throughput.run(prompts=200, latency=0.1, cap=5)
    baseline = batch["raw httpx (async)"]["ratio"]
    for mode, result in batch.items():
        target = ""
        if mode != "raw httpx (async)":
            ok = result["ratio"] <= 1.10 and result["max_in_flight"] == 5
            target = f"<= 1.10x ideal, in flight == 5: {verdict(ok)}"
        rows.append(
            (
                f"batch {mode}: 200 prompts, 100 ms, cap 5",
                f"{result['seconds']:.2f} s (ideal {result['ideal']:.1f} s)",
                f"{result['ratio']:.3f}x ideal ({result['ratio'] / baseline:.3f}x raw httpx); "
                f"max in flight {result['max_in_flight']:.0f}",
                target,
            )
        )

    print("glm-image batches: the task API beside --sync ...", file=sys.stderr)
    by_task = task_batch.run(prompts=100, latency=2.0, cap=10, rounds=2 if args.quick else 3)
    for name, summary in by_task.items():
        target = ""
        if name == "task API (default)":
            # "one poll interval": the gaps before a 2 s task is first seen done, when nothing is learned yet
            allowed = 1.10 * summary.ideal + FIRST_POLL * GROWTH**2
            ok = summary.seconds <= allowed and summary.polls_per_task <= 3 and summary.generated == 0
            target = (
                f"<= 1.10x ideal + one poll interval ({allowed:.2f} s), <= 3 polls a task, 0 sync generations: "
                f"{verdict(ok and summary.lost == 0)}"
            )
        rows.append(
            (
                f"glm-image batch, 100 prompts, 2 s, limit 10: {name}",
                f"{summary.seconds:.2f} s, {summary.ratio:.3f}x ideal (range {summary.spread[0]:.3f}-"
                f"{summary.spread[1]:.3f})",
                f"{summary.polls_per_task:.2f} polls a task; tasks {summary.tasks}, sync generations "
                f"{summary.generated}, lost {summary.lost}",
                target,
            )
        )

    # Run last, its rows put here: its 100,000 files, made and deleted, slowed file creation in the same
    # file system for minutes after (ext4 on this VM: 20-30 us a file before, 250-800 us after), which the
    # main job below, a file per image, would have measured.
    scale_rows_at = len(rows)

    print("three processes on one account ...", file=sys.stderr)
    for mode, results in shared_budget.run(prompts=30 if args.quick else 100, rounds=1 if args.quick else 3).items():
        ratios = sorted(result.ratio for result in results)
        typical = sorted(results, key=lambda result: result.ratio)[len(results) // 2]  # the median run (odd rounds)
        ratio = typical.ratio
        refused = max(result.refused for result in results)
        most_in_flight = max(result.max_in_flight for result in results)
        if mode == "shared budget":
            ok = most_in_flight <= 5 and refused == 0 and ratio <= 1.15
            target = f"<= 5 in flight, 0 x 1302, <= 1.15x ideal: {verdict(ok)}"
        elif mode.startswith("adaptive"):
            ok = typical.refused <= 0.05 * typical.served and ratio <= 1.3
            target = f"1302 a few % of requests, <= 1.3x ideal: {verdict(ok)}"
        else:
            finished = all(result.exit_codes[1:] == (0, 0) for result in results)
            target = f"the other two finish: {verdict(finished)}"
        prompts_each = round(typical.ideal * 5 / 3 / 0.1)
        rows.append(
            (
                f"3 batch --sync processes x {prompts_each} prompts, V0 (5), 100 ms: {mode}",
                f"{typical.seconds:.2f} s (ideal {typical.ideal:.1f} s), median of {len(results)}",
                f"{ratio:.2f}x ideal (range {ratios[0]:.2f}-{ratios[-1]:.2f}); "
                f"{typical.refused} of {typical.served} answered 1302 (at most {refused} in a run); "
                f"max in flight {most_in_flight}",
                target,
            )
        )

    print("imports ...", file=sys.stderr)
    imports = startup.import_times(runs=runs)
    for name, (ms, ratio, (low, high)) in sorted(imports.items(), key=lambda kv: kv[1][0]):
        target = ""
        if name == "zhipu_images":
            ok = ratio <= 1.5 and ms < imports["openai"][0] and ms < imports["zai"][0]
            target = f"<= 1.5x httpx, below zai and openai: {verdict(ok)}"
        rows.append((f"import {name}", f"{ms:.0f} ms", f"{ratio:.2f}x httpx (IQR {low:.2f}-{high:.2f})", target))

    print("command start-up ...", file=sys.stderr)
    for name, (ms, ratio, (low, high)) in startup.command_times(runs=runs).items():
        target = ""
        if name in ("zhipu-images --help", "zhipu-images check"):
            target = f"<= 1.3x python -c 'import httpx': {verdict(ratio <= 1.3)}"
        rows.append((f"start-up: {name}", f"{ms:.0f} ms", f"{ratio:.2f}x (IQR {low:.2f}-{high:.2f})", target))

    print("fake-server as a test double ...", file=sys.stderr)
    pairs_rate, (pairs_low, pairs_high) = fake_throughput.run(seconds=3 if args.quick else 5, clients=50)
    rows.append(
        (
            "fake-server: generate + download 1024x1024, 50 clients",
            f"{pairs_rate:.0f} pairs/s",
            f"range {pairs_low:.0f}-{pairs_high:.0f} over 3 runs",
            f">= 500 pairs/s: {verdict(pairs_rate >= 500)}",
        )
    )

    prompts = 300 if args.quick else 1000
    contenders = len(faulted_batch.CONTENDERS)
    print(f"the main job under faults ({prompts} prompts x {contenders} contenders x 5 rounds) ...", file=sys.stderr)
    faulted = faulted_batch.run(prompts=prompts, rounds=2 if args.quick else 5)
    library = faulted["zhipu_images (AsyncImagesClient)"]
    for name, summary in faulted.items():
        # each is compared with raw httpx under the same conditions, faults or none
        raw = faulted["raw httpx (no retries)" + (", no faults" if "no faults" in name else "")]
        target = ""
        if name == "zhipu-images batch":
            ok = summary.ratio <= 1.05 * library.ratio and summary.ratio <= 1.20 and summary.wasted == 0
            target = (
                f"<= 1.05x the library ({summary.ratio / library.ratio:.3f}x), <= 1.20x ideal, 0 wasted: {verdict(ok)}"
            )
        elif name == "zhipu-images batch, no faults":
            target = f"<= 1.10x ideal: {verdict(summary.ratio <= 1.10)}"
        rows.append(
            (
                f"{prompts:,} prompts, limit 10, 50-150 ms{'' if 'no faults' in name else ', 5% faults'}: "
                + name.replace("zhipu-images batch", "zhipu-images batch --sync"),
                f"{summary.ratio:.3f}x ideal (range {summary.spread[0]:.3f}-{summary.spread[1]:.3f}; "
                f"{summary.nominal_ratio:.3f}x the nominal {prompts / 100:.0f} s)",
                f"{summary.ratio / raw.ratio:.3f}x raw httpx; lost {summary.lost}{_why_lost(summary)}, "
                f"wasted {summary.wasted}, "
                f"1302 over the limit {summary.refused}, max in flight {summary.max_in_flight}",
                target,
            )
        )

    print("validation, downloads, fake ...", file=sys.stderr)
    for name, us in startup.validation_us(calls=20000, runs=runs).items():
        rows.append((f"validate_request: {name}", f"{us:.1f} us", "", f"< 20 us: {verdict(us < 20)}"))
    rows.append(
        (
            f"download {size / 2**20:.0f} MiB image (streamed to disk)",
            f"+{rss:.1f} MiB peak RSS",
            f"control, read into memory: +{in_memory:.0f} MiB",
            f"< 16 MiB: {verdict(rss < 16)}",
        )
    )
    new_size, drawn_size = startup.png_ms(runs)
    rows.append(
        (
            "fake: 2048x2048 PNG",
            f"{new_size:.1f} ms a new size",
            f"{drawn_size * 1000:.0f} us a size drawn before",
            f"well under 100 ms: {verdict(new_size < 50)}",
        )
    )
    start_ms = startup.fake_server_start_ms(runs=5)
    rows.append(("fake-server: launch to first answer", f"{start_ms:.0f} ms", "", f"< 1 s: {verdict(start_ms < 1000)}"))

    print("batch at growing sizes ...", file=sys.stderr)
    sizes = (500, 2000, 5000) if args.quick else (1000, 10000, 100000)
    rows[scale_rows_at:scale_rows_at] = _scale_rows(sizes) + _scale_rows(sizes, tasks=True)

    header = ("benchmark", "median", "ratio", "target")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in [header, *rows]]
    print("\n".join(lines))
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}"
    markdown = [
        "# Benchmark results",
        "",
        f"`make bench`, {when}, {machine}, {rounds} interleaved rounds x {calls} requests per contender;",
        "per-request ratios are medians of per-round ratios to raw httpx measured in the same round",
        "(IQR: their interquartile range, the machine's noise); client CPU is this process's CPU time;",
        "instructions per request are counted by callgrind (deterministic), and decide the overhead target;",
        f"imports: {runs} rounds of fresh interpreters, ratios paired with httpx's import in the same round.",
        f"The library runs in {_venv_name(LIB_PYTHON)} (its runtime dependencies only), the SDKs in "
        f"{_venv_name(PEER_PYTHON)}; each ratio is to raw httpx in the same venv and run.",
        f"Took {time.perf_counter() - started:.0f} s.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * 4,
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
    ]
    out = ROOT / "bench" / "results" / "latest.md"
    out.write_text("\n".join(markdown), encoding="utf-8")
    print(f"\nwritten to {out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
