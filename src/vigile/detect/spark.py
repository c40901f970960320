"""Detection's feature SQL on Spark, over the event lake (``vigile detect --engine spark``).

The SQL files are DuckDB's (:mod:`vigile.detect.features`), written once: each statement
is transpiled by sqlglot to Spark SQL, its ``$parameters`` bound as literals. Two kinds of
statement the session catalog of Spark cannot run as written are rewritten on the parsed
tree, not in the files: ``CREATE OR REPLACE TABLE t AS q`` (a v2 table's) becomes a new
table renamed over ``t`` (``q`` may read ``t``), and ``DELETE FROM t WHERE c`` (Parquet
tables have no DELETE) a copy of ``t`` without the rows where ``c`` holds.

The lake's parts are Spark tables (views over their Parquet files); the state tables live
in a warehouse in a temporary folder. Only what the SQL aggregates per agent-hour or
smaller (features, rule hits, evidence ids of flagged windows, distinct counts for
reasons) comes back to the driver, as Arrow: never an event row.

Spark starts lazily (pyspark is the optional extra ``vigile[spark]``): nothing is fetched
at run time (no ``spark.jars.packages``, no Ivy), the web UI is off.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.fs as pafs  # type: ignore[import-untyped]
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from vigile.detect.errors import DetectError
from vigile.detect.features import FeatureEngine, FeatureParams
from vigile.detect.rules import Rule
from vigile.detect.source import (
    ACCESS_SCHEMA,
    DAY_US,
    SIGNIN_SCHEMA,
    TICKET_SCHEMA,
    EventBatch,
)
from vigile.lake.layout import Lake, lake_schema, open_lake
from vigile.model import INCIDENT_FIELD

__all__ = [
    "DEFAULT_MASTER",
    "SparkFeatureEngine",
    "SparkSession",
    "check_spark",
    "open_lake_checked",
    "to_spark_sql",
]

DEFAULT_MASTER = "local[2]"
_CONNECT_TIMEOUT_S = 10.0  # a cluster master that does not answer in this is unreachable


def to_spark_sql(statement: str, params: Mapping[str, int] | None = None) -> list[str]:
    """A DuckDB statement of the feature SQL as Spark SQL statements, ``$name`` bound to
    ``params`` (integers). Raises :class:`DetectError` when sqlglot cannot transpile it."""
    try:
        tree = sqlglot.parse_one(statement, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise DetectError(f"cannot parse the feature SQL: {exc}") from exc
    bound = {name: exp.Literal.number(value) for name, value in (params or {}).items()}
    tree = tree.transform(
        lambda node: bound.get(node.name, node) if isinstance(node, exp.Placeholder) else node
    )
    left = sorted({node.name for node in tree.find_all(exp.Placeholder)})
    if left:
        raise DetectError(f"the feature SQL's parameters {left} have no value")
    try:
        return [
            part.sql(dialect="spark", unsupported_level=ErrorLevel.RAISE) for part in _rewrite(tree)
        ]
    except sqlglot.errors.UnsupportedError as exc:
        raise DetectError(f"the feature SQL does not run on Spark: {exc}") from exc


def _rewrite(tree: exp.Expression) -> list[exp.Expression]:
    if isinstance(tree, exp.Create) and tree.args.get("replace") and tree.kind == "TABLE":
        name = tree.this.name
        query = tree.expression
        return _replace_table(name, query)
    if isinstance(tree, exp.Delete):
        name = tree.this.name
        where = tree.args.get("where")
        query = exp.select("*").from_(name)
        if where is not None:
            kept = exp.or_(exp.not_(exp.paren(where.this)), exp.paren(where.this).is_(exp.null()))
            query = query.where(kept)
        return _replace_table(name, query)
    return [tree]


def _replace_table(name: str, query: exp.Expression) -> list[exp.Expression]:
    """``name`` rebuilt from ``query`` (which may read it): written beside, then renamed."""
    scratch = f"{name}__next"
    create = exp.Create(this=exp.to_table(scratch), kind="TABLE", expression=query)
    return [
        _spark(f"DROP TABLE IF EXISTS {scratch}"),
        create,
        _spark(f"DROP TABLE IF EXISTS {name}"),
        _spark(f"ALTER TABLE {scratch} RENAME TO {name}"),
    ]


def _spark(statement: str) -> exp.Expression:
    tree = sqlglot.parse_one(statement, read="spark")
    assert isinstance(tree, exp.Expression)
    return tree


@dataclass(frozen=True, slots=True)
class SparkResult:
    """A query's result, collected (only ever an aggregate's: small)."""

    table: pa.Table

    @property
    def columns(self) -> list[str]:
        """Column names, as DuckDB's relation gives them."""
        return list(self.table.column_names)

    def to_arrow_table(self) -> pa.Table:
        """The rows as Arrow."""
        return self.table

    def fetchall(self) -> list[tuple[Any, ...]]:
        """The rows as tuples."""
        columns = [column.to_pylist() for column in self.table.columns]
        return list(zip(*columns, strict=True))


class SparkSession:
    """A Spark session that speaks the feature SQL: the few calls
    :class:`~vigile.detect.features.FeatureEngine` makes of DuckDB's connection."""

    def __init__(self, master: str = DEFAULT_MASTER) -> None:
        check_spark(master)
        from pyspark.sql import SparkSession as Builder  # noqa: PLC0415 - the optional extra

        # Py4J's sockets to the JVM take the process's default timeout when made, and a
        # library may have set one (dnstwist sets 12 s on import): a statement running
        # longer would cut the connection and stop Spark. None while the session lives.
        self._socket_timeout = socket.getdefaulttimeout()
        socket.setdefaulttimeout(None)
        self.folder = Path(tempfile.mkdtemp(prefix="vigile-spark-"))
        self._remove = weakref.finalize(self, shutil.rmtree, self.folder, ignore_errors=True)
        builder = (
            Builder.builder.master(master)
            .appName("vigile-detect")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.local.dir", str(self.folder / "local"))
            .config("spark.sql.warehouse.dir", str(self.folder / "warehouse"))
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "4")
            .config(
                "spark.driver.extraJavaOptions",
                f"-Djava.io.tmpdir={self.folder} "
                f"-Dlog4j2.configurationFile=file:{self._quiet_logs()}",
            )
        )
        try:
            self.spark: Any = builder.getOrCreate()
        except Exception as exc:  # the JVM's failure, whatever its type
            self._remove()
            socket.setdefaulttimeout(self._socket_timeout)
            raise DetectError(f"cannot start Spark (master {master}): {_first_line(exc)}") from exc
        self.spark.sparkContext.setLogLevel("ERROR")

    def _quiet_logs(self) -> Path:
        """A log4j 2 configuration: Spark's errors only, on stderr (its INFO and WARN
        lines are no user's business on the command line)."""
        path = self.folder / "log4j2.properties"
        path.write_text(
            "rootLogger.level = error\n"
            "rootLogger.appenderRef.stderr.ref = console\n"
            "appender.console.type = Console\n"
            "appender.console.name = console\n"
            "appender.console.target = SYSTEM_ERR\n"
            "appender.console.layout.type = PatternLayout\n"
            "appender.console.layout.pattern = spark: %p %c{1}: %m%n\n",
            encoding="utf-8",
        )
        return path

    def execute(self, statement: str, parameters: Mapping[str, int] | None = None) -> None:
        """Run a statement of the feature SQL (DuckDB's text) on Spark."""
        for spark_sql in to_spark_sql(statement, parameters):
            self._run(spark_sql).collect()

    def sql(self, query: str, params: Mapping[str, int] | None = None) -> SparkResult:
        """A query of the feature SQL, its (aggregated) result collected as Arrow."""
        [spark_sql] = to_spark_sql(query, params)
        frame = self._run(spark_sql)
        try:
            return SparkResult(frame.toArrow())
        except Exception as exc:
            raise DetectError(f"Spark: {_first_line(exc)}") from exc

    def register(self, name: str, table: pa.Table) -> None:
        """A small Arrow table of the driver's (directory, flagged windows) as a view."""
        self.spark.createDataFrame(table).createOrReplaceTempView(name)

    def parquet(self, name: str, paths: list[str], schema: pa.Schema) -> None:
        """Parquet files (the lake's parts) as a view, read with the lake's schema."""
        reader = self.spark.read.schema(_spark_schema(schema))
        try:
            reader.parquet(*paths).createOrReplaceTempView(name)
        except Exception as exc:
            raise DetectError(f"Spark cannot read the lake: {_first_line(exc)}") from exc

    def unregister(self, name: str) -> None:
        """Forget a registered view."""
        self.spark.catalog.dropTempView(name)

    def view(self, name: str, statement: str) -> None:
        """A view of Spark SQL (the lake's tables)."""
        self._run(f"CREATE OR REPLACE TEMPORARY VIEW {name} AS {statement}").collect()

    def close(self) -> None:
        """Stop Spark and remove its folder."""
        try:
            self.spark.stop()
        finally:
            self._remove()
            socket.setdefaulttimeout(self._socket_timeout)

    def _run(self, spark_sql: str) -> Any:
        try:
            return self.spark.sql(spark_sql)
        except Exception as exc:
            raise DetectError(f"Spark: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _spark_schema(schema: pa.Schema) -> str:
    names = {pa.string(): "STRING", pa.int64(): "BIGINT", pa.bool_(): "BOOLEAN"}
    names[pa.float64()] = "DOUBLE"
    return ", ".join(f"{field.name} {names[field.type]}" for field in schema)


def check_spark(master: str) -> None:
    """Refuse, before anything starts, a Spark that cannot run here: pyspark missing, no
    Java, a cluster master that does not answer (a bounded wait)."""
    try:
        import pyspark  # noqa: F401, PLC0415 - the optional extra
    except ImportError as exc:
        raise DetectError("--engine spark needs PySpark: pip install 'vigile[spark]'") from exc
    java_home = os.environ.get("JAVA_HOME", "")
    if not (java_home and (Path(java_home) / "bin" / "java").exists()) and not shutil.which("java"):
        raise DetectError(
            "--engine spark needs Java (17 or later): no java on PATH and no JAVA_HOME "
            "(Debian: apt-get install openjdk-17-jre-headless)"
        )
    if master.startswith("local"):
        return
    url = urlparse(master if "://" in master else f"{master}://")
    if url.scheme in ("spark", "k8s") or url.scheme.startswith("k8s"):
        host, port = _master_address(master)
        try:
            with socket.create_connection((host, port), timeout=_CONNECT_TIMEOUT_S):
                pass
        except OSError as exc:
            raise DetectError(
                f"--master {master}: unreachable ({exc.strerror or exc}) within "
                f"{_CONNECT_TIMEOUT_S:.0f} s"
            ) from exc
    elif master != "yarn":
        raise DetectError(
            f"--master {master}: not a Spark master (local[N], spark://, k8s://, yarn)"
        )


def _master_address(master: str) -> tuple[str, int]:
    # k8s://https://host:443 names the API server after the k8s:// prefix.
    inner = master.split("://", 1)[1] if master.startswith("k8s://") else master
    if "://" not in inner:
        inner = f"https://{inner}"
    url = urlparse(inner.split(",")[0])
    default = 7077 if url.scheme == "spark" else 443
    if not url.hostname:
        raise DetectError(f"--master {master}: no host in the URL")
    return url.hostname, url.port or default


def open_lake_checked(location: str) -> Lake:
    """The lake at ``location``, every part's schema checked (nothing started yet)."""
    try:
        lake = open_lake(location)
    except DetectError:
        raise
    if lake.lake_id is None:
        raise DetectError(f"{location}: not a Vigile lake (no lake there)")
    for part in lake.parts:
        lake.check_schema(part)
    return lake


def _spark_path(lake: Lake, path: str) -> str:
    if isinstance(lake.fs, pafs.LocalFileSystem):
        return "file://" + path  # not as_uri(): Hadoop reads "=" as is, not %3D
    scheme = urlparse(lake.location).scheme
    return f"{'s3a' if scheme == 's3' else scheme}://{path}"


_KINDS = {"access": ACCESS_SCHEMA, "signin": SIGNIN_SCHEMA, "ticket": TICKET_SCHEMA}
_TABLES = {"access": "accesses", "signin": "signins", "ticket": "ticket_events"}


def _lake_select(kind: str, source: str | None) -> str:
    """Spark SQL reading a kind's parts (the view ``source``; None: no part) as
    detection's table (lake_source.py's columns): the search results counted, an
    analyst's incident reads left out."""
    schema = _KINDS[kind]
    names = [n for n in schema.names if n != "result_count"]
    columns = ", ".join(f"`{n}`" for n in names)
    if source is None:
        empty = ", ".join(
            f"CAST(NULL AS {_spark_schema(pa.schema([f])).split(' ', 1)[1]}) AS {f.name}"
            for f in schema
        )
        return f"SELECT {empty} WHERE FALSE"
    if kind != "access":
        return f"SELECT {columns} FROM {source}"  # noqa: S608 - our names
    # An incident read: the extra field `incident` at the top level, a string.
    incident = (
        f"coalesce(extra LIKE '%\"{INCIDENT_FIELD}\":%' AND "
        f"schema_of_variant(try_variant_get(try_parse_json(extra), '$.{INCIDENT_FIELD}'))"
        " = 'STRING', FALSE)"
    )
    return (
        f"SELECT {columns}, CAST(json_array_length(results) AS BIGINT) AS result_count "  # noqa: S608
        f"FROM {source} WHERE NOT {incident}"
    )


class SparkFeatureEngine(FeatureEngine):
    """:class:`FeatureEngine` with Spark in place of DuckDB, over a lake: all of history
    at once (Spark keeps it on its disks), nothing buffered or pruned on the driver."""

    def __init__(
        self,
        *,
        lake: Lake,
        master: str,
        agents: pa.Table,
        customers: pa.Table,
        shifts: dict[str, tuple[str, str]],
        params: FeatureParams | None = None,
        rules: tuple[Rule, ...] = (),
    ) -> None:
        self.params = params or FeatureParams()
        self.rules = rules
        self._shifts = shifts
        self._shift_span = (0, -1)
        self.lake = lake
        self.session = SparkSession(master)
        self.db = self.session  # type: ignore[assignment]
        self.watermark = -1
        self.latest_us = 0
        self.origin_us = 0
        self.kept_until = 0
        try:
            self._load_directory(agents, customers)
        except BaseException:
            self.close()
            raise

    def _load_directory(self, agents: pa.Table, customers: pa.Table) -> None:
        self.session.register("agents", agents)
        self.session.register("customers", customers)
        for kind, name in _TABLES.items():
            paths = [_spark_path(self.lake, p.path) for p in self.lake.parts if p.kind == kind]
            if paths:
                self.session.parquet(f"lake_{kind}", paths, lake_schema(kind))
            self.session.view(name, _lake_select(kind, f"lake_{kind}" if paths else None))
            # Read and parsed once, kept by the executors (memory, then their disks): every
            # statement below reads them again.
            self.session.spark.catalog.cacheTable(name)
        self.session.execute(
            "CREATE TABLE IF NOT EXISTS shifts "
            "(agent VARCHAR, day_us BIGINT, start_us BIGINT, end_us BIGINT)"
        )
        from vigile.detect.features import _statements  # noqa: PLC0415

        for statement in _statements("schema"):
            self.session.execute(statement)

    def close(self) -> None:
        """Stop Spark and remove its folder."""
        self.session.close()

    def absorb_lake(self) -> int | None:
        """Fold the whole lake into the state; returns its earliest time (None: empty)."""
        [(earliest, latest, top)] = self.session.sql(
            "SELECT min(time_us), max(time_us), max(seq) FROM ("
            " SELECT time_us, seq FROM accesses UNION ALL SELECT time_us, seq FROM signins"
            " UNION ALL SELECT time_us, seq FROM ticket_events) e"
        ).fetchall()
        if earliest is None:
            return None
        self._cover_shifts(int(earliest), int(latest))
        from vigile.detect.features import _REMEMBER  # noqa: PLC0415

        for statement in _REMEMBER:
            self.session.execute(statement, {"after": self.watermark})
        self.watermark = int(top)
        self.origin_us = int(earliest)
        self.latest_us = int(latest)
        return int(earliest)

    def absorb(self, batch: EventBatch) -> int | None:
        """Spark reads the lake itself (:meth:`absorb_lake`), never batches."""
        raise DetectError("the Spark engine reads the lake, not batches")

    def prune(self, keep_from_us: int | None = None) -> None:
        """Nothing is buffered on the driver: the lake is the buffer."""

    def computed(self) -> Iterator[tuple[pa.Table, int]]:
        """Hour and day rows of every window of the lake, and the time before which all
        are computed (one step: :func:`~vigile.detect.service.scored_rows`' input)."""
        from vigile.detect.scoring import widen  # noqa: PLC0415
        from vigile.detect.source import HOUR_US  # noqa: PLC0415

        if self.absorb_lake() is None:
            return
        ready = self.latest_us - self.latest_us % DAY_US + DAY_US
        hours = widen(self.features(HOUR_US, 0, ready), HOUR_US)
        days = widen(self.aggregate(DAY_US, 0, ready), DAY_US)
        self.keep_evidence(0, ready)
        self.keep_customer_days(0, ready)
        yield pa.concat_tables([hours, days]), ready
