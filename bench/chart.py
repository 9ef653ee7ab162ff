"""The benchmark's chart: latency percentiles per scenario, fan-out times and memory per
connection, from the results' JSON files.

    .venv/bin/python -m bench.chart bench/results      # redraw bench/results/bench.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt  # noqa: E402

PERCENTILES = [("p50", "#4c72b0"), ("p95", "#dd8452"), ("p99", "#c44e52")]
LATENCY_SCENARIOS = ["direct", "cluster", "fanout"]
MEMORY_SCENARIOS = ["idle", "idle-deflate"]


def _label(name: str, result: dict) -> str:
    settings = result.get("settings", {})
    if result.get("scenario") in ("direct", "cluster"):
        workers = settings.get("server", {}).get("workers", "1")
        return f"{name}\n{result['connections']} clients, {workers} worker(s)\n{settings.get('rate')} msg/s"
    if result.get("scenario") == "fanout":
        return f"{name}\n1 → {result.get('members', '?')} members\nall deliveries"
    return name


def _bars(ax, labels: list[str], series: list[tuple[str, str, list]], unit: str) -> None:
    width = 0.8 / max(1, len(series))
    for index, (name, colour, values) in enumerate(series):
        positions = [x + (index - (len(series) - 1) / 2) * width for x in range(len(labels))]
        heights = [v or 0 for v in values]
        bars = ax.bar(positions, heights, width, label=name, color=colour)
        for bar, value in zip(bars, values):
            text = "n/a" if value is None else (f"{value:,.0f}" if value >= 100 else f"{value:.1f}")
            ax.annotate(
                text, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom",
                fontsize=8, xytext=(0, 2), textcoords="offset points",
            )  # fmt: skip
    tallest = max((v for _n, _c, values in series for v in values if v), default=1)
    ax.set_ylim(0, tallest * 1.25)  # room for the value labels and the legend
    ax.set_xticks(range(len(labels)), labels, fontsize=9)
    ax.set_ylabel(unit)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)


def draw(results: dict[str, dict], path: Path) -> Path:
    """Draw what ``results`` (file name → result) holds into a PNG at ``path``."""
    panels = []
    latency = [n for n in LATENCY_SCENARIOS if n in results]
    if latency:
        panels.append("latency")
    # The fanout scenario's own figures, and the fan-out part of the cluster scenario.
    fanouts = [("fanout", results.get("fanout")), ("cluster", results.get("cluster", {}).get("fanout"))]
    fanouts = [(n, f) for n, f in fanouts if f and f.get("last_delivery_ms")]
    if fanouts:
        panels.append("fanout")
    memory = [n for n in MEMORY_SCENARIOS if n in results]
    if memory:
        panels.append("memory")
    searched = (results.get("search") or {}).get("search")
    if searched:
        panels.append("search")
    figure, axes = plt.subplots(1, len(panels), figsize=(max(5.2 * len(panels) + 1, 10), 5.6), squeeze=False)
    axes = dict(zip(panels, axes[0]))

    if "latency" in axes:
        ax = axes["latency"]
        series = [(p, c, [results[n]["latency_ms"].get(p) for n in latency]) for p, c in PERCENTILES]
        _bars(ax, [_label(n, results[n]) for n in latency], series, "milliseconds")
        values = [v for _p, _c, vs in series for v in vs if v]
        if values and max(values) / max(min(values), 0.1) > 50:
            # A saturated run's seconds would flatten every other bar.
            ax.set_yscale("log")
            ax.set_ylim(min(values) / 2, max(values) * 3)
        ax.set_title("Send to delivery, end to end")
        ax.legend(title="percentile", fontsize=8, loc="upper left")

    if "fanout" in axes:
        ax = axes["fanout"]
        labels = [f"{n}\n1 → {f.get('members')} members\np50 of {f.get('repeats')} rounds" for n, f in fanouts]
        series = [
            ("first delivery", "#55a868", [f["first_delivery_ms"].get("p50") for _n, f in fanouts]),
            ("last delivery", "#8172b3", [f["last_delivery_ms"].get("p50") for _n, f in fanouts]),
        ]
        _bars(ax, labels, series, "milliseconds")
        ax.set_title("Fan-out to a department, all online")
        ax.legend(fontsize=8, loc="upper left")

    if "memory" in axes:
        ax = axes["memory"]
        labels = []
        for n in memory:
            result = results[n]
            deflate = (
                f"deflate offered, accepted by {result.get('deflate_negotiated', 0)}"
                if result.get("deflate_offered")
                else "no compression offered"
            )
            labels.append(f"{n}\n{result['connections']} connections\n{deflate}")
        series = [("KB per connection", "#937860", [results[n].get("kb_per_connection") for n in memory])]
        _bars(ax, labels, series, "KB of server memory (RSS)")
        ax.set_title("Server memory per idle connection")

    if "search" in axes:
        ax = axes["search"]
        result = results["search"]
        kinds = [(k, v) for k, v in searched["by_kind"].items() if v["searches"]]
        series = [
            (p, c, [v["latency_ms"].get(p) for _k, v in kinds]) for p, c in PERCENTILES if p in ("p50", "p95")
        ]
        labels = [f"{k.replace(' ', chr(10), 1)}\n({v['searches']})" for k, v in kinds]
        _bars(ax, labels, series, "milliseconds")
        ax.tick_params(axis="x", labelsize=7)
        alone = result["sends_alone_before"]["latency_ms"]["p99"]
        ax.set_title(
            f"Search, {searched['searches']} in {searched['seconds']} s while {result.get('rate')} msg/s are sent\n"
            f"send p99 {result['latency_ms']['p99']} ms with, {alone} ms without",
            fontsize=9,
        )
        ax.legend(title="percentile", fontsize=8, loc="upper left")

    any_result = next(iter(results.values()))
    server = any_result.get("settings", {}).get("server", {})
    versions = any_result.get("versions", {})
    figure.suptitle(
        f"Switchboard benchmark, {any_result.get('measured_at', '')[:10]}: "
        f"{server.get('asgi_server', 'daphne')}, {server.get('database', '')}, {server.get('channel_layer', '')}",
        fontsize=11,
    )
    figure.text(
        0.5, 0.01,
        f"Python {versions.get('python')}, Django {versions.get('django')}, Channels {versions.get('channels')}, "
        f"{versions.get('machine')}; load generator on the same machine. Figures in the JSON files beside this chart.",
        ha="center", fontsize=8, color="#555555",
    )  # fmt: skip
    figure.tight_layout(rect=(0, 0.04, 1, 0.95))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def main() -> None:
    directory = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results")
    results = {
        name: json.loads((directory / f"{name}.json").read_text())
        for name in [*LATENCY_SCENARIOS, *MEMORY_SCENARIOS, "search"]
        if (directory / f"{name}.json").exists()
    }
    if not results:
        raise SystemExit(f"no results in {directory}")
    print(draw(results, directory / "bench.png"))


if __name__ == "__main__":
    main()
