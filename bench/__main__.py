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

from bench import batch_scale, instructions, overhead, shared_budget, startup, throughput
from bench._runner import ROOT, canned_server

Row = tuple[str, str, str, str]


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer rounds and runs")
    args = parser.parse_args()
    rounds, calls, runs = (5, 50, 5) if args.quick else (40, 150, 15)
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
                key = name if mode == "sync" else f"{name} async"
                instr = counted[mode][key]
                ratio = instr / counted[mode]["raw httpx" if mode == "sync" else "raw httpx async"]
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

    print("batch at growing sizes ...", file=sys.stderr)
    sizes = (500, 2000, 5000) if args.quick else (1000, 10000, 100000)
    scaled = batch_scale.run(sizes)
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
                f"batch --fake, {count} prompts, concurrency 20",
                f"{first.seconds:.1f} s, {first.rate:.0f} items/s",
                f"peak RSS {first.peak_mib:.0f} MiB",
                target,
            )
        )
        fast = resumed.seconds < 5 and resumed.peak_mib < 100
        rows.append(
            (
                f"batch resume of {count} finished prompts",
                f"{resumed.seconds:.2f} s",
                f"peak RSS {resumed.peak_mib:.0f} MiB",
                f"< 5 s and < 100 MiB: {verdict(fast)}" if count == sizes[-1] else "",
            )
        )

    print("three processes on one account ...", file=sys.stderr)
    for mode, result in shared_budget.run(prompts=30 if args.quick else 100).items():
        if mode == "shared budget":
            ok = result.max_in_flight <= 5 and result.refused == 0 and result.ratio <= 1.15
            target = f"<= 5 in flight, 0 x 1302, <= 1.15x ideal: {verdict(ok)}"
        elif mode.startswith("adaptive"):
            ok = result.refused <= 0.05 * result.served and result.ratio <= 1.3
            target = f"1302 a few % of requests, <= 1.3x ideal: {verdict(ok)}"
        else:
            target = f"the other two finish: {verdict(result.exit_codes[1:] == (0, 0))}"
        prompts_each = round(result.ideal * 5 / 3 / 0.1)
        rows.append(
            (
                f"3 batch processes x {prompts_each} prompts, V0 (5), 100 ms: {mode}",
                f"{result.seconds:.2f} s (ideal {result.ideal:.1f} s)",
                f"{result.ratio:.2f}x ideal; {result.refused} of {result.served} answered 1302; "
                f"max in flight {result.max_in_flight}",
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
    png = startup.png_ms(runs)
    rows.append(("fake: 2048x2048 PNG", f"{png:.1f} ms", "", f"well under 100 ms: {verdict(png < 50)}"))
    start_ms = startup.fake_server_start_ms(runs=5)
    rows.append(("fake-server: launch to first answer", f"{start_ms:.0f} ms", "", f"< 1 s: {verdict(start_ms < 1000)}"))

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
