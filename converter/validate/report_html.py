"""The HTML validation report: one self-contained page a person can read at a glance.

Inline CSS, inline SVG charts drawn here, a few lines of JS (click a table header to sort); no
network, fonts or images, so the file can be mailed or attached to a CI run. Model names and
messages are user data: every text goes through `html.escape`. The same frame renders the same
bytes (no timestamps, no hash-ordered sets).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from converter.validate.report import (
    CHANGES_HEADING,
    COLUMNS,
    DEFAULT_TITLE,
    FAILED_STATUSES,
    NOTHING_CHANGED,
    PRECISION_ORDER,
    change_tone,
    conform,
    conform_changes,
    format_bytes,
    format_cosine,
    format_number,
    format_percent,
    summary_counts,
    variant_label,
)

GRID_VARIANTS = ("source", "fp32/onnxruntime", "fp32/openvino", "fp16/onnxruntime", "fp16/openvino")
PRECISION_COLORS = {"source": "#8c959f", "fp32": "#0969da", "fp16": "#e16f24"}
EXTRA_COLORS = ("#8250df", "#1b7c83", "#bf3989", "#4d2d00")
ERROR_FLOOR = 1e-9
WIDTH, LABEL_WIDTH, ROW_HEIGHT = 1160, 250, 24
LABEL_CHARS = 36


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_html(frame: pd.DataFrame, title: str = DEFAULT_TITLE, changes: pd.DataFrame | None = None) -> str:
    frame = conform(frame)
    sections = [_summary_strip(frame)]
    if changes is not None:
        sections.append(_section("changes", CHANGES_HEADING, _changes_table(conform_changes(changes))))
    if frame.empty:
        sections.append('<p class="empty">No models in this report.</p>')
    else:
        sections += [
            _section("grid", "Pass/fail at a glance", _status_grid(frame)),
            _section("sizes", "Size per model and precision", _size_chart(frame)),
            _section("errors", "Error per model, FP32 vs FP16", _error_chart(frame)),
        ]
        if frame[["accuracy", "top1_agreement"]].notna().any().any():
            sections.append(_section("accuracy", "Accuracy and top-1 agreement per variant", _accuracy_chart(frame)))
        sections.append(_section("table", "All results", _full_table(frame)))
    body = "\n".join(sections)
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n<h1>{_e(title)}</h1>\n{body}\n<script>{SORT_JS}</script>\n</body>\n</html>\n"
    )


def _section(anchor: str, heading: str, content: str) -> str:
    return f'<section id="{anchor}">\n<h2>{_e(heading)}</h2>\n{content}\n</section>'


# --- summary and grid ------------------------------------------------------------------------


def _summary_strip(frame: pd.DataFrame) -> str:
    counts = summary_counts(frame)
    cards = [
        ("models", "models", counts["models"]),
        ("variants", "variants", counts["variants"]),
        ("pass", "passed", counts["passed"]),
        ("fail", "failed", counts["failed"]),
        ("error", "errors", counts["errors"]),
    ]
    items = "".join(
        f'<div class="card {kind}{" zero" * (count == 0)}"><b>{count}</b><span>{label}</span></div>'
        for kind, label, count in cards
    )
    return f'<section id="summary" class="summary">{items}</section>'


def _changes_table(changes: pd.DataFrame) -> str:
    """One line per change, red for the worse, green for the better (a fix), plain otherwise."""
    if changes.empty:
        return f'<p class="nothing">{_e(NOTHING_CHANGED)}</p>'
    lines = []
    for row in changes.itertuples():
        cells = [
            f'<td class="text">{_e(row.model)}</td>',
            f'<td class="text">{_e(variant_label(row.precision, row.backend))}</td>',
            f'<td class="kind">{_e(row.change)}</td>',
            f'<td class="num">{_e(row.before or "—")}</td>',
            '<td class="arrow">→</td>',
            f'<td class="num">{_e(row.after or "—")}</td>',
        ]
        lines.append(f'<tr class="{change_tone(row.change)}">{"".join(cells)}</tr>')
    header = "<th>model</th><th>variant</th><th>change</th><th>before</th><th></th><th>after</th>"
    return f'<table class="changes"><thead><tr>{header}</tr></thead><tbody>{"".join(lines)}</tbody></table>'


def _grid_key(row: object) -> str:
    return "source" if row.precision == "source" else variant_label(row.precision, row.backend)


def _status_grid(frame: pd.DataFrame) -> str:
    keys = [_grid_key(row) for row in frame.itertuples()]
    extra = [key for key in dict.fromkeys(keys) if key not in GRID_VARIANTS]
    variants = list(GRID_VARIANTS) + extra
    cells = {(row.model, key): row for row, key in zip(frame.itertuples(), keys)}
    header = "".join(f"<th>{_e(variant)}</th>" for variant in variants)
    lines = []
    for model in frame["model"].unique():
        row_cells = "".join(_grid_cell(cells.get((model, variant))) for variant in variants)
        lines.append(f'<tr><th class="name" title="{_e(model)}">{_e(model)}</th>{row_cells}</tr>')
    return f'<table class="grid"><thead><tr><th>model</th>{header}</tr></thead><tbody>{"".join(lines)}</tbody></table>'


def _grid_cell(row: object | None) -> str:
    if row is None:
        return '<td class="cell missing" title="not run">—</td>'
    tooltip = row.message or f"{row.status}{f' ({row.metric})' if row.metric else ''}"
    value = _verdict_value(row)
    if value:
        detail = f"<small>{_e(row.metric)} {_e(value)}</small>"
    else:
        detail = f"<small>{_e(_short(row.message, 24))}</small>" if row.message else ""
    return f'<td class="cell {_e(row.status)}" title="{_e(tooltip)}">{_e(row.status)}{detail}</td>'


def _verdict_value(row: object) -> str:
    """The number the verdict used, formatted: 1.2e-06 for max_rel, 97.22% for accuracy."""
    column = {"top1": "top1_agreement", "top5": "top5_agreement"}.get(row.metric, row.metric)
    if column not in COLUMNS or COLUMNS[column] != "float64":
        return ""
    value = getattr(row, column)
    return format_percent(value) if column in PERCENT_COLUMNS else format_number(value)


# --- SVG charts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    name: str
    color: str
    shape: str = "circle"  # "diamond", "square"


@dataclass(frozen=True)
class Axis:
    lo: float
    hi: float
    log: bool
    ticks: tuple[tuple[float, str], ...]

    def fraction(self, value: float) -> float:
        if self.log:
            value, lo, hi = math.log10(value), math.log10(self.lo), math.log10(self.hi)
        else:
            lo, hi = self.lo, self.hi
        return min(max((value - lo) / (hi - lo), 0.0), 1.0)


def _svg(height: int, content: Sequence[str], label: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" '
        f'aria-label="{_e(label)}">\n' + "\n".join(content) + "\n</svg>"
    )


def _legend(series: Sequence[Series], y: int = 14) -> list[str]:
    parts, x = [], LABEL_WIDTH
    for item in series:
        parts.append(_marker(item, x + 6, y - 4) + f'<text x="{x + 16}" y="{y}">{_e(item.name)}</text>')
        x += 30 + 8 * len(item.name)
    return parts


def _marker(series: Series, x: float, y: float, tooltip: str = "") -> str:
    title = f"<title>{_e(tooltip)}</title>" if tooltip else ""
    if series.shape == "diamond":
        points = f"{x:.1f},{y - 6:.1f} {x + 6:.1f},{y:.1f} {x:.1f},{y + 6:.1f} {x - 6:.1f},{y:.1f}"
        return f'<polygon points="{points}" fill="{series.color}">{title}</polygon>'
    if series.shape == "square":
        return f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" fill="{series.color}">{title}</rect>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{series.color}">{title}</circle>'


def _row_label(text: str, y: float) -> str:
    return f'<text class="label" x="{LABEL_WIDTH - 10}" y="{y:.1f}"><title>{_e(text)}</title>{_e(_short(text))}</text>'


def _axis_lines(axis: Axis, x0: int, plot_width: int, top: int, bottom: int) -> list[str]:
    parts = []
    for value, label in axis.ticks:
        x = x0 + axis.fraction(value) * plot_width
        parts.append(f'<line class="grid" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}"/>')
        parts.append(f'<text class="tick" x="{x:.1f}" y="{bottom + 14}">{_e(label)}</text>')
    return parts


def _nice_step(rough: float) -> float:
    magnitude = 10 ** math.floor(math.log10(rough))
    return next(step * magnitude for step in (1, 2, 5, 10) if step * magnitude >= rough)


def _size_chart(frame: pd.DataFrame) -> str:
    sizes = _sizes_per_model(frame)
    series = [Series(name, PRECISION_COLORS[key], "square") for key, name in SIZE_SERIES if sizes[key].notna().any()]
    keys = [key for key, name in SIZE_SERIES if sizes[key].notna().any()]
    if not keys:
        return '<p class="note">No sizes recorded.</p>'
    axis = _bytes_axis(float(sizes[keys].max().max()))
    bar, gap, pad, top, value_width = 12, 2, 12, 30, 90
    plot_width = WIDTH - LABEL_WIDTH - value_width
    group = len(keys) * (bar + gap) - gap + pad
    bottom = top + group * len(sizes)
    parts = _legend(series) + _axis_lines(axis, LABEL_WIDTH, plot_width, top, bottom)
    for index, (model, values) in enumerate(sizes.iterrows()):
        y0 = top + pad / 2 + index * group
        parts.append(_row_label(model, y0 + (group - pad) / 2 + 4))
        for slot, (key, item) in enumerate(zip(keys, series)):
            y, value = y0 + slot * (bar + gap), values[key]
            if pd.isna(value):
                continue
            width = max(axis.fraction(float(value)) * plot_width, 1.0)
            tip = f"{model} {item.name}: {format_bytes(value)} ({int(value):,} bytes)"
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y:.1f}" width="{width:.1f}" height="{bar}" fill="{item.color}">'
                f"<title>{_e(tip)}</title></rect>"
                f'<text class="value" x="{LABEL_WIDTH + width + 4:.1f}" y="{y + bar - 2:.1f}">{_e(format_bytes(value))}</text>'
            )
    return _svg(bottom + 22, parts, "bytes per model and precision")


SIZE_SERIES = (("source", "source"), ("fp32", "FP32 xml+bin"), ("fp16", "FP16 xml+bin"))


def _sizes_per_model(frame: pd.DataFrame) -> pd.DataFrame:
    """Bytes per model (rows, in report order) for the source file, FP32 and FP16 (backends share them)."""
    models = pd.Index(frame["model"].unique())
    ir_bytes = (frame["xml_bytes"] + frame["bin_bytes"]).astype("float64")
    columns = {"source": frame["source_bytes"].astype("float64").groupby(frame["model"]).max()}
    for precision in ("fp32", "fp16"):
        columns[precision] = ir_bytes.where(frame["precision"] == precision).groupby(frame["model"]).max()
    return pd.DataFrame(columns).reindex(models)


def _bytes_axis(largest: float) -> Axis:
    unit = 1024 ** max(0, min(3, int(math.log(max(largest, 1), 1024))))
    step = _nice_step(max(largest, 1) / 4 / unit) * unit
    ticks = tuple((step * i, format_bytes(step * i)) for i in range(int(largest // step) + 2))
    return Axis(0.0, ticks[-1][0], False, ticks)


def _error_chart(frame: pd.DataFrame) -> str:
    variants = frame[~frame["precision"].isin(["source", ""])]
    precisions = _ordered_precisions(variants["precision"])
    worst = variants.pivot_table(index="model", columns="precision", values="max_rel", aggfunc="max", dropna=False)
    worst = worst.reindex(index=pd.Index(frame["model"].unique()), columns=precisions)
    series = [Series(p.upper(), _precision_color(p), "circle" if i % 2 == 0 else "diamond") for i, p in enumerate(precisions)]
    if not worst.notna().any().any():
        return '<p class="note">No max_rel recorded.</p>'
    axis = _error_axis(worst.stack())
    rows = [(str(model), [(i, values[p]) for i, p in enumerate(precisions)]) for model, values in worst.iterrows()]
    chart = _dot_plot(rows, series, axis, _error_point, "worst max_rel over backends per model")
    note = (
        f"Log scale; each marker is the worst max_rel over the backends. Exact results (0) are drawn at "
        f"{ERROR_FLOOR:.0e}, infinite ones on the last (inf) line; models without a value have no marker."
    )
    return chart + f'\n<p class="note">{_e(note)}</p>'


def _error_axis(values: pd.Series) -> Axis:
    """Decades spanning the values; 0 sits at ERROR_FLOOR and inf on an extra decade labelled "inf"."""
    finite = values[(values > 0) & (values < math.inf)]
    lo_exp = math.floor(math.log10(max(finite.min(), ERROR_FLOOR))) if not finite.empty else -3
    if (values == 0).any():
        lo_exp = math.floor(math.log10(ERROR_FLOOR))
    hi_exp = max(math.ceil(math.log10(finite.max())) if not finite.empty else 0, lo_exp + 1)
    labels = {e: f"1e{e}" for e in range(lo_exp, hi_exp + 1)}
    if (values == math.inf).any():
        hi_exp += 1
        labels[hi_exp] = "inf"
    return Axis(10.0**lo_exp, 10.0**hi_exp, True, tuple((10.0**e, label) for e, label in labels.items()))


def _error_point(value: float, axis: Axis) -> tuple[float, str]:
    if value == 0:
        return axis.lo, "0"
    return min(max(value, axis.lo), axis.hi), format_number(value)


def _ordered_precisions(precisions: pd.Series) -> list[str]:
    present = list(dict.fromkeys(precisions))
    return [p for p in PRECISION_ORDER if p in present] + sorted(p for p in present if p not in PRECISION_ORDER)


def _precision_color(precision: str) -> str:
    if precision in PRECISION_COLORS:
        return PRECISION_COLORS[precision]
    return EXTRA_COLORS[sum(map(ord, precision)) % len(EXTRA_COLORS)]  # stable, unlike hash()


PERCENT_COLUMNS = ("accuracy", "top1_agreement", "top5_agreement")


PERCENT_SERIES = (
    ("accuracy", Series("accuracy", "#1a7f37", "circle")),
    ("top1_agreement", Series("top-1 agreement", "#8250df", "diamond")),
)


def _accuracy_chart(frame: pd.DataFrame) -> str:
    """One line per variant with an accuracy or a top-1 agreement (the source row has no agreement)."""
    present = [(column, series) for column, series in PERCENT_SERIES if frame[column].notna().any()]
    columns = [column for column, _ in present]
    shown = frame[frame[columns].notna().any(axis=1)]
    rows = [
        (f"{row.model} · {variant_label(row.precision, row.backend)}", [(i, getattr(row, c)) for i, c in enumerate(columns)])
        for row in shown.itertuples()
    ]
    axis = _percent_axis(float(shown[columns].min().min()))
    place = lambda value, axis: (value, format_percent(value))  # noqa: E731
    return _dot_plot(rows, [series for _, series in present], axis, place, "accuracy and top-1 agreement per variant")


def _percent_axis(lowest: float) -> Axis:
    """From a round percentage a little below the lowest value up to 100%."""
    step = _nice_step(max(1.0 - lowest, 0.01) / 4)
    lo = math.floor(lowest / step) * step
    if lowest - lo < step / 4:  # keep markers off the left edge
        lo -= step
    lo = max(lo, 0.0)
    decimals = 0 if step >= 0.01 else 1
    ticks = tuple((lo + step * i, f"{lo + step * i:.{decimals}%}") for i in range(round((1.0 - lo) / step) + 1))
    return Axis(lo, 1.0, False, ticks)


def _dot_plot(
    rows: Sequence[tuple[str, Sequence[tuple[int, float]]]],
    series: Sequence[Series],
    axis: Axis,
    place: Callable[[float, Axis], tuple[float, str]],
    label: str,
) -> str:
    """One line per row, a marker per series value, the values spelled out on the right."""
    top, value_width = 30, 320
    plot_width = WIDTH - LABEL_WIDTH - value_width
    bottom = top + ROW_HEIGHT * len(rows)
    parts = _legend(series) + _axis_lines(axis, LABEL_WIDTH, plot_width, top, bottom)
    for index, (name, points) in enumerate(rows):
        y = top + index * ROW_HEIGHT + ROW_HEIGHT / 2
        parts.append(_row_label(name, y + 4))
        placed = [(series[i], *place(float(v), axis)) for i, v in points if not pd.isna(v)]
        xs = [LABEL_WIDTH + axis.fraction(v) * plot_width for _, v, _ in placed]
        if len(xs) > 1:
            parts.append(f'<line class="span" x1="{min(xs):.1f}" y1="{y:.1f}" x2="{max(xs):.1f}" y2="{y:.1f}"/>')
        parts.append(f'<line class="row" x1="{LABEL_WIDTH}" y1="{y:.1f}" x2="{LABEL_WIDTH + plot_width}" y2="{y:.1f}"/>')
        texts = []
        for (item, _, text), x in zip(placed, xs):
            parts.append(_marker(item, x, y, f"{name} {item.name}: {text}"))
            texts.append(f'<tspan fill="{item.color}">{_e(item.name)}</tspan> {_e(text)}')
        summary = "   ".join(texts) if texts else "—"
        parts.append(f'<text class="value" x="{LABEL_WIDTH + plot_width + 12}" y="{y + 4:.1f}">{summary}</text>')
    return _svg(bottom + 22, parts, label)


# --- the full table --------------------------------------------------------------------------


def _cell_text(column: str, value: object) -> str:
    if column in PERCENT_COLUMNS:
        return format_percent(value)
    if column.endswith("_bytes"):
        return format_bytes(value)
    if column == "cached":
        return "yes" if value else ""
    if COLUMNS[column] == "str":
        return str(value)
    return format_cosine(value) if column == "cosine" else format_number(value)


def _cell_class(column: str) -> str:
    return "message" if column == "message" else "text" if COLUMNS[column] == "str" else "num"


def _sort_key(column: str, value: object) -> str:
    if COLUMNS[column] == "str":
        return str(value)
    if pd.isna(value):
        return ""
    number = float(value)
    return repr(number) if math.isfinite(number) else ("Infinity" if number > 0 else "-Infinity")  # JS Number()


def _full_table(frame: pd.DataFrame) -> str:
    columns = [c for c in COLUMNS if _informative(frame[c])]
    header = "".join(f'<th title="click to sort">{_e(c)}</th>' for c in columns)
    lines = []
    for row in frame.itertuples(index=False):
        values = row._asdict()
        cells = "".join(
            f'<td class="{_cell_class(c)}" data-sort="{_e(_sort_key(c, values[c]))}">'
            f"{_e(_cell_text(c, values[c]))}</td>"
            for c in columns
        )
        failed = " failed" if row.status in FAILED_STATUSES else ""
        lines.append(f'<tr class="{_e(row.status)}{failed}">{cells}</tr>')
    return (
        f'<div class="scroll"><table class="results sortable"><thead><tr>{header}</tr></thead>'
        f'<tbody>{"".join(lines)}</tbody></table></div>'
    )


def _informative(values: pd.Series) -> bool:
    if values.dtype == bool:
        return bool(values.any())
    if values.dtype == "str":
        return bool((values != "").any())
    return bool(values.notna().any())


CSS = """
:root{--pass:#1a7f37;--pass-bg:#dafbe1;--fail:#cf222e;--fail-bg:#ffebe9;--error:#9a6700;--error-bg:#fff8c5;
--ref:#57606a;--ref-bg:#eaeef2;--line:#d0d7de;--text:#1f2328;--muted:#656d76}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--text);
margin:0 auto;padding:24px 32px;max-width:1280px;background:#fff}
h1{font-size:24px;margin:0 0 16px}h2{font-size:17px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
.summary{display:flex;gap:12px;flex-wrap:wrap}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 18px;min-width:120px;border-left-width:6px}
.card b{display:block;font-size:26px;line-height:1.1}.card span{color:var(--muted)}
.card.pass{border-left-color:var(--pass)}.card.pass b{color:var(--pass)}
.card.fail{border-left-color:var(--fail)}.card.fail b{color:var(--fail)}
.card.error{border-left-color:var(--error)}.card.error b{color:var(--error)}
.card.zero b{color:var(--muted)}
table{border-collapse:collapse}
.grid th,.grid td{border:2px solid #fff;padding:6px 10px;text-align:center;white-space:nowrap}
.grid thead th{font-weight:600;color:var(--muted);font-size:12px}
.grid th.name{text-align:right;max-width:280px;overflow:hidden;text-overflow:ellipsis;font-weight:600}
.cell{min-width:120px;font-weight:600;border-radius:4px}.cell small{display:block;font-weight:400;font-size:11px;opacity:.8}
.cell.pass{background:var(--pass-bg);color:var(--pass)}.cell.fail{background:var(--fail-bg);color:var(--fail)}
.cell.error{background:var(--error-bg);color:var(--error)}.cell.reference{background:var(--ref-bg);color:var(--ref)}
.cell.missing{background:#f6f8fa;color:#8c959f;font-weight:400}
svg.chart{max-width:100%;height:auto;font-size:12px;display:block}
svg text{fill:var(--text)}svg .label{text-anchor:end}svg .tick{text-anchor:middle;fill:var(--muted);font-size:11px}
svg .value{fill:var(--muted);font-size:11px}svg .grid{stroke:#eaeef2}svg .row{stroke:#f3f4f6}
svg .span{stroke:#afb8c1;stroke-width:2}
.note{color:var(--muted);font-size:12px;margin:4px 0 0}
.empty{font-size:16px;color:var(--muted)}
.scroll{overflow-x:auto}
.results{font-size:12px;width:100%}
.results th{position:sticky;top:0;background:#f6f8fa;cursor:pointer;text-align:left;padding:6px 8px;border-bottom:2px solid var(--line);white-space:nowrap}
.results th[aria-sort=ascending]::after{content:" \\25B2"}.results th[aria-sort=descending]::after{content:" \\25BC"}
.results td{padding:4px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
.results td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.results td.text{white-space:nowrap}.results td.message{white-space:normal;min-width:320px;overflow-wrap:anywhere}
.results tr.failed td{background:var(--fail-bg)}.results tr.error td{background:var(--error-bg)}
.results tr.reference td{color:var(--ref)}
.changes{font-size:13px}.changes th{text-align:left;color:var(--muted);font-weight:600;font-size:12px;padding:4px 10px}
.changes td{padding:4px 10px;border-bottom:1px solid #fff;white-space:nowrap}
.changes td.num{text-align:right;font-variant-numeric:tabular-nums}.changes td.arrow{color:var(--muted);padding:4px 0}
.changes td.kind{font-weight:600}
.changes tr.worse td{background:var(--fail-bg)}.changes tr.worse td.kind{color:var(--fail)}
.changes tr.better td{background:var(--pass-bg)}.changes tr.better td.kind{color:var(--pass)}
.changes tr.neutral td{background:#f6f8fa}
.nothing{color:var(--muted)}
"""

# Click a header to sort by it; numbers compare as numbers, empty cells go last.
SORT_JS = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  var headers = table.querySelectorAll("thead th");
  headers.forEach(function (th, column) {
    th.addEventListener("click", function () {
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[column].getAttribute("data-sort"), y = b.cells[column].getAttribute("data-sort");
        if (x === y) { return 0; }
        if (x === "") { return 1; }
        if (y === "") { return -1; }
        var order = (isNaN(x) || isNaN(y)) ? x.localeCompare(y) : Number(x) - Number(y);
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""
