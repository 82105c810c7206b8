"""The bench's outputs: bench/results/RESULTS.md (medians, ratios) and bench/results/bench.png."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

LABELS = {
    "fedgate": "fedgate",
    "fedgate-nodedup": "fedgate, no fetch dedup",
    "fedgate-httpx": "fedgate, httpx client",
    "fedgate-reqdedup": "fedgate, request dedup",
    "apollo": "Apollo Gateway",
    "hive": "Hive Gateway",
    "hive-rr": "Hive Gateway + router runtime",
}


def _label(name: str) -> str:
    if name.startswith("fedgate-w"):
        return f"fedgate --workers {name.removeprefix('fedgate-w')}"
    return LABELS.get(name, name)


def medians(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per gateway: the median of each figure over its runs, and the summed errors."""
    out: dict[str, dict[str, Any]] = {}
    for gw in dict.fromkeys(r["gateway"] for r in rows):
        runs = [r for r in rows if r["gateway"] == gw and r["ok"]]
        if not runs:
            bad = next(r for r in rows if r["gateway"] == gw)
            out[gw] = {"ok": False, "why": bad.get("why", "")}
            continue
        m: dict[str, Any] = {"ok": True, "runs": len(runs)}
        for k in ("rps", "p50_ms", "p99_ms", "cpu_ms_per_req", "subgraph_cpu_ms_per_req", "gw_cores"):
            m[k] = statistics.median(r[k] for r in runs)
        fetches = [r["fetches_per_req"] for r in runs if r.get("fetches_per_req") is not None]
        m["fetches_per_req"] = statistics.median(fetches) if fetches else None
        m["errors"] = sum(r["errors"] for r in runs)
        m["requests"] = sum(r["requests"] for r in runs)
        out[gw] = m
    return out


def _f(x: float, digits: int = 1) -> str:
    return f"{x:,.{digits}f}"


def _table(med: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "| gateway | runs | req/s | p50 ms | p99 ms | errors / requests | gateway CPU-ms/req | gateway cores busy "
        "| subgraph fetches/req | subgraphs CPU-ms/req |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for gw, m in med.items():
        if not m["ok"]:
            lines.append(f"| {_label(gw)} | 0 | not measured: {m['why'][:80]} | | | | | | | |")
            continue
        lines.append(
            f"| {_label(gw)} | {m['runs']} | {_f(m['rps'])} | {_f(m['p50_ms'])} | {_f(m['p99_ms'])} | "
            f"{m['errors']} / {m['requests']} | {_f(m['cpu_ms_per_req'], 2)} | {_f(m['gw_cores'], 2)} | "
            f"{'—' if m['fetches_per_req'] is None else _f(m['fetches_per_req'], 2)} | "
            f"{_f(m['subgraph_cpu_ms_per_req'], 2)} |"
        )
    fg = med.get("fedgate")
    if fg and fg["ok"]:
        lines += ["", "| fedgate / peer | req/s | p99 | CPU-ms/req |", "|---|---:|---:|---:|"]
        for gw, m in med.items():
            if gw == "fedgate" or not m["ok"]:
                continue
            lines.append(
                f"| fedgate / {_label(gw)} | {fg['rps'] / m['rps']:.2f} | {fg['p99_ms'] / m['p99_ms']:.2f} | "
                f"{fg['cpu_ms_per_req'] / m['cpu_ms_per_req']:.2f} |"
            )
    return lines


def _scale_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| entities | gateway | req/s | p50 ms | p99 ms | errors | CPU-ms/req | CPU-µs/entity | vs 100 "
        "| marginal CPU-µs/entity |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    base: dict[str, float] = {}
    prev: dict[str, tuple[int, float]] = {}
    for r in rows:
        if r["ok"] and r["entities"] == 100:
            base[r["gateway"]] = r["cpu_ms_per_req"] / 100
    for r in sorted(rows, key=lambda r: (r["entities"], r["gateway"] != "fedgate")):
        if not r["ok"]:
            lines.append(f"| {r['entities']:,} | {_label(r['gateway'])} | not measured: {r['why'][:60]} | | | | | | |")
            continue
        per = r["cpu_ms_per_req"] / r["entities"]
        rel = f"{per / base[r['gateway']]:.2f}" if r["gateway"] in base else ""
        # the extra CPU per extra entity since the previous size: the fixed per-request cost cancels out
        marginal = ""
        if r["gateway"] in prev:
            n0, c0 = prev[r["gateway"]]
            marginal = _f((r["cpu_ms_per_req"] - c0) * 1000 / (r["entities"] - n0), 1)
        prev[r["gateway"]] = (r["entities"], r["cpu_ms_per_req"])
        lines.append(
            f"| {r['entities']:,} | {_label(r['gateway'])} | {_f(r['rps'])} | {_f(r['p50_ms'])} | {_f(r['p99_ms'])} | "
            f"{r['errors']} | {_f(r['cpu_ms_per_req'], 2)} | {_f(per * 1000, 1)} | {rel} | {marginal} |"
        )
    return lines


def _machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        node = "none"
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, Node {node}"


def write(results: dict[str, Any], out: Path) -> None:
    """Write RESULTS.md and bench.png from the raw results."""
    s = results["settings"]
    LABELS.update(results.get("labels", {}))
    lines = [
        "# fedgate benchmark results",
        "",
        f"Written by `make bench` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {_machine()}.",
        f"wrk with {s['threads']} threads, {s['duration']} s per run after a {s['warmup']} s warm-up, "
        f"{s['rounds']} rounds alternating the gateways; figures are medians over the rounds. "
        "See docs/benchmark.md for how to read them.",
        "",
        f"fedgate: {results.get('fedgate_version', 'unknown')}. Peers: {results.get('peers', 'see bench/peers/package.json')}.",
        "",
    ]
    wl = results["workloads"]
    for key in ("guild", "orders"):
        if key in wl:
            lines += [f"## {wl[key]['title']} ({wl[key]['connections']} connections)", ""]
            lines += _table(medians(wl[key]["rows"]))
            lines.append("")
    if "scale" in wl:
        lines += [f"## {wl['scale']['title']} ({wl['scale']['connections']} connections, {s['scale_duration']} s per run)", ""]
        lines += _scale_table(wl["scale"]["rows"])
        lines.append("")
    if results.get("notes"):
        lines += ["## Notes", ""] + [f"- {n}" for n in results["notes"]] + [""]
    if "elapsed_s" in results:
        lines.append(f"The whole run took {results['elapsed_s']} s.")
    (out / "RESULTS.md").write_text("\n".join(lines) + "\n")
    try:
        _chart(results, out / "bench.png")
    except ImportError:
        pass  # matplotlib is in the `bench` extra; the table is written regardless


def _chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    wl = results["workloads"]
    panels = [k for k in ("guild", "orders") if k in wl]
    ncols = 3
    nrows = len(panels) + (1 if "scale" in wl else 0)
    if nrows == 0:
        return
    fig, axes = plt.subplots(nrows, ncols, figsize=(15, 4.6 * nrows), squeeze=False)
    colors = {"fedgate": "#2a9d8f", "fedgate-nodedup": "#76c7bd", "fedgate-httpx": "#1d6f66", "fedgate-reqdedup": "#a8dcd5", "apollo": "#6c4ab6", "hive": "#e9c46a", "hive-rr": "#f4a261"}
    for row, key in enumerate(panels):
        med = {g: m for g, m in medians(wl[key]["rows"]).items() if m["ok"]}
        names = list(med)
        for col, (metric, title) in enumerate(
            (("rps", "requests/s (higher is better)"), ("p99_ms", "p99 latency, ms"), ("cpu_ms_per_req", "gateway CPU-ms per request"))
        ):
            ax = axes[row][col]
            vals = [med[n][metric] for n in names]
            ax.bar([_label(n).replace(" + ", "\n+ ") for n in names], vals,
                   color=[colors.get(n, "#9ccfc8" if n.startswith("fedgate") else "#888") for n in names])
            ax.set_title(f"{wl[key]['title']}\n{title}", fontsize=9)
            ax.tick_params(axis="x", labelsize=6, labelrotation=35)
            for tick in ax.get_xticklabels():
                tick.set_horizontalalignment("right")
            for i, v in enumerate(vals):
                ax.text(i, v, _f(v, 1 if v >= 10 else 2), ha="center", va="bottom", fontsize=7)
    if "scale" in wl:
        rows = [r for r in wl["scale"]["rows"] if r["ok"]]
        r_i = nrows - 1
        for col, (metric, title) in enumerate(
            (("per_entity_us", "CPU-µs per entity"), ("cpu_ms_per_req", "CPU-ms per request"), ("p50_ms", "p50 latency, ms"))
        ):
            ax = axes[r_i][col]
            for gw in dict.fromkeys(r["gateway"] for r in rows):
                pts = sorted((r["entities"], r) for r in rows if r["gateway"] == gw)
                xs = [n for n, _ in pts]
                if metric == "per_entity_us":
                    ys = [r["cpu_ms_per_req"] * 1000 / n for n, r in pts]
                else:
                    ys = [r[metric] for _, r in pts]
                ax.plot(xs, ys, marker="o", label=_label(gw), color=colors.get(gw, "#888"))
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("entities per response")
            ax.set_title(f"{wl['scale']['title']}\n{title}", fontsize=9)
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
