"""Apache Spark: the same analyses on a cluster (or `local[*]`), from the same query definitions.

Queries arrive in Sentinel's dialect (DuckDB SQL) and are transpiled (sentinel.engines.dialect); results come
back as Arrow. Small tables (the IP dimension, candidate pairs) are registered from Arrow and joined by
broadcast. Driver-side work on small data (parsing the distinct addresses of a capture) runs in a local
DuckDB (`local()`), once per distinct address, never per flow.

The session: `--spark-master URL` (default `local[*]`), or Spark Connect where SPARK_REMOTE is set. A
session that is already running in the process (tests, a notebook) is reused and left running.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pyarrow as pa

from sentinel import interrupt
from sentinel.engines import dialect, spark_jvm
from sentinel.errors import ConfigError, InputError, UnreadableData, first_line

if TYPE_CHECKING:
    from sentinel.engines.duckdb_engine import DuckDBEngine

_T = TypeVar("_T")

LOG_CONFIG = Path(__file__).with_name("log4j2.properties")
_MAGIC = b"PAR1"  # a Parquet file's first and last four bytes
_FOOTER_LIMIT = 64 << 20  # bytes: footers of Sentinel's files are kilobytes; a length beyond is not read
INSTALL_HINT = "--engine spark needs pyspark: pip install 'sentinel-analysis[spark]' (and Java 17 or newer)"


def _session(master: str | None) -> tuple[Any, bool]:
    try:
        with warnings.catch_warnings():  # pyspark warns about the pandas version on import; Sentinel uses none
            warnings.simplefilter("ignore", FutureWarning)
            from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active, False
    builder = SparkSession.builder.appName("sentinel")
    if os.environ.get("SPARK_REMOTE") and not master:
        builder = builder.remote(os.environ["SPARK_REMOTE"])
    else:
        settings = {
            # Times are UTC in and out; small result sets; no web UI for a command-line run.
            "spark.app.name": "sentinel",
            "spark.sql.session.timeZone": "UTC",
            # Overflow fails a statement instead of wrapping (Spark 4's default): byte sums rely on it.
            "spark.sql.ansi.enabled": "true",
            "spark.ui.enabled": "false",
            "spark.sql.shuffle.partitions": str(max(4, 2 * (os.cpu_count() or 2))),
            "spark.sql.execution.arrow.pyspark.enabled": "true",
            "spark.driver.memory": os.environ.get("SENTINEL_SPARK_DRIVER_MEMORY", "2g"),
            "spark.ui.showConsoleProgress": "false",
        }
        # Under spark-submit (which starts the JVM and says so in PYSPARK_GATEWAY_PORT) its --master stands.
        if master or "PYSPARK_GATEWAY_PORT" not in os.environ:
            settings["spark.master"] = master or "local[*]"
        if settings.get("spark.master", "").startswith("local"):
            # Sentinel keeps no tables (temporary views only), but Spark makes its warehouse folder as soon as
            # its catalog starts: in the temporary directory, not as ./spark-warehouse in the user's folder.
            settings["spark.sql.warehouse.dir"] = str(Path(tempfile.gettempdir()) / "sentinel-spark-warehouse")
        for key, value in settings.items():
            builder = builder.config(key, value)
        _launch_quietly(settings)
    # Starting a SparkContext replaces the process's SIGINT handler with Spark's own; Sentinel's (or the
    # caller's) is put back, and Sentinel's cancels Spark jobs itself (SparkEngine.query).
    before = signal.getsignal(signal.SIGINT) if threading.current_thread() is threading.main_thread() else None
    try:
        return builder.getOrCreate(), True
    except Exception as exc:  # a master that does not answer, ...
        raise ConfigError(f"--engine spark: cannot start a Spark session ({first_line(exc)})") from exc
    finally:
        if before is not None:
            signal.signal(signal.SIGINT, before)


def _launch_quietly(settings: dict[str, str]) -> None:
    """Start Spark's JVM with its standard output and error going to a log file, not to Sentinel's: the JVM
    prints start-up lines ("Using incubator modules", "Setting default log level") that would break `-q` and,
    on stdout, `--json -`. Sentinel learns of Spark's errors through py4j; the log only helps when the JVM
    itself cannot start: its last line is then quoted. The file is removed once read or once the JVM runs."""
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway

    if SparkContext._gateway is not None:  # a JVM this process started before: it is reused
        return
    # The JVM is launched with these (the builder's settings come too late for them); a user's own wins.
    own_args = "PYSPARK_SUBMIT_ARGS" not in os.environ
    if own_args:
        java = [f"-Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}"]
        java += spark_jvm.java_options(settings.get("spark.master"), settings.get("spark.driver.memory"))
        os.environ["PYSPARK_SUBMIT_ARGS"] = f'--driver-java-options "{" ".join(java)}" pyspark-shell'
    log = tempfile.NamedTemporaryFile(prefix="sentinel-spark-", suffix=".log", delete=False)  # noqa: SIM115
    try:
        conf = SparkConf(loadDefaults=False).setAll(list(settings.items()))
        gateway = launch_gateway(conf, popen_kwargs={"stdout": log, "stderr": subprocess.STDOUT})
    except Exception as exc:  # no Java, a broken installation
        log.flush()
        why = _last_line(Path(log.name)) or first_line(exc)
        raise ConfigError(f"--engine spark: cannot start Spark's JVM ({why})") from exc
    finally:
        if own_args:  # this launch's (an archive to write names a file of its own)
            del os.environ["PYSPARK_SUBMIT_ARGS"]
        log.close()  # the JVM keeps its own descriptor: its later lines go to the removed file, unseen
        _remove(log.name)
    SparkContext._ensure_initialized(gateway=gateway)


def _last_line(path: Path) -> str:
    with contextlib.suppress(OSError):
        lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
        return lines[-1][:300] if lines else ""
    return ""


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


class SparkEngine:
    name = "spark"
    #: row_number() OVER () does not follow file order on Spark: malformed-row examples cite files only.
    ordered_rows = False

    def __init__(self, master: str | None = None) -> None:
        # py4j logs a lost JVM connection (a Ctrl-C while Spark starts) with logging.exception on the root
        # logger, which configures logging on the spot and prints a traceback. Where the process has set up
        # no logging of its own, a null handler keeps those lines off the terminal; Sentinel reports the
        # interruption itself.
        if not logging.getLogger().handlers:
            logging.getLogger().addHandler(logging.NullHandler())
        # pyspark checks pandas' version when Arrow data is exchanged; Sentinel hands it Arrow, not pandas.
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
        self.spark, self._owned = _session(master)
        self.spark.conf.set("spark.sql.session.timeZone", "UTC")
        # A session Sentinel did not start may wrap on overflow: its sums are then always the exact form.
        self._ansi = str(self.spark.conf.get("spark.sql.ansi.enabled", "false")).lower() == "true"
        self._sources: dict[tuple[tuple[str, ...], bool], str] = {}
        self._temp_tables: dict[str, Any] = {}  # name -> its cached DataFrame
        # Tables registered from Arrow (lower-case name -> table), and those the driver's DuckDB has now.
        self._registered: dict[str, pa.Table] = {}
        self._local_tables: dict[str, pa.Table] = {}
        self._local: DuckDBEngine | None = None
        self.exact_reruns = 0  # statements run again with exact sums after their fast sums overflowed

    # -- Sentinel SQL -> Spark --------------------------------------------------------------------
    def _parquet_view(self, paths: list[str], options: dict[str, object]) -> str:
        from pyspark.sql import functions as F

        with_file = options.get("filename") is not None
        key = (tuple(paths), with_file)
        if key not in self._sources:
            reader = self.spark.read
            if str(options.get("union_by_name", "")).upper() == "TRUE":
                reader = reader.option("mergeSchema", "true")
            frame = reader.parquet(*paths)
            if with_file:
                # The path as DuckDB names it: Spark gives a URI (file:/x/y.parquet).
                name = F.regexp_replace(F.input_file_name(), "^file:(//)?", "")
                frame = frame.withColumn(str(options["filename"]), name)
            view = f"sentinel_source_{len(self._sources)}"
            frame.createOrReplaceTempView(view)
            self._sources[key] = view
        return self._sources[key]

    def translate(self, sql: str, exact_sums: bool = False) -> str:
        return dialect.to_spark(sql, self._parquet_view, exact_sums=exact_sums or not self._ansi)

    def _summing(self, sql: str, run: Callable[[bool], _T]) -> _T:
        """`run(False)`: the statement with one BIGINT sum per `sentinel_exact_sum`; where one overflowed (ANSI
        mode fails it), `run(True)`: the same statement with the exact three-part sums."""
        try:
            return run(False)
        except Exception as exc:
            # Without ANSI mode the first run had the exact sums already: nothing to run again.
            if not self._ansi or "ARITHMETIC_OVERFLOW" not in str(exc) or "sentinel_exact_sum" not in sql.lower():
                raise
        self.exact_reruns += 1
        return run(True)

    def _cancel(self) -> None:
        """Stop the running Spark jobs (Ctrl-C). Called from the signal handler while the main thread waits in
        a py4j call: the cancel goes out on a thread of its own (its own py4j connection), never re-entering
        the busy one. The waiting call then fails, and query() turns that into KeyboardInterrupt."""
        threading.Thread(target=self._cancel_jobs, name="sentinel-spark-cancel", daemon=True).start()

    def _cancel_jobs(self) -> None:
        try:
            self.spark.sparkContext.cancelAllJobs()
            return
        except Exception:  # Spark Connect has no SparkContext
            pass
        with contextlib.suppress(Exception):  # the session is going away anyway
            self.spark.interruptAll()

    def query(self, sql: str, params: list[Any] | None = None) -> pa.Table:
        interrupt.check()
        small = self._small_tables(sql)
        if small is not None:
            # Only tables registered from Arrow (the driver has them): the driver's DuckDB answers in
            # milliseconds, with the very semantics of the default engine, where a Spark job would first ship
            # them back to the JVM (seconds for the 240,000 addresses of a 10M-flow day).
            local = self.local()
            for name, table in small.items():
                if self._local_tables.get(name) is not table:
                    local.register(name, table)
                    self._local_tables[name] = table
            return local.query(sql, params)
        return self._summing(sql, lambda exact: _plain_types(self._action(self._sql(sql, params, exact).toArrow)))

    def _small_tables(self, sql: str) -> dict[str, pa.Table] | None:
        """The registered tables `sql` reads, when it reads nothing else; else None."""
        try:
            names = dialect.tables_read(sql)
        except Exception:  # what sqlglot cannot parse goes to Spark, which says what is wrong
            return None
        if not names or not names <= self._registered.keys():
            return None
        return {name: self._registered[name] for name in names}

    def _action(self, run: Callable[[], _T]) -> _T:
        """Run a Spark action: cancelled by Ctrl-C, its errors of reading the input mapped to the user's."""
        try:
            with interrupt.cancelling(self._cancel):
                result = run()
        except Exception as exc:
            if interrupt.requested():
                raise KeyboardInterrupt from None
            raise _mapped(exc) from exc
        interrupt.check()
        return result

    def execute(self, sql: str, params: list[Any] | None = None) -> None:
        interrupt.check()
        self._sql(sql, params)

    def _sql(self, sql: str, params: list[Any] | None, exact_sums: bool = False) -> Any:
        try:
            return self.spark.sql(self.translate(sql, exact_sums), args=list(params) if params else None)
        except ConfigError:
            raise
        except Exception as exc:
            raise _mapped(exc) from exc

    def register(self, name: str, table: pa.Table) -> None:
        from pyspark.sql import functions as F

        if table.num_rows:
            frame = self.spark.createDataFrame(table)
        else:  # an empty table carries no rows to infer its schema from
            frame = self.spark.createDataFrame([], _spark_schema(table))
        # Registered tables are small by contract (the address dimension, candidate pairs): every executor
        # gets a copy and joins locally, whatever Spark's size estimate says.
        F.broadcast(frame).createOrReplaceTempView(name)
        self._registered[name.lower()] = table

    def parquet_columns(self, path: str) -> list[str]:
        """The columns of Parquet at `path` (a file or folder, local or hdfs://, s3a://, ...), from its footer."""
        try:
            return list(self.spark.read.parquet(path).columns)
        except Exception as exc:
            raise InputError(path, f"cannot be read as Parquet by Spark ({first_line(exc)})") from exc

    def parquet_files(self, path: str) -> list[str] | None:
        """The files Spark reads as the Parquet at `path` (a file or folder, local or hdfs://, s3a://, ...), in
        Spark's own listing; None where it cannot list them."""
        try:
            return sorted(self.spark.read.parquet(path).inputFiles())
        except Exception:
            return None

    def copy_footer(self, path: str, to: Path) -> int | None:
        """Copy the footer of the Parquet file at `path` (any file system Spark's Hadoop settings reach) into a
        Parquet file `to` that holds nothing else: metadata readers (row count, statistics, key-value
        metadata) read it as they read the whole file, and only the footer's bytes cross the network. Returns
        the size of the file at `path`; None where there is no such file, no footer, or no JVM on this side
        (Spark Connect)."""
        jvm = getattr(self.spark, "_jvm", None)
        if jvm is None:
            return None
        stream = None
        try:
            hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
            fs = hadoop_path.getFileSystem(self.spark._jsc.hadoopConfiguration())
            size = int(fs.getFileStatus(hadoop_path).getLen())
            stream = fs.open(hadoop_path)

            def read(position: int, length: int) -> bytes:
                stream.seek(position)
                return bytes(stream.readNBytes(length))  # a byte[] returned crosses py4j as bytes

            if size < 12:
                return None
            tail = read(size - 8, 8)
            length = int.from_bytes(tail[:4], "little")
            if tail[4:] != _MAGIC or not 0 < length <= min(size - 12, _FOOTER_LIMIT):
                return None  # no footer, or one larger than any Sentinel reads (a hostile length)
            to.write_bytes(_MAGIC + read(size - 8 - length, length) + tail)
            return size
        except Exception:  # no such file, a file system that cannot be reached: nothing proven
            return None
        finally:
            if stream is not None:
                with contextlib.suppress(Exception):
                    stream.close()

    def create_view(self, name: str, sql: str) -> None:
        self._registered.pop(name.lower(), None)  # the name now means the view
        self.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")

    def create_temp_table(self, name: str, sql: str) -> None:
        """The rows cached by the executors (memory, then disk) under a temporary view; counted at once, so
        that they are computed here, once, and not by the first of the queries that read them."""
        interrupt.check()
        self.drop_temp_table(name)
        self._registered.pop(name.lower(), None)  # the name now means the cached rows

        def build(exact: bool) -> None:
            frame = self._sql(sql, None, exact).persist()
            try:
                self._action(frame.count)
            except BaseException:
                frame.unpersist()
                raise
            self._temp_tables[name] = frame
            frame.createOrReplaceTempView(name)

        self._summing(sql, build)

    def drop_temp_table(self, name: str) -> None:
        frame = self._temp_tables.pop(name, None)
        if frame is not None:
            self.spark.catalog.dropTempView(name)
            frame.unpersist()

    @contextlib.contextmanager
    def in_input_order(self) -> Iterator[None]:
        yield  # Spark has no such mode; `ordered_rows` tells callers

    def local(self) -> DuckDBEngine:
        """A DuckDB connection on the driver for small data (the distinct addresses of a capture)."""
        if self._local is None:
            from sentinel.engines.duckdb_engine import DuckDBEngine

            self._local = DuckDBEngine()
        return self._local

    def close(self) -> None:
        if self._local is not None:
            self._local.close()
        for name in list(self._temp_tables):
            self.drop_temp_table(name)
        for view in self._sources.values():
            self.spark.catalog.dropTempView(view)
        # A session this engine started ends with the process; stopping it here would cost seconds per run
        # and break a caller (tests, a notebook) that goes on using Spark.


def _mapped(exc: Exception) -> Exception:
    """Errors of reading the input are the user's (exit 3); anything else stays a bug."""
    text = str(exc)
    markers = ("PATH_NOT_FOUND", "FAILED_READ_FILE", "CANNOT_READ_FILE", "Could not read footer", "not a Parquet file")
    if any(m in text for m in markers):
        return UnreadableData(first_line(exc))
    return exc


def _plain_types(table: pa.Table) -> pa.Table:
    """Spark's Arrow output with the types DuckDB gives for the same query (large strings as strings)."""
    fields = []
    for field in table.schema:
        if pa.types.is_large_string(field.type):
            field = field.with_type(pa.string())
        fields.append(field)
    schema = pa.schema(fields)
    return table if schema == table.schema else table.cast(schema)


def _spark_schema(table: pa.Table) -> Any:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(table.schema)
