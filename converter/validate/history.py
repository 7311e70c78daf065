"""The history of zoo runs: every run's report rows in one SQL database, and what changed since.

`open_history` opens SQLite at a default path or any SQLAlchemy URL (PostgreSQL for a team).
Two tables, created when missing:

- ``irforge_runs``: a row per run: ``run_id`` (primary key), ``started`` (ISO 8601 UTC, stored
  as ``2026-11-03T10:00:00.000000Z`` so that text order is time order) and the summary counts
  ``models, variants, passed, failed, errors``.
- ``irforge_runs_rows``: every report row of every run: ``run_id``, ``started``, then the
  report's `COLUMNS` with SQL types from their dtypes.

Appending a run_id again replaces that run (a re-run of a crashed flow appends again). A table
written by an older version may lack columns: appending adds them, reading selects the columns
that exist and `conform` fills the others with NA.

`changes_since` compares the rows of two runs: new and removed models, new failures and fixes,
and regressions of accuracy, top-1 agreement, size and error beyond thresholds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from converter.errors import ConverterError
from converter.validate.report import (
    CHANGE_COLUMNS,
    CHANGE_TONES,
    COLUMNS,
    FAILED_STATUSES,
    PRECISION_ORDER,
    conform,
    conform_changes,
    format_bytes,
    format_number,
    format_percent,
    sort_rows,
    summary_counts,
)

if TYPE_CHECKING:
    import sqlalchemy

RUNS_TABLE = "irforge_runs"
ROWS_TABLE = "irforge_runs_rows"
COUNT_COLUMNS = ("models", "variants", "passed", "failed", "errors")
RUN_COLUMNS = ("run_id", "started", *COUNT_COLUMNS)
KEY = ["model", "precision", "backend"]
PASSED_STATUSES = ("pass",)  # a cached pass is status "pass" with cached=True
ERROR_FLOOR = 1e-6  # max_rel below this is exact enough that growing 10× is noise, not a regression


# --- the store -------------------------------------------------------------------------------


def open_history(url: str | None, default_path: Path) -> History:
    """The history at an SQLAlchemy `url`, or in SQLite at `default_path` when None (SQLite's folders are created)."""
    import sqlalchemy

    if url is None:
        path = Path(default_path).absolute()
        path.parent.mkdir(parents=True, exist_ok=True)
        return History(sqlalchemy.create_engine(sqlalchemy.URL.create("sqlite", database=str(path))))
    try:
        parsed = sqlalchemy.make_url(url)
    except sqlalchemy.exc.ArgumentError:
        # Not echoed: the text may hold a password.
        raise ConverterError("history: not an SQLAlchemy URL (dialect+driver://user:password@host/database)") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    try:
        return History(sqlalchemy.create_engine(parsed))
    except (sqlalchemy.exc.NoSuchModuleError, ImportError) as error:
        raise ConverterError(f"history {parsed.render_as_string(hide_password=True)}: {error}") from error


class History:
    """Every run's report rows in two SQL tables (see the module docstring)."""

    def __init__(self, engine: sqlalchemy.Engine) -> None:
        self.engine = engine

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.engine.dispose()

    def append(self, run_id: str, started: str, frame: pd.DataFrame) -> None:
        """Store one run's report rows, replacing any rows stored under the same run_id."""
        unknown = [name for name in frame.columns if name not in COLUMNS]
        if unknown:
            raise ValueError(f"unknown report columns: {', '.join(map(repr, unknown))}")
        rows = conform(frame)
        started = utc_timestamp(started)
        run = pd.DataFrame([{"run_id": run_id, "started": started, **summary_counts(rows)}])
        rows.insert(0, "started", started)
        rows.insert(0, "run_id", run_id)
        tables = _tables()
        with self.engine.begin() as connection:  # one transaction: readers never see half a run
            for table in tables:
                _create_or_extend(connection, table)
                connection.execute(table.delete().where(table.c.run_id == run_id))
            for table, data in zip(tables, (run, rows)):
                types = {column.name: column.type for column in table.columns}
                data.to_sql(table.name, connection, if_exists="append", index=False, dtype=types)

    def runs(self) -> pd.DataFrame:
        """A row per run: run_id, started and the counts, oldest first."""
        with self.engine.connect() as connection:
            frame = _select(connection, RUNS_TABLE, RUN_COLUMNS)
        frame = pd.DataFrame(
            {name: _column(frame, name, "str" if name in ("run_id", "started") else "Int64") for name in RUN_COLUMNS}
        )
        return frame.sort_values(["started", "run_id"], kind="stable").reset_index(drop=True)

    def rows(self, run_id: str) -> pd.DataFrame:
        """One run's report rows, in report order with the report's dtypes (empty if unknown)."""
        import sqlalchemy

        with self.engine.connect() as connection:
            frame = _select(connection, ROWS_TABLE, tuple(COLUMNS), sqlalchemy.column("run_id") == run_id)
        return sort_rows(conform(frame))

    def previous(self, run_id: str) -> pd.DataFrame | None:
        """The rows of the latest run started before `run_id`'s, None when there is none.

        A run_id not stored (yet) stands for a run after all stored ones: its previous run is the
        latest. Runs started at the same time are ordered by run_id.
        """
        ids = self.runs()["run_id"].tolist()
        earlier = ids[: ids.index(run_id)] if run_id in ids else ids
        return self.rows(earlier[-1]) if earlier else None


def utc_timestamp(started: str) -> str:
    """An ISO 8601 time as UTC with microseconds and a Z: text order is time order. Naive means UTC."""
    try:
        moment = datetime.fromisoformat(started)
    except (TypeError, ValueError):
        raise ValueError(f"started {started!r}: not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _tables() -> tuple[sqlalchemy.Table, sqlalchemy.Table]:
    import sqlalchemy as sa

    types = {"str": sa.Text, "bool": sa.Boolean, "float64": sa.Double, "Int64": sa.BigInteger}
    metadata = sa.MetaData()
    runs = sa.Table(
        RUNS_TABLE,
        metadata,
        sa.Column("run_id", sa.String(255), primary_key=True),
        sa.Column("started", sa.String(40), nullable=False),
        *(sa.Column(name, sa.Integer) for name in COUNT_COLUMNS),
    )
    rows = sa.Table(
        ROWS_TABLE,
        metadata,
        sa.Column("run_id", sa.String(255), nullable=False, index=True),
        sa.Column("started", sa.String(40), nullable=False),
        *(sa.Column(name, types[dtype]()) for name, dtype in COLUMNS.items()),
    )
    return runs, rows


def _create_or_extend(connection: sqlalchemy.Connection, table: sqlalchemy.Table) -> None:
    """Create `table`, or add the columns an older version's table lacks (their old rows read NA)."""
    import sqlalchemy

    table.create(connection, checkfirst=True)
    existing = {column["name"] for column in sqlalchemy.inspect(connection).get_columns(table.name)}
    quote = connection.dialect.identifier_preparer.quote
    for column in table.columns:
        if column.name not in existing:
            kind = column.type.compile(dialect=connection.dialect)
            connection.execute(sqlalchemy.text(f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(column.name)} {kind}"))


def _select(
    connection: sqlalchemy.Connection, name: str, columns: tuple[str, ...], where: object | None = None
) -> pd.DataFrame:
    """The `columns` of table `name` that exist (all rows, or those matching `where`); empty if no table."""
    import sqlalchemy

    inspector = sqlalchemy.inspect(connection)
    if not inspector.has_table(name):
        return pd.DataFrame(columns=list(columns))
    existing = {column["name"] for column in inspector.get_columns(name)}
    query = sqlalchemy.select(*(sqlalchemy.column(c) for c in columns if c in existing)).select_from(sqlalchemy.table(name))
    return pd.read_sql(query if where is None else query.where(where), connection)


def _column(frame: pd.DataFrame, name: str, dtype: str) -> pd.Series:
    values = frame[name] if name in frame else pd.Series([pd.NA] * len(frame), dtype=object)
    values = values.astype(object).reset_index(drop=True)
    if dtype == "str":
        return values.where(values.notna(), "").astype("str")
    return pd.to_numeric(values.where(values.notna(), None), dtype_backend="numpy_nullable").astype(dtype)


# --- what changed ----------------------------------------------------------------------------


def changes_since(
    previous: pd.DataFrame | None,
    current: pd.DataFrame,
    accuracy_drop: float = 0.005,
    size_growth: float = 0.01,
    error_growth: float = 10.0,
) -> pd.DataFrame:
    """A row per change from `previous` to `current`: model, precision, backend, change, before, after.

    Rows are paired by (model, precision, backend). Changes: "new model" / "removed model" (one
    row per model, precision and backend empty); "new failure" (pass → fail or error) and "fixed"
    (fail or error → pass), where a model that failed as a whole stands for all its variants;
    "accuracy regression" (dropped by more than `accuracy_drop`, the source row too); "top-1
    regression" (top1_agreement dropped by more than `accuracy_drop`); "size regression"
    (xml+bin grew by more than `size_growth` of itself); "error regression" (max_rel grew more
    than `error_growth`× to above 1e-6). Empty when nothing changed or `previous` is None.
    """
    if previous is None:
        return _changes_frame([])
    before, after = _keyed(previous), _keyed(current)
    changes = _model_changes(before, after)
    shared = set(before["model"]) & set(after["model"])
    changes += _status_changes(before[before["model"].isin(shared)], after[after["model"].isin(shared)])
    pairs = before.merge(after, on=KEY, suffixes=("_before", "_after"))
    changes += _metric_changes(pairs, accuracy_drop, size_growth, error_growth)
    return _changes_frame(changes)


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    # A report has one row per key; of a hand-made frame with more, the first counts.
    return conform(frame).drop_duplicates(KEY).reset_index(drop=True)


def _change(key: tuple[str, str, str], change: str, before: str, after: str) -> dict[str, str]:
    return dict(zip(CHANGE_COLUMNS, (*key, change, before, after)))


def _model_changes(before: pd.DataFrame, after: pd.DataFrame) -> list[dict[str, str]]:
    old, new = set(before["model"]), set(after["model"])
    added = [_change((m, "", ""), "new model", "", _model_summary(after[after["model"] == m])) for m in new - old]
    removed = [_change((m, "", ""), "removed model", _model_summary(before[before["model"] == m]), "") for m in old - new]
    return added + removed


def _model_summary(rows: pd.DataFrame) -> str:
    """"4 passed", "3 passed, 1 failed", "error" (a model that failed as a whole)."""
    variants = rows[rows["precision"] != "source"]
    if len(variants) == 1 and variants["precision"].iloc[0] == "":
        return str(variants["status"].iloc[0])
    counts = variants["status"].value_counts()
    words = [
        f"{counts.get(status, 0)} {word}{'s' * (status == 'error' and counts.get(status, 0) != 1)}"
        for status, word in (("pass", "passed"), ("fail", "failed"), ("error", "error"))
        if counts.get(status, 0)
    ]
    return ", ".join(words) or "source only"


def _status_changes(before: pd.DataFrame, after: pd.DataFrame) -> list[dict[str, str]]:
    old, new = _statuses(before), _statuses(after)
    old_whole, new_whole = _whole_model_statuses(before), _whole_model_statuses(after)
    changes = []
    for key in old.keys() | new.keys():
        model, precision, _ = key
        # A variant absent on one side, where the whole model failed, failed with it.
        was = old.get(key, old_whole.get(model) if precision else None)
        now = new.get(key, new_whole.get(model) if precision else None)
        if was in PASSED_STATUSES and now in FAILED_STATUSES:
            changes.append(_change(key, "new failure", was, now))
        elif was in FAILED_STATUSES and now in PASSED_STATUSES:
            changes.append(_change(key, "fixed", was, now))
    return changes


def _statuses(frame: pd.DataFrame) -> dict[tuple[str, str, str], str]:
    variants = frame[frame["precision"] != "source"]
    return dict(zip(zip(variants["model"], variants["precision"], variants["backend"]), variants["status"]))


def _whole_model_statuses(frame: pd.DataFrame) -> dict[str, str]:
    whole = frame[frame["precision"] == ""]
    return dict(zip(whole["model"], whole["status"]))


def _metric_changes(pairs: pd.DataFrame, accuracy_drop: float, size_growth: float, error_growth: float) -> list[dict[str, str]]:
    def values(column: str) -> tuple[pd.Series, pd.Series]:
        return pairs[f"{column}_before"].astype("float64"), pairs[f"{column}_after"].astype("float64")

    variant = pairs["precision"] != "source"
    accuracy, top1, error = values("accuracy"), values("top1_agreement"), values("max_rel")
    xml, weights = values("xml_bytes"), values("bin_bytes")
    size = (xml[0] + weights[0], xml[1] + weights[1])
    checks: list[tuple[str, tuple[pd.Series, pd.Series], pd.Series, Callable[[object], str]]] = [
        ("accuracy regression", accuracy, accuracy[0] - accuracy[1] > accuracy_drop, format_percent),
        ("top-1 regression", top1, variant & (top1[0] - top1[1] > accuracy_drop), format_percent),
        ("size regression", size, variant & (size[0] > 0) & ((size[1] - size[0]) / size[0] > size_growth), format_bytes),
        ("error regression", error, variant & (error[1] > error[0] * error_growth) & (error[1] > ERROR_FLOOR), _format_error),
    ]
    changes = []
    for change, (old, new), regressed, show in checks:
        for i in np.flatnonzero(regressed.to_numpy(dtype=bool)):
            key = (pairs["model"].iloc[i], pairs["precision"].iloc[i], pairs["backend"].iloc[i])
            changes.append(_change(key, change, show(old.iloc[i]), show(new.iloc[i])))
    return changes


def _format_error(value: object) -> str:
    return format_number(value, 2)


def _changes_frame(changes: list[dict[str, str]]) -> pd.DataFrame:
    """The changes in order: model, precision (whole model, source, fp32, fp16, others), backend, kind."""
    frame = pd.DataFrame.from_records(changes, columns=list(CHANGE_COLUMNS))
    ranks = {"": -1, **{precision: index for index, precision in enumerate(PRECISION_ORDER)}}
    kinds = list(CHANGE_TONES)
    keys = pd.DataFrame({
        "model": frame["model"],
        "precision_rank": frame["precision"].map(lambda p: ranks.get(p, len(PRECISION_ORDER))),
        "precision": frame["precision"],
        "backend": frame["backend"],
        "change": frame["change"].map(kinds.index),
    })
    return conform_changes(frame.loc[keys.sort_values(list(keys.columns), kind="stable").index])
