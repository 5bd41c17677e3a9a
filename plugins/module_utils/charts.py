# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark report's charts: one PNG per metric family, the two labels side by side, the targets drawn.

Each family's metrics are grouped horizontal bars (the first label above the second), one panel per unit; a target's
bound is a dashed line across its metric, the value a reduction target asks of the second label a diamond on that
label's bar, both in the verdict's colour and named, with the verdict, at the right of the panel.  The compile family
is a line chart instead (``compile_png``): the speedup of each label against the core count, the ideal linear
scaling dashed, the efficiency target's line dotted in its verdict's colour.

matplotlib is imported inside the functions (its object API and the Agg canvas, no pyplot and no global backend), so
that importing this module never needs it; ``available()`` says whether it can be.  The same comparison gives the
same bytes: the default style with a fixed font (DejaVu Sans, shipped with matplotlib), no software name or date in
the PNG.
"""
from __future__ import annotations

import importlib
import io
import os
import textwrap
import traceback
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.nixperf.tuning.plugins.module_utils.report import (
    chart_filename,
    compile_cores,
    fmt_value,
)

DPI = 110
WIDTH_IN = 11.0
BEFORE_COLOR = "#4C72B0"
AFTER_COLOR = "#DD8452"
VERDICT_COLORS = {"met": "#1A7F37", "missed": "#CF222E", "unknown": "#6E7781"}
MISSING_COLOR = "#6E7781"
UNIT_WORDS = {"MiB": "MiB", "%": "per cent", "s": "seconds", "ms": "milliseconds", "x": "ratio (x)", "": "value"}
RC = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "figure.titlesize": 12,
    "path.simplify": False,
}
# Height of one metric's pair of bars, and of a panel's own axis and label, in inches.
ROW_IN = 0.62
PANEL_IN = 0.95
HEAD_IN = 1.15
BAR = 0.38
LABEL_WIDTH = 30
VALUE_SIZE = 8.0
RIGHT_SIZE = 8.5
MARK_PT = 9.0
MARK_HALF_IN = MARK_PT / 2 / 72.0 + 0.02
IDEAL_COLOR = "#555555"
COMPILE_HEIGHT_IN = 5.6


def available() -> Optional[str]:
    """None when matplotlib can be imported, else the import's traceback (for ``fail_json(exception=...)``)."""
    try:
        importlib.import_module("matplotlib")
    except ImportError:
        return traceback.format_exc()
    return None


def _wrap(name: str, width: int = LABEL_WIDTH) -> str:
    """A metric name broken after dots (and, in a very long part, anywhere) to lines of at most ``width``."""
    if len(name) <= width:
        return name
    parts = [p + "." for p in name.split(".")]
    parts[-1] = parts[-1][:-1]
    lines: List[str] = []
    line = ""
    for part in parts:
        if line and len(line) + len(part) > width:
            lines.append(line)
            line = ""
        line += part
    lines.append(line)
    return "\n".join(chunk for ln in lines for chunk in (textwrap.wrap(ln, width, break_on_hyphens=False) or [ln]))


def _scale(row: Mapping[str, Any]) -> str:
    """What a metric's axis measures: its unit in words, and for per cent values of what (the machine's CPU time,
    one CPU's as top shows it, the time tasks stalled)."""
    metric, unit = row["metric"], row["unit"]
    if unit == "%" and metric == "cpu.total.pct":
        return "per cent of the whole machine"
    if unit == "%" and metric.startswith("cpu."):
        return "per cent of one CPU (as top shows)"
    if unit == "%" and metric.startswith("psi."):
        return "per cent of the time tasks stalled (10 s average)"
    return UNIT_WORDS.get(unit, unit)


def _panels(rows: Sequence[Mapping[str, Any]]) -> List[Tuple[str, List[Mapping[str, Any]]]]:
    """The family's rows split by unit (and scale, ``_scale``), in the order they first appear; a metric whose name
    says no unit has a panel of its own (two such metrics may measure different things)."""
    panels: Dict[str, List[Mapping[str, Any]]] = {}
    for row in rows:
        panels.setdefault(_scale(row) if row["unit"] else "\0" + row["metric"], []).append(row)
    return [(group[0]["unit"], group) for group in panels.values()]


def _axis_label(unit: str, rows: Sequence[Mapping[str, Any]]) -> str:
    word = _scale(rows[0])
    directions = {bool(r["higher_is_better"]) for r in rows}
    if len(directions) == 1:
        word += ", %s is better" % ("higher" if directions.pop() else "lower")
    return word


def _target_text(v: Mapping[str, Any]) -> str:
    """``target <= 4096 MiB: met``; a reduction names the value it asks for: ``target -15 % (690 ms): met``."""
    if v["kind"] in ("max", "min") or v["goal"] is None:
        return "target %s: %s" % (v["describe"], v["verdict"])
    return "target %s (%s): %s" % (v["describe"], fmt_value(v["goal"], v["unit"], v["digits"]), v["verdict"])


def _text_in(text: str, size: float) -> float:
    """Width of a line of ``text`` at ``size`` points, in inches, a little generous (DejaVu Sans digits: 0.64 em)."""
    return max((len(line) for line in text.split("\n")), default=0) * size * 0.66 / 72.0 + 0.06


def _panel(ax: Any, unit: str, rows: Sequence[Mapping[str, Any]], marks: Mapping[str, List[Mapping[str, Any]]],
           labels: Tuple[str, str]) -> Dict[str, bool]:
    """One unit's bars and targets on ``ax``; which target marks (``bound``, ``goal``) and verdicts it drew.

    A bar's value is written at its end, moved right past a target mark it would cover."""
    drawn: Dict[str, bool] = {}
    values = [x for r in rows for x in (r["before"], r["after"]) if x is not None]
    values += [v["goal"] for r in rows for v in marks.get(r["metric"], ()) if v["goal"] is not None]
    top = max([0.0] + values)
    top = top if top > 0 else 1.0
    bottom = min([0.0] + values)
    xmax = top * 1.22
    ys = list(range(len(rows)))
    wrapped = [_wrap(r["metric"]) for r in rows]
    right = ["\n".join(_target_text(v) for v in marks.get(r["metric"], ())) for r in rows]
    # The axes' width, for the data span of a label and of a mark: the figure less the tick labels on both sides.
    axes_in = WIDTH_IN - _text_in("\n".join(wrapped), RC["ytick.labelsize"]) - _text_in("\n".join(right), RIGHT_SIZE) - 0.5
    per_in = (xmax - bottom) / max(axes_in, 2.0)
    pad, half = 0.05 * per_in, MARK_HALF_IN * per_in

    # The marks first: where they are decides where the values are written.
    on_bar: Dict[Tuple[int, str], List[float]] = {}
    colors: List[str] = []
    for y, row in zip(ys, rows):
        color = "black"
        for v in marks.get(row["metric"], ()):
            color = VERDICT_COLORS[v["verdict"]] if color == "black" else color
            drawn[v["verdict"]] = True
            if v["goal"] is None:
                continue
            if v["kind"] in ("max", "min"):
                ax.plot([v["goal"], v["goal"]], [y - 0.48, y + 0.48], linestyle=(0, (4, 2)), linewidth=2.2,
                        color=VERDICT_COLORS[v["verdict"]], zorder=5)
                on_bar.setdefault((y, "before"), []).append(v["goal"])
                drawn["bound"] = True
            else:
                ax.plot([v["goal"]], [y + BAR / 2], marker="D", markersize=MARK_PT, markerfacecolor=VERDICT_COLORS[v["verdict"]],
                        markeredgecolor="black", markeredgewidth=0.8, linestyle="none", zorder=7)
                drawn["goal"] = True
            on_bar.setdefault((y, "after"), []).append(v["goal"])
        colors.append(color)

    for series, offset, color in (("before", -BAR / 2, BEFORE_COLOR), ("after", BAR / 2, AFTER_COLOR)):
        for y, row in zip(ys, rows):
            value = row[series]
            if value is None:
                text, start, style = "not measured at %s" % labels[0 if series == "before" else 1], pad, "italic"
            else:
                ax.barh(y + offset, value, height=BAR, color=color, zorder=2)
                text, start, style = fmt_value(value, unit, row["digits"]), max(value, 0.0) + pad, "normal"
            width = _text_in(text, VALUE_SIZE) * per_in
            for x in sorted(on_bar.get((y, series), ())):
                if start - half <= x <= start + width + half:
                    start = x + half + pad
            ax.text(start, y + offset, text, va="center", ha="left", fontsize=VALUE_SIZE, style=style, zorder=6,
                    color=MISSING_COLOR if value is None else "black")
            xmax = max(xmax, start + width + pad)

    ax.set_yticks(ys, labels=wrapped)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(bottom, xmax)
    ax.set_xlabel(_axis_label(unit, rows))
    ax.grid(axis="x", color="#DDDDDD", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.spines["top"].set_visible(False)
    if any(right):
        sec = ax.secondary_yaxis("right")
        sec.set_yticks(ys, labels=right)
        sec.tick_params(axis="y", length=0, labelsize=RIGHT_SIZE)
        for label, color in zip(sec.get_yticklabels(), colors):
            label.set_color(color)
            label.set_fontweight("bold")
    else:
        ax.spines["right"].set_visible(False)
    return drawn


def figure_png(comparison: Mapping[str, Any], family: Mapping[str, Any]) -> bytes:
    """One family's chart as PNG bytes."""
    import matplotlib
    import matplotlib.style
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    labels = (comparison["before"]["label"], comparison["after"]["label"])
    marks: Dict[str, List[Mapping[str, Any]]] = {}
    for v in comparison["verdicts"]:
        marks.setdefault(v["metric"], []).append(v)
    panels = _panels(family["rows"])
    heights = [ROW_IN * len(rows) + PANEL_IN for _unit, rows in panels]
    with matplotlib.style.context("default"), matplotlib.rc_context(RC):
        fig = Figure(figsize=(WIDTH_IN, HEAD_IN + sum(heights)), dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(len(panels), 1, squeeze=False, height_ratios=heights)[:, 0]
        drawn: Dict[str, bool] = {}
        for ax, (unit, rows) in zip(axes, panels):
            drawn.update(_panel(ax, unit, rows, marks, labels))
        handles: List[Any] = [Patch(color=BEFORE_COLOR, label=labels[0]), Patch(color=AFTER_COLOR, label=labels[1])]
        if drawn.get("bound"):
            handles.append(Line2D([], [], linestyle=(0, (4, 2)), linewidth=2.2, color="black", label="target bound"))
        if drawn.get("goal"):
            handles.append(Line2D([], [], marker="D", markersize=8, markerfacecolor="white", markeredgecolor="black",
                                  linestyle="none", label="value %s must reach" % labels[1]))
        handles += [Patch(color=VERDICT_COLORS[v], label="target %s" % v) for v in VERDICT_COLORS if drawn.get(v)]
        # Above the first panel, under the title: never on the bars.
        axes[0].legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.02), ncols=len(handles),
                       frameon=False, handlelength=2.4, columnspacing=1.4, borderaxespad=0.2)
        fig.suptitle("%s: %s, %s vs %s" % (comparison["host"], family["title"], labels[0], labels[1]), fontweight="bold")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None}, facecolor="white")
    return buf.getvalue()


def compile_png(comparison: Mapping[str, Any], family: Mapping[str, Any]) -> bytes:
    """The compile family's chart as PNG bytes: speedup over one core against the core count, per label."""
    import matplotlib
    import matplotlib.style
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    labels = (comparison["before"]["label"], comparison["after"]["label"])
    rows = {r["metric"]: r for r in family["rows"]}
    cores = compile_cores(family["rows"])
    top = max(cores)
    # the efficiency target as a line: speedup = efficiency x cores
    slope = [(v["goal"] / 100.0, v) for v in comparison["verdicts"]
             if v["metric"] == "compile.scaling_efficiency_pct" and v["goal"] is not None]
    with matplotlib.style.context("default"), matplotlib.rc_context(RC):
        fig = Figure(figsize=(WIDTH_IN, COMPILE_HEIGHT_IN), dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        span = [1, top] if top > 1 else [1, 2]
        handles: List[Any] = []
        handles += ax.plot(span, span, linestyle=(0, (4, 2)), linewidth=1.8, color=IDEAL_COLOR,
                           label="linear scaling (speedup = cores), the plan's expectation")
        highest = float(span[1])
        for factor, v in slope:
            handles += ax.plot(span, [factor * x for x in span], linestyle=(0, (1, 1.5)), linewidth=2.4,
                               color=VERDICT_COLORS[v["verdict"]],
                               label="target: efficiency %s at the most cores (%s)" % (v["describe"], v["verdict"]))
        for side, color, marker in (("before", BEFORE_COLOR, "o"), ("after", AFTER_COLOR, "s")):
            points = [(n, rows["compile.cores_%d.speedup" % n][side]) for n in cores
                      if rows.get("compile.cores_%d.speedup" % n, {}).get(side) is not None]
            label = labels[0 if side == "before" else 1]
            if not points:
                handles.append(Line2D([], [], color=color, marker=marker, linestyle="none",
                                      label="%s: not measured" % label))
                continue
            handles += ax.plot([p[0] for p in points], [p[1] for p in points], color=color, marker=marker,
                               markersize=7, linewidth=2.2, label=label, zorder=5)
            for n, speedup in points:
                if n == 1:
                    continue
                eff = rows.get("compile.cores_%d.efficiency_pct" % n, {}).get(side)
                text = fmt_value(speedup, "x") + ("" if eff is None else " (%s)" % fmt_value(eff, "%"))
                ax.annotate(text, (n, speedup), xytext=(8, -16 if side == "before" else 9), textcoords="offset points",
                            fontsize=VALUE_SIZE, color="black", zorder=6,
                            bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.9))
                highest = max(highest, speedup)
        ax.set_xticks(cores)
        ax.set_xlim(0.5, span[1] + 0.5 + 0.12 * span[1])
        ax.set_ylim(0, highest * 1.12)
        ax.set_xlabel("cores (Nix's cores setting: NIX_BUILD_CORES of the builder)")
        ax.set_ylabel("speedup over 1 core (x), higher is better")
        ax.grid(color="#DDDDDD", linewidth=0.8)
        ax.set_axisbelow(True)
        ax.spines["top"].set_visible(False)
        ax.spines["right"].set_visible(False)
        ax.legend(handles=handles, loc="upper left", frameon=False, handlelength=3.0)
        fig.suptitle("%s: %s, %s vs %s" % (comparison["host"], family["title"], labels[0], labels[1]), fontweight="bold")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None}, facecolor="white")
    return buf.getvalue()


def render_bytes(comparison: Mapping[str, Any]) -> Dict[str, bytes]:
    """Family name -> PNG bytes, for every family with data."""
    return {family["name"]: (compile_png if family["name"] == "compile" and compile_cores(family["rows"]) else figure_png)(
        comparison, family) for family in comparison["families"] if family["rows"]}


def render(comparison: Mapping[str, Any], out_dir: str) -> Dict[str, str]:
    """Write one PNG per family with data into ``out_dir``; family name -> file name (``chart_filename``)."""
    os.makedirs(out_dir, exist_ok=True)
    out: Dict[str, str] = {}
    for family, data in render_bytes(comparison).items():
        name = chart_filename(comparison, family)
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)
        out[family] = name
    return out
