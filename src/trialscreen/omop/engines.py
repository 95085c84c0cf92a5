"""The engines a screen runs on: embedded DuckDB, Apache Spark, PostgreSQL.

`open_engine` gives an Ibis backend on which every CDM table the screen reads is a
lower-case table or view with v5.4 names and types (`sources.conform`), so the compiler
writes one Ibis expression for all three. DuckDB reads the source in place (Parquet as
views, CSV loaded once). Spark reads a Parquet directory itself; any other source reaches it
through DuckDB as Parquet. PostgreSQL screens a PostgreSQL source in place (through a
schema of conforming views when needed) or receives the other sources in a work schema,
which is dropped on close.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.csv as pa_csv

from trialscreen.omop.sources import (
    OPTIONAL_TABLES,
    SCREEN_TABLES,
    DirectorySource,
    DuckDBFileSource,
    PopulationError,
    PostgresSource,
    Source,
    SourceError,
    UsageError,
    check_tables,
    check_version,
    conform,
    redact,
    version_from_columns,
)

EngineName = Literal["duckdb", "spark", "postgres"]
ENGINES: tuple[EngineName, ...] = ("duckdb", "spark", "postgres")
WANTED_TABLES = tuple(SCREEN_TABLES) + OPTIONAL_TABLES
PG_URL_ENV = "TRIALSCREEN_PG_URL"


class EngineError(PopulationError):
    """An engine cannot be reached or started (a database down, no Java for Spark)."""


@dataclass
class EngineSession:
    """An open engine holding the conformed CDM tables of one source."""

    engine: EngineName
    con: ibis.BaseBackend
    cdm_version: str
    tables: list[str]
    source: Source
    _closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        """Release what this session made (work schemas, temp files, connections)."""
        while self._closers:
            closer = self._closers.pop()
            with contextlib.suppress(Exception):
                closer()


Step = Callable[[str], None]


def _no_step(_: str) -> None:
    return None


@contextlib.contextmanager
def open_engine(
    source: Source,
    engine: EngineName = "duckdb",
    *,
    spark_master: str = "local[2]",
    spark_session: Any = None,
    pg_url: str | None = None,
    on_table: Step = _no_step,
) -> Iterator[EngineSession]:
    """Open `engine` on `source`; everything made for it is released on exit.

    `spark_session` reuses a running SparkSession (tests share one); `pg_url` is the server
    that receives a non-PostgreSQL source (default: the TRIALSCREEN_PG_URL variable).
    `on_table` is told each table as it is loaded (for a progress bar).
    """
    if engine == "duckdb":
        session = _duckdb_session(source, on_table)
    elif engine == "spark":
        session = _spark_session(source, spark_master, spark_session, on_table)
    elif engine == "postgres":
        session = _postgres_session(source, pg_url, on_table)
    else:
        raise UsageError(f"--engine {engine}: unknown engine (choose {', '.join(ENGINES)})")
    try:
        yield session
    finally:
        session.close()


# --- shared: detect the version, check, conform ------------------------------------------


def _cdm_source_version(raw: dict[str, ir.Table]) -> str | None:
    table = raw.get("cdm_source")
    if table is None:
        return None
    column = next((c for c in table.columns if c.lower() == "cdm_version"), None)
    if column is None:
        return None
    value = table[column].cast("string").max().execute()
    return str(value) if value not in (None, "") else None


def _prepare(raw: dict[str, ir.Table], where: str) -> tuple[str, dict[str, ir.Table]]:
    """Check the raw tables and return the CDM version and the conformed tables."""
    columns = {name: [c.lower() for c in t.columns] for name, t in raw.items()}
    try:
        declared = _cdm_source_version(raw)
    except Exception as exc:  # a broken cdm_source must not hide the real tables
        raise SourceError(
            f"{where}: cannot read cdm_source.cdm_version ({_first_line(exc)})"
        ) from None
    version = check_version(declared or version_from_columns(columns), where)
    check_tables(columns, where)
    return version, {name: conform(t, name, version) for name, t in raw.items()}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# --- DuckDB ---------------------------------------------------------------------------------


def _duckdb_raw(con: Any, source: Source, on_table: Step) -> dict[str, ir.Table]:
    raw: dict[str, ir.Table] = {}
    if isinstance(source, DirectorySource):
        for name in WANTED_TABLES:
            tf = source.files.get(name)
            if tf is None:
                continue
            on_table(name)
            try:
                if tf.format == "parquet":
                    raw[name] = con.read_parquet(tf.glob(), table_name=f"_raw_{name}")
                else:
                    header = tf.header()
                    raw[name] = con.read_csv(
                        str(tf.path),
                        table_name=f"_raw_{name}",
                        header=True,
                        columns={c: "VARCHAR" for c in header},
                        auto_detect=False,
                        delim="\t" if ".tsv" in tf.path.name.lower() else ",",
                        quote='"',
                    )
            except SourceError:
                raise
            except Exception as exc:
                raise SourceError(f"{tf.path}: cannot read ({_first_line(exc)})") from None
    elif isinstance(source, DuckDBFileSource):
        try:
            con.attach(str(source.path), name="cdm_src", read_only=True)
        except Exception as exc:
            raise SourceError(
                f"{source.path}: cannot open as DuckDB ({_first_line(exc)})"
            ) from None
        schema = source.schema or "main"
        listed = con.con.execute(
            "SELECT DISTINCT table_name FROM information_schema.tables "
            "WHERE table_catalog = 'cdm_src' AND table_schema = ?",
            [schema],
        ).fetchall()
        names = {row[0].lower(): row[0] for row in listed}
        for name in WANTED_TABLES:
            if name in names:
                on_table(name)
                raw[name] = con.table(names[name], database=("cdm_src", schema))
    else:
        pg = _pg_connect(source.url, source.schema)
        try:
            names = {n.lower(): n for n in pg.list_tables()}
            for name in WANTED_TABLES:
                if name in names:
                    on_table(name)
                    con.create_table(f"_raw_{name}", pg.table(names[name]).to_pyarrow())
                    raw[name] = con.table(f"_raw_{name}")
        finally:
            pg.disconnect()
    return raw


DUCKDB_MEMORY_ENV = "TRIALSCREEN_DUCKDB_MEMORY"


def _duckdb_session(source: Source, on_table: Step) -> EngineSession:
    con = ibis.duckdb.connect()
    session = EngineSession("duckdb", con, "", [], source, [con.disconnect])
    _tune_duckdb(con)
    limit = os.environ.get(DUCKDB_MEMORY_ENV)
    if limit:
        # DuckDB spills what it can to a temporary directory beyond this limit
        spill = Path(tempfile.mkdtemp(prefix="trialscreen-duckdb-"))
        session._closers.insert(0, lambda: _rmtree(spill))
        try:
            con.con.execute(f"SET memory_limit = '{_memory_setting(limit)}'")
            con.con.execute(f"SET temp_directory = '{spill}'")
        except Exception as exc:
            session.close()
            raise UsageError(f"{DUCKDB_MEMORY_ENV}={limit}: not a memory size ({_first_line(exc)})") from None
    try:
        raw = _duckdb_raw(con, source, on_table)
        version, tables = _prepare(raw, source.description)
        for name, expr in tables.items():
            is_csv = isinstance(source, DirectorySource) and source.files[name].format == "csv"
            try:
                if is_csv:
                    con.create_table(name, expr)  # parse the text once, not on every scan
                else:
                    con.create_view(name, expr)
            except Exception as exc:
                raise SourceError(
                    f"{source.description}: table {name} cannot be read as OMOP "
                    f"({_first_line(exc)})"
                ) from None
    except BaseException:
        session.close()
        raise
    session.cdm_version = version
    session.tables = sorted(tables)
    return session


def _tune_duckdb(con: Any) -> None:
    """Settings for one big screening query on a small machine.

    Row order never matters to the screen (results are sorted by person_id afterwards), and
    DuckDB's partial-aggregate pushdown (2.x) inlines the per-row readings into every
    per-leaf aggregate input, which makes the one GROUP BY over the results several times
    slower; both are turned off where the DuckDB version knows them.
    """
    for statement in (
        "SET preserve_insertion_order = false",
        "SET disabled_optimizers = 'partial_aggregate_pushdown'",
    ):
        with contextlib.suppress(Exception):
            con.con.execute(statement)


def _memory_setting(text: str) -> str:
    """A memory size such as '4GB' or '512 MiB' (checked, so it is safe in a SET statement)."""
    if not re.fullmatch(r"\s*\d+(\.\d+)?\s*[KMGT]?i?B\s*", text, re.IGNORECASE):
        raise ValueError(f"expected a size such as 4GB, got {text!r}")
    return text.strip()


# --- Spark ----------------------------------------------------------------------------------


def start_spark(master: str = "local[2]", shuffle_partitions: int = 8) -> Any:
    """A SparkSession fit for screening: no UI, UTC, few shuffle partitions, loopback only."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineError("--engine spark needs PySpark: pip install 'pyspark>=4'") from None
    try:
        return (
            SparkSession.builder.master(master)
            .appName("trialscreen-population")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
            .config("spark.driver.memory", os.environ.get("TRIALSCREEN_SPARK_MEMORY", "4g"))
            .config("spark.sql.ansi.enabled", "false")
            .getOrCreate()
        )
    except Exception as exc:
        raise EngineError(
            f"Spark master {master}: cannot start a session ({_first_line(exc)})"
        ) from None


def _spark_session(source: Source, master: str, given: Any, on_table: Step) -> EngineSession:
    spark = given if given is not None else start_spark(master)
    con = ibis.pyspark.connect(spark)
    session = EngineSession("spark", con, "", [], source)
    if given is None:
        session._closers.append(spark.stop)
    try:
        parquet_dir = isinstance(source, DirectorySource) and all(
            tf.format == "parquet" for tf in source.files.values()
        )
        if parquet_dir:
            assert isinstance(source, DirectorySource)
            raw = {}
            for name in WANTED_TABLES:
                tf = source.files.get(name)
                if tf is not None:
                    on_table(name)
                    raw[name] = con.read_parquet(str(tf.path), table_name=f"_raw_{name}")
            version, tables = _prepare(raw, source.description)
        else:
            version, tables = _spark_via_parquet(con, source, on_table, session)
        for name, expr in tables.items():
            con.create_view(name, expr, overwrite=True)
    except BaseException:
        session.close()
        raise
    session.cdm_version = version
    session.tables = sorted(tables)
    return session


def _spark_via_parquet(
    con: Any, source: Source, on_table: Step, session: EngineSession
) -> tuple[str, dict[str, ir.Table]]:
    """Conform the source in DuckDB, hand it to Spark as Parquet (kept until close)."""
    staging = Path(tempfile.mkdtemp(prefix="trialscreen-spark-"))
    session._closers.append(lambda: _rmtree(staging))
    with open_engine(source, "duckdb", on_table=on_table) as duck:
        version = duck.cdm_version
        for name in duck.tables:
            target = staging / f"{name}.parquet"
            duck.con.table(name).to_parquet(target)
    tables = {
        p.stem: con.read_parquet(str(p), table_name=f"_raw_{p.stem}") for p in staging.iterdir()
    }
    return version, tables


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


# --- PostgreSQL -----------------------------------------------------------------------------


def _pg_connect(url: str, schema: str | None) -> Any:
    parts = urlsplit(url)
    try:
        return ibis.postgres.connect(
            host=parts.hostname,
            port=parts.port or 5432,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            database=parts.path.lstrip("/") or None,
            schema=schema,
            connect_timeout=10,
        )
    except ImportError:
        raise EngineError("PostgreSQL needs psycopg: pip install 'psycopg[binary]'") from None
    except Exception as exc:
        raise EngineError(f"{redact(url)}: cannot connect ({_first_line(exc)})") from None


def _postgres_session(source: Source, pg_url: str | None, on_table: Step) -> EngineSession:
    if isinstance(source, PostgresSource):
        return _postgres_in_place(source, on_table)
    url = pg_url or os.environ.get(PG_URL_ENV)
    if not url:
        raise UsageError(
            "--engine postgres with a file source needs a server to load into: "
            f"--pg-url postgresql://user@host:port/db (or set {PG_URL_ENV})"
        )
    work = f"trialscreen_{os.getpid()}_{secrets.token_hex(3)}"
    con = _pg_connect(url, None)
    session = EngineSession("postgres", con, "", [], source, [con.disconnect])
    try:
        con.create_database(work)
        session._closers.append(lambda: con.drop_database(work, force=True, cascade=True))
        with open_engine(source, "duckdb", on_table=on_table) as duck:
            for name in duck.tables:
                _copy_into_postgres(con, work, name, duck.con.table(name).to_pyarrow())
            session.cdm_version = duck.cdm_version
            session.tables = list(duck.tables)
        _set_search_path(con, work)
    except BaseException:
        session.close()
        raise
    return session


def _set_search_path(con: Any, schema: str) -> None:
    with con.con.cursor() as cursor:
        cursor.execute("SELECT set_config('search_path', %s, false)", (schema,))


def _copy_into_postgres(con: Any, schema: str, name: str, data: pa.Table) -> None:
    """Create `schema.name` and fill it with COPY (ibis inserts row by row)."""
    con.create_table(name, schema=ibis.schema(data.schema), database=schema)
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(data, sink, pa_csv.WriteOptions(include_header=False))
    columns = ", ".join(f'"{c}"' for c in data.column_names)
    statement = f'COPY "{schema}"."{name}" ({columns}) FROM STDIN (FORMAT csv)'
    with con.con.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(sink.getvalue().to_pybytes())


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _postgres_in_place(source: PostgresSource, on_table: Step) -> EngineSession:
    if not _IDENT.match(source.schema):
        raise UsageError(f"--schema {source.schema!r}: not a plain schema name")
    con = _pg_connect(source.url, source.schema)
    session = EngineSession("postgres", con, "", [], source, [con.disconnect])
    try:
        names = {n.lower(): n for n in con.list_tables(database=source.schema)}
        if not names:
            raise SourceError(f"{source.description}: the schema holds no tables")
        raw = {}
        for name in WANTED_TABLES:
            if name in names:
                on_table(name)
                raw[name] = con.table(names[name], database=source.schema)
        version, tables = _prepare(raw, source.description)
        changed = {
            n: t for n, t in tables.items() if t.schema() != raw[n].schema() or names[n] != n
        }
        if changed:
            work = f"trialscreen_{os.getpid()}_{secrets.token_hex(3)}"
            try:
                con.create_database(work)
            except Exception as exc:
                raise SourceError(
                    f"{source.description}: tables need conforming to CDM v5.4 but schema "
                    f"{work} cannot be created ({_first_line(exc)})"
                ) from None
            session._closers.append(lambda: con.drop_database(work, force=True, cascade=True))
            for name, expr in tables.items():
                con.create_view(name, expr, database=work)
            _set_search_path(con, f"{work},{source.schema}")
    except BaseException:
        session.close()
        raise
    session.cdm_version = version
    session.tables = sorted(tables)
    return session
