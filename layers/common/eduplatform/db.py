"""PostgreSQL access: one connection per warm function instance.

A Lambda instance handles one request at a time, so a single connection is all it
needs. It is opened on first use (not at import, so a cold start with the database
down still answers 503 rather than failing to initialise) and discarded after any
connection-level failure, so the next request reconnects without a redeploy.
"""

import select
import weakref
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from typing import Any, NoReturn

import psycopg
from aws_lambda_powertools.event_handler.exceptions import ServiceUnavailableError
from psycopg.rows import DictRow, dict_row

from eduplatform import snapstart
from eduplatform.observability import logger
from eduplatform.secrets import secret
from eduplatform.settings import get_settings

# Every connection returns its rows as dicts (column name -> value).
Connection = psycopg.Connection[DictRow]


def one(cursor: psycopg.Cursor[DictRow]) -> DictRow:
    """The row of a statement that always returns one (a count, an INSERT ... RETURNING that inserts)."""
    row = cursor.fetchone()
    if row is None:
        raise LookupError("the statement returned no row")
    return row


def _closed_by_server(conn: Connection) -> bool:
    """Whether a kept connection has something to read while idle: the server has closed it
    (a restart, pg_terminate_backend, a proxy's idle timeout) and said so. No round trip.

    A connection another thread is using (its lock held, or inside a transaction) is not idle, and
    what it reads is its own: it is left alone.
    """
    if not conn.lock.acquire(blocking=False):
        return False
    try:
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            return False
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
        return bool(readable)
    finally:
        conn.lock.release()


class Database:
    def __init__(self, url: str | None, name: str = "database") -> None:
        self._url = url
        self._name = name
        self._conn: Connection | None = None
        _instances.add(self)

    def _connection(self) -> Connection:
        if self._conn is not None and not self._conn.closed and not self._conn.broken:
            if not _closed_by_server(self._conn):
                return self._conn
            self._discard()
        if not self._url:
            raise RuntimeError(f"No URL configured for the {self._name} database")
        self._conn = psycopg.connect(
            self._url,
            autocommit=True,
            row_factory=dict_row,
            connect_timeout=get_settings().db_connect_timeout_seconds,
            application_name=self._name,
            # Functions reach PostgreSQL through a transaction-pooling proxy (PgBouncer
            # locally, RDS Proxy on AWS): a server-side prepared statement would not
            # follow the next transaction to another server connection.
            prepare_threshold=None,
        )
        return self._conn

    def _discard(self) -> None:
        if self._conn is not None:
            with suppress(psycopg.Error):
                self._conn.close()
        self._conn = None

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Run the block in one transaction; commit on success, roll back on error.

        Connection-level failures become 503 "Service unavailable" and drop the
        connection so that the next request opens a fresh one.
        """
        try:
            with ExitStack() as stack:
                conn = self._begin(stack)
                yield conn
        except psycopg.OperationalError as exc:
            self._unavailable(exc)

    def statement(self, query: str, params: Any = None) -> list[dict[str, Any]]:
        """Run one statement on its own (autocommit: no BEGIN/COMMIT round trips); its rows, if any.

        A kept connection the server has since dropped is replaced and the statement sent again,
        so use it for reads and for writes that are safe to repeat; failures are handled as in
        ``transaction``.
        """
        reused = self._conn is not None
        try:
            try:
                return self._run(query, params)
            except psycopg.OperationalError:
                if not reused:
                    raise
                self._discard()
                return self._run(query, params)
        except psycopg.OperationalError as exc:
            self._unavailable(exc)

    def write(self, query: str, params: Any = None) -> list[dict[str, Any]]:
        """Run one writing statement on its own: atomic without BEGIN and COMMIT, so one round trip.

        It is sent once only (a failure after sending leaves the outcome to the server): a kept
        connection the server has closed since is noticed before sending and replaced. Failures
        are handled as in ``transaction``.
        """
        try:
            return self._run(query, params)
        except psycopg.OperationalError as exc:
            self._unavailable(exc)

    def _run(self, query: str, params: Any) -> list[dict[str, Any]]:
        cursor = self._connection().execute(query, params)
        return cursor.fetchall() if cursor.description is not None else []

    def _unavailable(self, exc: psycopg.OperationalError) -> NoReturn:
        logger.warning("database unavailable", extra={"database": self._name, "error": str(exc)})
        self._discard()
        raise ServiceUnavailableError(f"The {self._name} database is unavailable, try again later") from exc

    def _begin(self, stack: ExitStack) -> Connection:
        """Open the transaction; a kept connection the server has since dropped is replaced once.

        BEGIN is the first thing sent, so when it fails nothing of the caller's has run
        yet and retrying on a new connection is safe (e.g. after a database restart).
        """
        reused = self._conn is not None
        conn = self._connection()
        try:
            stack.enter_context(conn.transaction())
            return conn
        except psycopg.OperationalError:
            if not reused:
                raise
            self._discard()
            conn = self._connection()
            stack.enter_context(conn.transaction())
            return conn

    def ping(self) -> None:
        with self.transaction() as conn:
            conn.execute("SELECT 1")

    def close(self) -> None:
        self._discard()


_instances: weakref.WeakSet[Database] = weakref.WeakSet()


def close_connections() -> None:
    """Close every Database's connection; each opens a new one at its next use. SnapStart: none in
    the snapshot, and none of a snapshot's sockets in a restored instance (eduplatform.snapstart)."""
    for instance in list(_instances):
        instance.close()


snapstart.before_snapshot(close_connections)
snapstart.after_restore(close_connections)

_domain_database: Database | None = None


def database() -> Database:
    """The function's own domain database (DATABASE_URL, or the SSM parameter DATABASE_URL_PARAMETER)."""
    global _domain_database
    if _domain_database is None:
        _domain_database = Database(secret("database_url"), name="domain")
    return _domain_database


def reset_database() -> None:
    """Forget the cached connection (used when the configuration changes, e.g. in tests)."""
    global _domain_database
    if _domain_database is not None:
        _domain_database.close()
    _domain_database = None
