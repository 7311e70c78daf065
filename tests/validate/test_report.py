"""The validation report: table, files, Markdown, and an HTML page checked in real headless Chromium."""

from __future__ import annotations

import html
import os
import re
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from browser import load_in_chromium
from converter.errors import InvalidModelError
from converter.files import current_umask
from converter.validate.report import (
    COLUMNS,

    read_report,
    render_html,
    render_markdown,
    to_frame,
    write_reports,
)

BROKEN_MESSAGE = "fp16/openvino: output 'logits': max_rel 0.53 > 0.01"


def _variants(model: str, framework: str, source_bytes: int, fp32_bytes: tuple[int, int], overrides=None) -> list[dict]:
    """The source row and the four IR variants of one model; `overrides[(precision, backend)]` updates one."""
    rows = [
        {"model": model, "framework": framework, "precision": "source", "backend": "onnxruntime",
         "status": "reference", "source_bytes": source_bytes, "latency_ms": 1.5}
    ]
    xml, weights = fp32_bytes
    for precision in ("fp32", "fp16"):
        for backend in ("onnxruntime", "openvino"):
            row = {
                "model": model, "framework": framework, "precision": precision, "backend": backend,
                "status": "pass", "metric": "max_rel", "max_abs": 2e-7, "max_rel": 1.2e-6 if precision == "fp32" else 3.1e-3,
                "cosine": 0.9999999, "samples": 8, "worst_output": "logits", "source_bytes": source_bytes,
                "xml_bytes": xml, "bin_bytes": weights if precision == "fp32" else weights // 2,
                "ops": 41 if precision == "fp32" else 44, "convert_s": 0.31, "latency_ms": 1.1 if backend == "openvino" else 1.7,
            }
            row.update((overrides or {}).get((precision, backend), {}))
            rows.append(row)
    return rows


def sample_rows() -> list[dict]:
    """Three models covering every status: digits_cnn (accuracy), vision/yolo (max_rel), broken (fail + error)."""
    digits = _variants("digits_cnn", "onnx", 90_412, (6_310, 88_000))
    for row, accuracy in zip(digits, (0.9722, 0.9722, 0.9722, 0.9717, 0.9711)):
        row.update(accuracy=accuracy, samples=360)
        if row["status"] != "reference":
            row.update(metric="accuracy", top1_agreement=0.9986 if row["precision"] == "fp16" else 1.0)
    yolo = _variants("vision/yolo", "onnx", 12_700_000, (310_000, 12_500_000), {
        ("fp16", "openvino"): {"max_rel": 4.4e-3, "max_rel_vs_fp32": 4.3e-3},
        ("fp32", "openvino"): {"max_rel": 0.0},
    })
    broken = _variants("broken", "onnx", 2_100_000, (40_000, 2_000_000), {
        ("fp16", "openvino"): {"status": "fail", "max_rel": 0.53, "message": BROKEN_MESSAGE},
        ("fp16", "onnxruntime"): {"status": "error", "message": "onnxruntime: [ONNXRuntimeError] kernel not found",
                                  "max_rel": None, "max_abs": None, "cosine": None},
    })
    return broken + yolo[::-1] + digits  # deliberately not in report order


def sample_frame() -> pd.DataFrame:
    return to_frame(sample_rows())


# --- the table -------------------------------------------------------------------------------


def test_to_frame_has_the_columns_in_order_with_their_dtypes():
    frame = sample_frame()
    assert list(frame.columns) == list(COLUMNS)
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == COLUMNS
    assert len(frame) == 15 and frame.index.equals(pd.RangeIndex(15))
    assert not frame["cached"].any() and frame["message"].isin(["", BROKEN_MESSAGE]).sum() == 14


def test_to_frame_sorts_by_model_precision_backend():
    frame = sample_frame()
    assert list(frame["model"].unique()) == ["broken", "digits_cnn", "vision/yolo"]
    yolo = frame[frame["model"] == "vision/yolo"]
    assert list(zip(yolo["precision"], yolo["backend"])) == [
        ("source", "onnxruntime"), ("fp32", "onnxruntime"), ("fp32", "openvino"),
        ("fp16", "onnxruntime"), ("fp16", "openvino"),
    ]
    shuffled = to_frame(list(reversed(sample_rows())))
    pd.testing.assert_frame_equal(shuffled, frame)


def test_to_frame_fills_missing_values_and_derives_size_ratio():
    frame = to_frame([
        {"model": "m", "precision": "fp32", "backend": "openvino", "status": "pass", "xml_bytes": 100, "bin_bytes": 900},
        {"model": "m", "precision": "fp16", "backend": "openvino", "status": "pass", "xml_bytes": 100, "bin_bytes": 400},
        {"model": "m", "precision": "source", "backend": "onnxruntime", "status": "reference", "source_bytes": 1000},
        {"model": "only-error", "status": "error", "message": "cannot read"},
    ])
    assert frame["size_ratio"].tolist()[1:3] == [1.0, 0.5] and np.isnan(frame["size_ratio"][0])
    error = frame[frame["model"] == "only-error"].iloc[0]
    assert error["precision"] == "" and error["framework"] == "" and error["cached"] is np.False_
    assert pd.isna(error["samples"]) and np.isnan(error["max_rel"])


def test_to_frame_rejects_unknown_keys():
    with pytest.raises(ValueError, match="'colour'.*'max_rell'"):
        to_frame([{"model": "m", "status": "pass", "max_rell": 1.0, "colour": "red"}])
    with pytest.raises(ValueError, match="'extra'"):
        write_reports(sample_frame().assign(extra=1), Path("/nonexistent/never-created"))


def test_empty_frame_has_the_columns():
    frame = to_frame([])
    assert list(frame.columns) == list(COLUMNS) and frame.empty
    assert "No models" in render_markdown(frame, "t") and "No models" in render_html(frame, "t")


# --- files -----------------------------------------------------------------------------------


@pytest.fixture
def umask():
    """Set the process umask for one test: `umask(0o022)`; the old one is restored after."""
    previous = os.umask(0o022)
    yield os.umask
    os.umask(previous)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_write_reports_writes_four_files_with_umask_permissions(tmp_path: Path, umask, mask: int, mode: int):
    umask(mask)
    assert current_umask() == mask
    paths = write_reports(sample_frame(), tmp_path / "out" / "report")
    assert sorted(paths) == ["csv", "html", "md", "parquet"]
    for kind, path in paths.items():
        assert path.name == f"report.{kind}" and path.is_file()
        assert stat.S_IMODE(path.stat().st_mode) == mode, path
    assert sorted(p.name for p in paths["csv"].parent.iterdir()) == sorted(p.name for p in paths.values())


def test_reports_round_trip_through_read_report(tmp_path: Path):
    frame = sample_frame()
    paths = write_reports(frame, tmp_path)
    pd.testing.assert_frame_equal(read_report(paths["csv"]), frame)
    pd.testing.assert_frame_equal(read_report(paths["parquet"]), frame)
    pd.testing.assert_frame_equal(read_report(tmp_path), frame)
    paths["parquet"].unlink()
    pd.testing.assert_frame_equal(read_report(tmp_path), frame)  # falls back to the CSV


def test_odd_values_round_trip_through_csv(tmp_path: Path):
    frame = to_frame([
        {"model": "NA", "precision": "fp32", "backend": "openvino", "status": "fail", "max_rel": float("inf"),
         "message": 'a "quoted", multi\nline | message', "cached": True, "max_abs": 1 / 3},
        {"model": "null", "status": "error"},
    ])
    paths = write_reports(frame, tmp_path)
    pd.testing.assert_frame_equal(read_report(paths["csv"]), frame)


def test_read_report_errors_are_clear(tmp_path: Path):
    with pytest.raises(InvalidModelError, match="no such report"):
        read_report(tmp_path / "missing.csv")
    with pytest.raises(InvalidModelError, match="no report.parquet or report.csv"):
        read_report(tmp_path)
    (tmp_path / "other.csv").write_text("model,score\nm,1\n")
    with pytest.raises(InvalidModelError, match="missing columns precision, backend, status"):
        read_report(tmp_path / "other.csv")
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(InvalidModelError, match="not a readable report"):
        read_report(tmp_path / "bad.parquet")


# --- markdown --------------------------------------------------------------------------------


def test_markdown_has_summary_table_and_failures():
    text = render_markdown(sample_frame(), "Zoo")
    assert text.startswith("# Zoo\n\n3 models, 12 variants: 10 passed, 1 failed, 1 error.\n")
    assert "## Failures" in text and BROKEN_MESSAGE in text and "kernel not found" in text
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert len(table) == 2 + 15 and len({line.count(" | ") for line in table}) == 1
    assert "| 0.9999999 |" in text and "97.22%" in text and "1.2e-06" in text and "12.2 MiB" in text and "0.512" in text


def test_markdown_escapes_pipes_and_tags():
    frame = to_frame([{"model": "a|b <script>", "precision": "fp32", "backend": "openvino", "status": "fail",
                       "metric": "max_rel", "message": "x | y"}])
    text = render_markdown(frame, "t")
    assert "a\\|b &lt;script>" in text and "<script>" not in text
    rows = [line for line in text.splitlines() if line.startswith("| a")]
    assert len(re.findall(r"(?<!\\)\|", rows[0])) == len(re.findall(r"\|", text.splitlines()[4]))


# --- html ------------------------------------------------------------------------------------


def test_html_is_deterministic_self_contained_and_has_the_charts():
    page = render_html(sample_frame(), "Zoo")
    assert page == render_html(to_frame(list(reversed(sample_rows()))), "Zoo")
    assert "://" not in page and "<link" not in page and " src=" not in page
    for section in ("summary", "grid", "sizes", "errors", "accuracy", "table"):
        assert f'id="{section}"' in page
    assert page.count("<svg") == 3 and html.escape(BROKEN_MESSAGE) in page


def test_html_escapes_user_text():
    frame = to_frame([{"model": "<script>alert(1)</script>", "precision": "fp32", "backend": "openvino",
                       "status": "fail", "message": "<b>bad</b>", "max_rel": 0.2}])
    page = render_html(frame, "<i>title</i>")
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>bad" not in page and "<i>title" not in page


def edge_case_frame() -> pd.DataFrame:
    """50 models, one with a very long name, one with only an error row, one with nothing but NaNs."""
    rows = []
    for index in range(48):
        name = f"family_{index % 5}/model_{index:02d}"
        rows += _variants(name, "onnx", 1000 * (index + 1), (200, 900 * (index + 1)),
                          {("fp16", "openvino"): {"max_rel": float("inf") if index == 7 else 10.0 ** -(index % 9)},
                           ("fp32", "openvino"): {"max_rel": 0.0}, ("fp32", "onnxruntime"): {"max_rel": 0.0}})
    rows += _variants("a" * 200, "onnx", 10_000, (300, 9_000))
    rows.append({"model": "crashed", "status": "error", "message": "InvalidModelError: truncated file"})
    return to_frame(rows)


# --- real headless Chromium ------------------------------------------------------------------

CLICK_EVERY_HEADER = """<script>
document.querySelectorAll("table.sortable th").forEach(function (th) { th.click(); th.click(); });
document.body.setAttribute("data-clicked", document.querySelectorAll("th[aria-sort]").length);
</script>"""


def test_console_check_catches_errors_and_exceptions(tmp_path: Path):
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><body><p id="ok">rendered</p><script>'
                    'console.error("y"); throw new Error("x");</script></body></html>')
    dom, messages = load_in_chromium(page, tmp_path)
    assert 'id="ok"' in dom
    assert any('"y"' in message for message in messages), messages
    assert any("Uncaught Error: x" in message for message in messages), messages


@pytest.mark.parametrize("frame_of", [sample_frame, edge_case_frame, lambda: to_frame([])],
                         ids=["sample", "edge-cases", "empty"])
def test_html_renders_in_chromium_without_console_messages(tmp_path: Path, frame_of):
    frame = frame_of()
    paths = write_reports(frame, tmp_path / "report", title="Zoo report")
    page = tmp_path / "clicked.html"  # the report plus a script clicking every sortable header twice
    page.write_text(paths["html"].read_text().replace("</body>", CLICK_EVERY_HEADER + "</body>"))
    dom, messages = load_in_chromium(page, tmp_path)
    assert messages == []
    assert "<h1>Zoo report</h1>" in dom
    if frame.empty:
        assert "No models in this report." in dom
        return
    for section in ("summary", "grid", "sizes", "errors", "table"):
        assert f'<section id="{section}"' in dom
    assert 'data-clicked="1"' in dom  # the sort script ran; the last header clicked keeps aria-sort
    assert dom.count("<tr class=") == len(frame)
