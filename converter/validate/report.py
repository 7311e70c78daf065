"""The validation report: one tidy table, a row per model × precision × backend.

A validation run (``irforge zoo``) produces, for every model, a ``reference`` row for the source
model run in its own framework (precision ``source``) and one row per IR variant (``fp32``/``fp16``
× ``onnxruntime``/``openvino``) whose ``status`` is ``pass``, ``fail`` or ``error``. ``metric``
names the number the verdict used and ``message`` says why a variant failed. A model that could
not even be loaded or converted gets a single ``error`` row with empty precision and backend.

`to_frame` builds the table (fixed columns and dtypes, deterministic order), `write_reports`
writes it as CSV, Parquet, Markdown and a self-contained HTML page (see `report_html`), and
`read_report` loads a written report back with its dtypes. Given the changes since the last run
(`history.changes_since`), the Markdown and HTML open with them and `changes.csv` lists them.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from converter.errors import InvalidModelError
from converter.files import atomic_write_bytes, atomic_write_text

DEFAULT_TITLE = "irforge validation report"

COLUMNS: dict[str, str] = {
    "model": "str",
    "framework": "str",
    "precision": "str",
    "backend": "str",
    "status": "str",
    "cached": "bool",
    "metric": "str",
    "message": "str",
    "max_abs": "float64",
    "max_rel": "float64",
    "cosine": "float64",
    "top1_agreement": "float64",
    "top5_agreement": "float64",
    "accuracy": "float64",
    "max_rel_vs_fp32": "float64",
    "samples": "Int64",
    "worst_output": "str",
    "source_bytes": "Int64",
    "xml_bytes": "Int64",
    "bin_bytes": "Int64",
    "size_ratio": "float64",
    "ops": "Int64",
    "convert_s": "float64",
    "latency_ms": "float64",
}
REQUIRED_COLUMNS = ("model", "precision", "backend", "status")
PRECISION_ORDER = ("source", "fp32", "fp16", "int8")
FAILED_STATUSES = ("fail", "error")
FILE_NAMES = {"csv": "report.csv", "parquet": "report.parquet", "md": "report.md", "html": "report.html"}
CHANGES_FILE_NAME = "changes.csv"

# "Changed since the last run" (see history.changes_since): a row per change, and how each kind
# reads: worse (red), better (green) or neutral.
CHANGE_COLUMNS = ("model", "precision", "backend", "change", "before", "after")
CHANGE_TONES: dict[str, str] = {
    "new model": "neutral",
    "removed model": "neutral",
    "new failure": "worse",
    "fixed": "better",
    "accuracy regression": "worse",
    "top-1 regression": "worse",
    "size regression": "worse",
    "error regression": "worse",
}
CHANGES_HEADING = "Changed since the last run"
NOTHING_CHANGED = "Nothing changed since the last run."


# --- the table -------------------------------------------------------------------------------


def to_frame(rows: Iterable[Mapping]) -> pd.DataFrame:
    """The report table from row mappings; missing keys become NA/NaN/"" (``cached``: False)."""
    records = [dict(row) for row in rows]
    _reject_unknown(sorted({key for record in records for key in record}))
    frame = conform(pd.DataFrame.from_records(records, columns=list(COLUMNS)))
    return _with_size_ratio(sort_rows(frame))


def _reject_unknown(names: Sequence[object]) -> None:
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        raise ValueError(f"unknown report columns: {', '.join(map(repr, unknown))}")


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column of COLUMNS, in order, with its dtype; absent columns take their default."""
    columns = {}
    for name, dtype in COLUMNS.items():
        values = frame[name] if name in frame else pd.Series([pd.NA] * len(frame), dtype=object)
        columns[name] = _coerce(values.reset_index(drop=True), dtype)
    return pd.DataFrame(columns, index=pd.RangeIndex(len(frame)))


def _coerce(values: pd.Series, dtype: str) -> pd.Series:
    if dtype == "str":
        return values.astype(object).where(values.notna(), "").astype("str")
    if dtype == "bool":
        text = values.astype(object).where(values.notna(), False).map(_as_bool)
        return text.astype(bool)
    cells = values.astype(object).where(values.notna() & (values.astype(object) != ""), None)
    return pd.to_numeric(cells, dtype_backend="numpy_nullable").astype(dtype)


def _as_bool(value: object) -> bool:
    if isinstance(value, str):  # CSV cells
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def sort_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows in report order: model, precision (source, fp32, fp16, then others), backend."""
    rank = frame["precision"].map(lambda p: PRECISION_ORDER.index(p) if p in PRECISION_ORDER else len(PRECISION_ORDER))
    keys = pd.DataFrame({"model": frame["model"], "rank": rank, "precision": frame["precision"], "backend": frame["backend"]})
    order = keys.sort_values(list(keys.columns), kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def _with_size_ratio(frame: pd.DataFrame) -> pd.DataFrame:
    """Fill size_ratio where missing: the variant's xml+bin over its model's FP32 xml+bin."""
    ir_bytes = frame["xml_bytes"] + frame["bin_bytes"]
    fp32_bytes = ir_bytes.where(frame["precision"] == "fp32").groupby(frame["model"]).transform("max")
    derived = (ir_bytes / fp32_bytes).astype("float64").where(frame["precision"] != "source")
    frame["size_ratio"] = frame["size_ratio"].fillna(derived)
    return frame


# --- files -----------------------------------------------------------------------------------


def write_reports(
    frame: pd.DataFrame, directory: Path, title: str = DEFAULT_TITLE, changes: pd.DataFrame | None = None
) -> dict[str, Path]:
    """Write report.csv, .parquet, .md and .html into `directory`, each atomically.

    With `changes` (even empty) the Markdown and HTML list them and changes.csv is written too;
    without, a changes.csv already there is removed.
    """
    _reject_unknown(list(frame.columns))  # conform() would silently drop them
    frame = conform(frame)
    changes = None if changes is None else conform_changes(changes)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    parquet = io.BytesIO()
    frame.to_parquet(parquet, index=False)
    contents = {
        "csv": frame.to_csv(index=False, lineterminator="\n").encode(),
        "parquet": parquet.getvalue(),
        "md": render_markdown(frame, title, changes).encode(),
        "html": render_html(frame, title, changes).encode(),
    }
    paths = {}
    for kind, data in contents.items():
        paths[kind] = directory / FILE_NAMES[kind]
        atomic_write_bytes(paths[kind], data)
    if changes is None:  # one left by an earlier run would read as this report's
        (directory / CHANGES_FILE_NAME).unlink(missing_ok=True)
    else:
        paths["changes"] = atomic_write_text(directory / CHANGES_FILE_NAME, changes.to_csv(index=False, lineterminator="\n"))
    return paths


def conform_changes(changes: pd.DataFrame) -> pd.DataFrame:
    """The CHANGE_COLUMNS of a changes table, in order, as strings."""
    missing = [name for name in CHANGE_COLUMNS if name not in changes]
    if missing:
        raise ValueError(f"changes without columns: {', '.join(missing)}")
    columns = {name: _coerce(changes[name].reset_index(drop=True), "str") for name in CHANGE_COLUMNS}
    return pd.DataFrame(columns, index=pd.RangeIndex(len(changes)))


def change_tone(change: str) -> str:
    """"worse", "better" or "neutral" (kinds this version does not know)."""
    return CHANGE_TONES.get(change, "neutral")


def write_output_rows(outputs: Sequence[Mapping], directory: Path) -> Path | None:
    """Per-output metrics (a row per model × precision × backend × output) as outputs.csv."""
    if not outputs:
        return None
    return atomic_write_text(Path(directory) / "outputs.csv", pd.DataFrame(list(outputs)).to_csv(index=False))


def read_report(path: Path) -> pd.DataFrame:
    """A written report (its directory, a .csv or a .parquet) with the report's dtypes."""
    path = _report_file(Path(path))
    try:
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            # Every cell as text first: "" is an empty string, not NaN, and floats round-trip exactly.
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, float_precision="round_trip")
    except (OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise InvalidModelError(f"{path}: not a readable report: {error}") from error
    missing = [name for name in REQUIRED_COLUMNS if name not in frame]
    unknown = [name for name in frame if name not in COLUMNS]
    if missing or unknown:
        problems = [f"missing columns {', '.join(missing)}"] * bool(missing)
        problems += [f"unknown columns {', '.join(map(str, unknown))}"] * bool(unknown)
        raise InvalidModelError(f"{path}: not an irforge report: {'; '.join(problems)}")
    try:
        return conform(frame)
    except (ValueError, TypeError) as error:
        raise InvalidModelError(f"{path}: not an irforge report: {error}") from error


def _report_file(path: Path) -> Path:
    if path.is_dir():
        for name in (FILE_NAMES["parquet"], FILE_NAMES["csv"]):
            if (path / name).is_file():
                return path / name
        raise InvalidModelError(f"{path}: no {FILE_NAMES['parquet']} or {FILE_NAMES['csv']} in this directory")
    if not path.is_file():
        raise InvalidModelError(f"{path}: no such report")
    if path.suffix not in (".csv", ".parquet"):
        raise InvalidModelError(f"{path}: a report is a directory, a .csv or a .parquet file")
    return path


# --- numbers for people ----------------------------------------------------------------------


def format_number(value: object, digits: int = 4) -> str:
    """1.2e-06, 0.9999, 12.5; "" for NA."""
    if value is None or pd.isna(value):
        return ""
    number = float(value)
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    if number == 0:
        return "0"
    if 1e-3 <= abs(number) < 1e5:
        return f"{number:.{digits}g}"
    return f"{number:.2g}"


def format_cosine(value: object) -> str:
    """Enough digits that a cosine short of 1 never prints as 1: 0.9999999."""
    text = format_number(value)
    for digits in range(5, 17):
        if text != "1" or float(value) == 1:
            break
        text = format_number(value, digits)
    return text


def format_percent(value: object) -> str:
    return "" if value is None or pd.isna(value) else f"{float(value):.2%}"


def format_bytes(value: object) -> str:
    """512 B, 12.3 KiB, 4.56 MiB; "" for NA."""
    if value is None or pd.isna(value):
        return ""
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(size) < 1024 or unit == "GiB":
            break
        size /= 1024
    if unit == "B":
        return f"{int(size)} B"
    return f"{size:.3g} {unit}" if size < 1000 else f"{size:.0f} {unit}"


def variant_bytes(frame: pd.DataFrame) -> pd.Series:
    """Bytes on disk per row: the source file for source rows, xml+bin for IR rows."""
    ir_bytes = frame["xml_bytes"] + frame["bin_bytes"]
    return ir_bytes.where(frame["precision"] != "source", frame["source_bytes"])


def variant_label(precision: str, backend: str) -> str:
    """"fp16/openvino", "source/onnxruntime"; "whole model" for a row with neither (a model that failed early)."""
    return "/".join(part for part in (precision, backend) if part) or "whole model"


def summary_counts(frame: pd.DataFrame) -> dict[str, int]:
    status = frame["status"]
    return {
        "models": int(frame["model"].nunique()),
        "variants": int((status != "reference").sum()),
        "passed": int((status == "pass").sum()),
        "failed": int((status == "fail").sum()),
        "errors": int((status == "error").sum()),
    }


def summary_line(frame: pd.DataFrame) -> str:
    counts = summary_counts(frame)
    if not counts["models"]:
        return "No models in this report."
    models = f"{counts['models']} model{'s' * (counts['models'] != 1)}"
    variants = f"{counts['variants']} variant{'s' * (counts['variants'] != 1)}"
    errors = f"{counts['errors']} error{'s' * (counts['errors'] != 1)}"
    return f"{models}, {variants}: {counts['passed']} passed, {counts['failed']} failed, {errors}."


# --- markdown --------------------------------------------------------------------------------

MARKDOWN_COLUMNS: dict[str, tuple[str, object]] = {
    # header, cell formatter (a column name or a function of the row)
    "model": ("model", "model"),
    "precision": ("precision", "precision"),
    "backend": ("backend", "backend"),
    "status": ("status", lambda row: f"**{row.status}**" if row.status in FAILED_STATUSES else row.status),
    "metric": ("metric", "metric"),
    "max_rel": ("max_rel", lambda row: format_number(row.max_rel)),
    "cosine": ("cosine", lambda row: format_cosine(row.cosine)),
    "top1_agreement": ("top-1", lambda row: format_percent(row.top1_agreement)),
    "accuracy": ("accuracy", lambda row: format_percent(row.accuracy)),
    "bytes": ("size", lambda row: format_bytes(row.bytes)),
    "size_ratio": ("vs FP32", lambda row: format_number(row.size_ratio, 3)),
    "ops": ("ops", lambda row: format_number(row.ops)),
    "latency_ms": ("latency ms", lambda row: format_number(row.latency_ms, 3)),
}
ALWAYS_SHOWN = ("model", "precision", "backend", "status")


def render_markdown(frame: pd.DataFrame, title: str = DEFAULT_TITLE, changes: pd.DataFrame | None = None) -> str:
    """A GitHub-flavored Markdown report: summary line, the changes since the last run (when
    given), one table, the failures with their messages."""
    frame = conform(frame)
    parts = [f"# {_markdown_text(title)}", summary_line(frame)]
    if changes is not None:
        parts.append(f"## {CHANGES_HEADING}\n\n" + _markdown_changes(conform_changes(changes)))
    if len(frame):
        table = frame.assign(bytes=variant_bytes(frame))
        shown = [name for name in MARKDOWN_COLUMNS if name in ALWAYS_SHOWN or _has_values(table[name])]
        header = [MARKDOWN_COLUMNS[name][0] for name in shown]
        cells = [[_markdown_cell(row, MARKDOWN_COLUMNS[name][1]) for name in shown] for row in table.itertuples()]
        right = {index for index, name in enumerate(shown) if COLUMNS.get(name, "Int64") != "str"}
        if changes is not None:  # the table would read as part of the changes section
            parts.append("## Results")
        parts.append(markdown_table(header, cells, right))
        parts.append("## Failures\n\n" + _markdown_failures(frame))
    return "\n\n".join(parts) + "\n"


def _has_values(values: pd.Series) -> bool:
    return bool((values != "").any()) if values.dtype == "str" else bool(values.notna().any())


def _markdown_cell(row: object, formatter: object) -> str:
    text = getattr(row, formatter) if isinstance(formatter, str) else formatter(row)
    return _markdown_text(str(text)).replace("|", "\\|")


def _markdown_text(text: str) -> str:
    # GitHub renders inline HTML: a model name must not become a tag.
    return " ".join(text.split()).replace("<", "&lt;")


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]], right_aligned: set[int] = frozenset()) -> str:
    """A GFM table, columns padded so the source reads as a table too. Cells must be escaped."""
    widths = [max([len(header[i]), 3] + [len(row[i]) for row in rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = [cell.rjust(w) if i in right_aligned else cell.ljust(w) for i, (cell, w) in enumerate(zip(cells, widths))]
        return "| " + " | ".join(padded) + " |"

    rule = ["-" * (w - 1) + ":" if i in right_aligned else "-" * w for i, w in enumerate(widths)]
    return "\n".join([line(header), line(rule)] + [line(row) for row in rows])


def _markdown_changes(changes: pd.DataFrame) -> str:
    """A table of the changes; GFM has no colours, so changes for the worse are bold like failures."""
    if changes.empty:
        return NOTHING_CHANGED
    rows = []
    for row in changes.itertuples():
        change = f"**{row.change}**" if change_tone(row.change) == "worse" else row.change
        cells = [row.model, variant_label(row.precision, row.backend), change, row.before or "—", row.after or "—"]
        rows.append([_markdown_text(cell).replace("|", "\\|") for cell in cells])
    return markdown_table(["model", "variant", "change", "before", "after"], rows)


def _markdown_failures(frame: pd.DataFrame) -> str:
    failed = frame[frame["status"].isin(FAILED_STATUSES)]
    if failed.empty:
        return "None."
    items = []
    for row in failed.itertuples():
        where = f"**{_markdown_text(row.model)}** {variant_label(row.precision, row.backend)}"
        items.append(f"- {where} ({row.status}): {_markdown_text(row.message) or 'no message'}")
    return "\n".join(items)


# --- html ------------------------------------------------------------------------------------


def render_html(frame: pd.DataFrame, title: str = DEFAULT_TITLE, changes: pd.DataFrame | None = None) -> str:
    """One self-contained HTML page with inline SVG charts (see `report_html`)."""
    from converter.validate import report_html  # it imports this module's helpers: no cycle at import

    return report_html.render_html(frame, title, changes)
