"""The run history in real SQLite, the changes between runs, and the reports that list them."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy

from converter.errors import ConverterError
from converter.validate.history import History, changes_since, open_history, utc_timestamp
from converter.validate.report import CHANGE_COLUMNS, COLUMNS, read_report, render_html, render_markdown, to_frame, write_reports
from browser import load_in_chromium
from test_report import CLICK_EVERY_HEADER, sample_frame, sample_rows

FIRST, SECOND = "2026-11-03T10:00:00Z", "2026-11-04T10:00:00Z"


@pytest.fixture
def history(tmp_path: Path):
    with open_history(None, tmp_path / "state" / "history.sqlite") as store:
        yield store


def _count(store: History, sql: str) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(sqlalchemy.text(sql)).scalar_one())


def table_rows(markdown: str) -> list[list[str]]:
    """The cells of every Markdown table line, stripped of their padding."""
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in markdown.splitlines() if line.startswith("|")]


def edited(rows: list[dict], model: str, precision: str, backend: str, **values) -> list[dict]:
    """A copy of `rows` with one row's values changed."""
    rows = copy.deepcopy(rows)
    for row in rows:
        if (row["model"], row.get("precision"), row.get("backend")) == (model, precision, backend):
            row.update(values)
    return rows


# --- the store -------------------------------------------------------------------------------


def test_previous_returns_the_first_runs_rows_with_report_dtypes(history: History, tmp_path: Path):
    first = sample_frame()
    second = to_frame(edited(sample_rows(), "broken", "fp16", "openvino", status="pass", message=""))
    history.append("run-1", FIRST, first)
    history.append("run-2", SECOND, second)
    assert (tmp_path / "state" / "history.sqlite").is_file()
    previous = history.previous("run-2")
    pd.testing.assert_frame_equal(previous, first)
    assert {name: str(dtype) for name, dtype in previous.dtypes.items()} == COLUMNS
    assert history.previous("run-1") is None
    pd.testing.assert_frame_equal(history.previous("not-stored-yet"), second)  # a run about to be appended
    pd.testing.assert_frame_equal(history.rows("run-2"), second)


def test_appending_the_same_run_twice_replaces_it(history: History):
    history.append("run-1", FIRST, sample_frame())
    history.append("run-1", FIRST, sample_frame())
    assert _count(history, "SELECT COUNT(*) FROM irforge_runs_rows") == len(sample_frame())
    assert _count(history, "SELECT COUNT(*) FROM irforge_runs") == 1
    smaller = sample_frame().iloc[:5]
    history.append("run-1", "2026-11-03T10:30:00Z", smaller)  # the re-run of a crashed flow
    assert _count(history, "SELECT COUNT(*) FROM irforge_runs_rows") == 5
    assert history.runs()["started"].tolist() == ["2026-11-03T10:30:00.000000Z"]


def test_runs_have_counts_oldest_first(history: History):
    history.append("b-later", SECOND, sample_frame())
    history.append("a-earlier", "2026-11-03T11:00:00+01:00", sample_frame().iloc[:5])  # 10:00 UTC
    runs = history.runs()
    assert list(runs.columns) == ["run_id", "started", "models", "variants", "passed", "failed", "errors"]
    assert runs.to_dict("records") == [
        {"run_id": "a-earlier", "started": "2026-11-03T10:00:00.000000Z", "models": 1, "variants": 4,
         "passed": 2, "failed": 1, "errors": 1},
        {"run_id": "b-later", "started": "2026-11-04T10:00:00.000000Z", "models": 3, "variants": 12,
         "passed": 10, "failed": 1, "errors": 1},
    ]
    assert str(runs["models"].dtype) == "Int64"


def test_an_empty_history_has_no_runs(history: History):
    assert history.runs().empty and list(history.runs().columns)[:2] == ["run_id", "started"]
    assert history.previous("run-1") is None


def test_an_older_table_with_fewer_columns_still_reads_and_takes_new_rows(tmp_path: Path):
    path = tmp_path / "old.sqlite"
    old = sample_frame().drop(columns=["latency_ms", "top5_agreement", "cached"])
    engine = sqlalchemy.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:  # what an older irforge wrote: no latency, no top-5, no cached
        old.assign(run_id="old", started="2026-10-01T00:00:00.000000Z").to_sql("irforge_runs_rows", connection, index=False)
        pd.DataFrame([{"run_id": "old", "started": "2026-10-01T00:00:00.000000Z", "models": 3}]).to_sql(
            "irforge_runs", connection, index=False)
    engine.dispose()
    with open_history(f"sqlite:///{path}", tmp_path / "unused.sqlite") as history:
        rows = history.previous("new")
        assert {name: str(dtype) for name, dtype in rows.dtypes.items()} == COLUMNS
        assert rows["latency_ms"].isna().all() and not rows["cached"].any()
        pd.testing.assert_frame_equal(rows.drop(columns=["latency_ms", "top5_agreement"]),
                                      sample_frame().drop(columns=["latency_ms", "top5_agreement"]))
        assert history.runs()["passed"].isna().all()
        history.append("new", SECOND, sample_frame())  # adds the missing columns
        pd.testing.assert_frame_equal(history.rows("new"), sample_frame())
        assert history.previous("new")["latency_ms"].isna().all()
    assert not (tmp_path / "unused.sqlite").exists()


def test_append_rejects_unknown_columns_and_bad_times(history: History):
    with pytest.raises(ValueError, match="'colour'"):
        history.append("run-1", FIRST, sample_frame().assign(colour="red"))
    with pytest.raises(ValueError, match="not an ISO 8601 time"):
        history.append("run-1", "yesterday", sample_frame())
    assert utc_timestamp("2026-11-03T10:00:00") == "2026-11-03T10:00:00.000000Z"


def test_bad_urls_are_clear_and_keep_passwords_out(tmp_path: Path):
    with pytest.raises(ConverterError, match="not an SQLAlchemy URL") as error:
        open_history("secret-password@nowhere", tmp_path / "h.sqlite")
    assert "secret" not in str(error.value)
    with pytest.raises(ConverterError, match="nosuchdb") as error:
        open_history("nosuchdb://user:secret@host/db", tmp_path / "h.sqlite")
    assert "secret" not in str(error.value)


# --- what changed ----------------------------------------------------------------------------


def test_changes_since_detects_each_kind():
    before = sample_rows() + [{"model": "retired", "status": "error", "message": "cannot read"}]
    after = edited(sample_rows(), "digits_cnn", "source", "onnxruntime", accuracy=0.9011)
    after = edited(after, "digits_cnn", "fp32", "openvino", status="fail", message="worse")
    after = edited(after, "digits_cnn", "fp16", "onnxruntime", top1_agreement=0.95)
    after = edited(after, "broken", "fp16", "openvino", status="pass", max_rel=0.005, message="")
    after = edited(after, "vision/yolo", "fp16", "openvino", bin_bytes=6_400_000)  # xml+bin +2.3%
    after = edited(after, "vision/yolo", "fp32", "openvino", max_rel=0.53)  # was exactly 0
    after = edited(after, "vision/yolo", "fp32", "onnxruntime", max_rel=9e-6)  # 7.5×: below the growth
    after += [{"model": "newcomer", "precision": "fp32", "backend": "openvino", "status": "pass"}]
    changes = changes_since(to_frame(before), to_frame(after))
    assert list(changes.columns) == list(CHANGE_COLUMNS)
    assert changes.to_records(index=False).tolist() == [
        ("broken", "fp16", "openvino", "fixed", "fail", "pass"),
        ("digits_cnn", "source", "onnxruntime", "accuracy regression", "97.22%", "90.11%"),
        ("digits_cnn", "fp32", "openvino", "new failure", "pass", "fail"),
        ("digits_cnn", "fp16", "onnxruntime", "top-1 regression", "99.86%", "95.00%"),
        ("newcomer", "", "", "new model", "", "1 passed"),
        ("retired", "", "", "removed model", "error", ""),
        ("vision/yolo", "fp32", "openvino", "error regression", "0", "0.53"),
        ("vision/yolo", "fp16", "openvino", "size regression", "6.26 MiB", "6.4 MiB"),
    ]


def test_small_changes_are_not_regressions():
    after = edited(sample_rows(), "digits_cnn", "fp32", "openvino", accuracy=0.9680, top1_agreement=0.996)
    after = edited(after, "vision/yolo", "fp16", "openvino", bin_bytes=6_300_000)  # +0.8%
    after = edited(after, "vision/yolo", "fp32", "openvino", max_rel=9e-7)  # from 0, but below 1e-6
    after = edited(after, "broken", "fp32", "openvino", cached=True)  # a cached pass is a pass
    assert changes_since(sample_frame(), to_frame(after)).empty


def test_a_model_failing_as_a_whole_fails_every_variant():
    crashed = [row for row in sample_rows() if row["model"] != "digits_cnn"]
    crashed.append({"model": "digits_cnn", "status": "error", "message": "InvalidModelError: truncated"})
    worse = changes_since(sample_frame(), to_frame(crashed))
    assert worse["change"].unique().tolist() == ["new failure"] and len(worse) == 4
    assert set(worse["model"]) == {"digits_cnn"} and set(worse["after"]) == {"error"}
    better = changes_since(to_frame(crashed), sample_frame())
    assert better["change"].unique().tolist() == ["fixed"] and set(better["before"]) == {"error"}


def test_nothing_changed_and_the_first_run_are_empty():
    for changes in (changes_since(sample_frame(), sample_frame()), changes_since(None, sample_frame())):
        assert changes.empty and list(changes.columns) == list(CHANGE_COLUMNS)


# --- reports ---------------------------------------------------------------------------------


def regressed_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    after = edited(sample_rows(), "digits_cnn", "fp32", "openvino", status="fail", accuracy=0.8)
    after = edited(after, "broken", "fp16", "openvino", status="pass", message="")
    return sample_frame(), to_frame(after)


def test_markdown_and_html_list_the_changes_highlighted():
    before, after = regressed_frames()
    changes = changes_since(before, after)
    text = render_markdown(after, "Zoo", changes)
    assert text.index("## Changed since the last run") < text.index("## Results") < text.index("## Failures")
    rows = table_rows(text)
    assert ["digits_cnn", "fp32/openvino", "**new failure**", "pass", "fail"] in rows
    assert ["digits_cnn", "fp32/openvino", "**accuracy regression**", "97.22%", "80.00%"] in rows
    assert ["broken", "fp16/openvino", "fixed", "fail", "pass"] in rows
    page = render_html(after, "Zoo", changes)
    assert page.index('id="summary"') < page.index('id="changes"') < page.index('id="grid"')
    assert '<tr class="worse"><td class="text">digits_cnn</td><td class="text">fp32/openvino</td>' in page
    assert '<td class="kind">new failure</td>' in page and '<tr class="better">' in page
    assert ".changes tr.worse td{background:var(--fail-bg)}" in page
    assert page == render_html(after, "Zoo", changes)


def test_no_changes_says_so_and_no_history_has_no_section():
    frame = sample_frame()
    nothing = changes_since(frame, frame)
    assert "## Changed since the last run\n\nNothing changed since the last run.\n" in render_markdown(frame, "t", nothing)
    assert "Nothing changed since the last run." in render_html(frame, "t", nothing)
    assert "Changed since" not in render_markdown(frame, "t") and "Changed since" not in render_html(frame, "t")
    assert render_markdown(frame, "t") == render_markdown(frame, "t", None)


def test_write_reports_writes_changes_csv_only_with_changes(tmp_path: Path):
    before, after = regressed_frames()
    changes = changes_since(before, after)
    paths = write_reports(after, tmp_path, "Zoo", changes=changes)
    assert paths["changes"] == tmp_path / "changes.csv"
    written = pd.read_csv(paths["changes"], dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(written, changes, check_dtype=False)
    pd.testing.assert_frame_equal(read_report(tmp_path), after)
    paths = write_reports(after, tmp_path, "Zoo")
    assert "changes" not in paths and not (tmp_path / "changes.csv").exists()


def test_html_with_changes_renders_in_chromium_without_console_messages(tmp_path: Path):
    before, after = regressed_frames()
    paths = write_reports(after, tmp_path / "report", "Zoo report", changes_since(before, after))
    page = tmp_path / "clicked.html"
    page.write_text(paths["html"].read_text().replace("</body>", CLICK_EVERY_HEADER + "</body>"))
    dom, messages = load_in_chromium(page, tmp_path)
    assert messages == []
    assert '<section id="changes">' in dom and dom.count('<tr class="worse">') == 2 and 'data-clicked="1"' in dom


# --- done when -------------------------------------------------------------------------------


def test_a_model_swapped_for_a_worse_one_shows_up_in_the_second_report(tmp_path: Path):
    """Two runs of one zoo; before the second, digits_cnn was replaced by a worse model."""
    swapped = copy.deepcopy(sample_rows())
    for row in swapped:
        if row["model"] == "digits_cnn":
            row["accuracy"] = 0.80
            if row["status"] == "pass":
                row.update(status="fail", message="accuracy 80.00% < the source's 97.22% - 0.01")
    runs = [("zoo-1", FIRST, sample_frame()), ("zoo-2", SECOND, to_frame(swapped))]
    for run_id, started, frame in runs:
        with open_history(None, tmp_path / "history.sqlite") as history:  # each run opens it anew
            history.append(run_id, started, frame)
            changes = changes_since(history.previous(run_id), frame)
        write_reports(frame, tmp_path / run_id, f"irforge zoo ({run_id})", changes)
    assert pd.read_csv(tmp_path / "zoo-1" / "changes.csv").empty  # the first run: nothing to compare with
    assert "Nothing changed since the last run." in (tmp_path / "zoo-1" / "report.md").read_text()
    second = pd.read_csv(tmp_path / "zoo-2" / "changes.csv", keep_default_na=False)
    digits = second[second["model"] == "digits_cnn"]
    assert set(second["model"]) == {"digits_cnn"}
    assert {"accuracy regression", "new failure"} <= set(digits["change"])
    failure = digits[(digits["change"] == "new failure") & (digits["precision"] == "fp16")]
    assert failure[["before", "after"]].values.tolist() == [["pass", "fail"], ["pass", "fail"]]
    report = (tmp_path / "zoo-2" / "report.md").read_text()
    assert ["digits_cnn", "source/onnxruntime", "**accuracy regression**", "97.22%", "80.00%"] in table_rows(report)
    assert ["digits_cnn", "fp16/openvino", "**new failure**", "pass", "fail"] in table_rows(report)
    assert '<td class="kind">new failure</td>' in (tmp_path / "zoo-2" / "report.html").read_text()
