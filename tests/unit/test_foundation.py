"""The shared layer's database access and the migration runner."""

import hashlib
import threading

import psycopg
import pytest
from aws_lambda_powertools.event_handler.exceptions import ServiceUnavailableError

from infra import migrate as migrations
from infra.local.databases import drop_database, ensure_database
from tests.support.databases import isolated_database_url

from eduplatform.db import Database


@pytest.fixture
def scratch_url():
    url = isolated_database_url("test", "scratch")
    drop_database(url)
    ensure_database(url)
    yield url
    drop_database(url)


def test_connection_is_reopened_after_the_server_dropped_it(scratch_url):
    database = Database(scratch_url, name="scratch")
    with database.transaction() as conn:
        backend_pid = conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]
    with psycopg.connect(scratch_url, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s, 5000)", (backend_pid,)).fetchone()[0]
    with database.transaction() as conn:
        assert conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"] != backend_pid
    database.close()


def test_a_write_after_the_server_dropped_the_kept_connection_goes_once_on_a_new_one(scratch_url):
    """A write is never sent twice; a kept connection the server closed is noticed before sending."""
    database = Database(scratch_url, name="scratch")
    database.write("CREATE TABLE t (x int)")
    backend_pid = database.statement("SELECT pg_backend_pid() AS pid")[0]["pid"]
    with psycopg.connect(scratch_url, autocommit=True) as admin:
        # With a timeout the call returns once the backend has gone (and so has said goodbye);
        # without one it returns when the signal is sent, and the write could race the goodbye.
        assert admin.execute("SELECT pg_terminate_backend(%s, 5000)", (backend_pid,)).fetchone()[0]
        assert database.write("INSERT INTO t VALUES (1) RETURNING pg_backend_pid() AS pid")[0]["pid"] != backend_pid
        assert admin.execute("SELECT count(*) FROM t").fetchone()[0] == 1
    database.close()


def test_a_write_whose_connection_fails_after_sending_is_503_and_not_sent_again(scratch_url):
    database = Database(scratch_url, name="scratch")
    database.write("CREATE TABLE t (x int)")
    backend_pid = database.statement("SELECT pg_backend_pid() AS pid")[0]["pid"]
    with pytest.raises(ServiceUnavailableError) as raised:
        # The server ends the connection in the middle of the statement (which then does not commit).
        database.write("INSERT INTO t SELECT pg_terminate_backend(%s)::int", (backend_pid,))
    assert "scratch database is unavailable" in raised.value.msg
    with psycopg.connect(scratch_url, autocommit=True) as admin:
        assert admin.execute("SELECT count(*) FROM t").fetchone()[0] == 0
    assert database.write("INSERT INTO t VALUES (2) RETURNING x")[0]["x"] == 2  # a new connection next time
    database.close()


def test_a_connection_busy_in_another_thread_is_not_taken_for_one_the_server_closed(scratch_url):
    """What a statement's result makes readable belongs to that statement: a second thread asking
    for the connection meanwhile keeps it (psycopg connections may be shared between threads)."""
    database = Database(scratch_url, name="scratch")
    backend_pid = database.statement("SELECT pg_backend_pid() AS pid")[0]["pid"]
    pids: list[int] = []

    def ask() -> None:
        for _ in range(300):  # short statements: one thread often asks while the other's result is arriving
            pids.append(database.statement("SELECT pg_backend_pid() AS pid")[0]["pid"])

    threads = [threading.Thread(target=ask, daemon=True) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert pids == [backend_pid] * 600
    database.close()


def test_unreachable_database_is_503_and_recovers(scratch_url):
    database = Database("postgresql://postgres@127.0.0.1:1/nowhere", name="scratch")
    with pytest.raises(ServiceUnavailableError) as raised, database.transaction():
        pass
    assert "scratch database is unavailable" in raised.value.msg
    database._url = scratch_url  # the database comes back (e.g. after a restart)
    with database.transaction() as conn:
        assert conn.execute("SELECT 1 AS one").fetchone()["one"] == 1
    database.close()


def test_a_failed_block_rolls_back(scratch_url):
    database = Database(scratch_url)
    with database.transaction() as conn:
        conn.execute("CREATE TABLE t (x int)")

    def insert_then_fail() -> None:
        with database.transaction() as conn:
            conn.execute("INSERT INTO t VALUES (1)")
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        insert_then_fail()
    with database.transaction() as conn:
        assert conn.execute("SELECT count(*) AS n FROM t").fetchone()["n"] == 0
    database.close()


def test_migrations_apply_once_and_refuse_edited_files(scratch_url, tmp_path, monkeypatch):
    folder = tmp_path / "scratch"
    folder.mkdir()
    (folder / "001_first.sql").write_text("CREATE TABLE a (x int);")
    monkeypatch.setattr(migrations, "MIGRATIONS_DIR", tmp_path)
    assert migrations.migrate("scratch", scratch_url) == ["001_first.sql"]
    (folder / "002_second.sql").write_text("CREATE TABLE b (x int);")
    assert migrations.migrate("scratch", scratch_url) == ["002_second.sql"]
    assert migrations.migrate("scratch", scratch_url) == []

    (folder / "001_first.sql").write_text("-- The first table.\n\nCREATE TABLE a (x int);\n")
    assert migrations.migrate("scratch", scratch_url) == [], "a reworded comment is not a changed migration"

    (folder / "001_first.sql").write_text("CREATE TABLE a (x bigint);")
    with pytest.raises(migrations.AppliedMigrationChanged):
        migrations.migrate("scratch", scratch_url)


def test_a_checksum_recorded_over_the_whole_file_is_re_recorded_over_its_statements(scratch_url, tmp_path, monkeypatch):
    folder = tmp_path / "scratch"
    folder.mkdir()
    migration = folder / "001_first.sql"
    migration.write_text("CREATE TABLE a (x int);")
    monkeypatch.setattr(migrations, "MIGRATIONS_DIR", tmp_path)
    migrations.migrate("scratch", scratch_url)
    with psycopg.connect(scratch_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE schema_migrations SET checksum = %s", (hashlib.sha256(migration.read_bytes()).hexdigest(),)
        )

    assert migrations.migrate("scratch", scratch_url) == []
    with psycopg.connect(scratch_url, autocommit=True) as conn:
        assert conn.execute("SELECT checksum FROM schema_migrations").fetchone()[0] == migrations.checksum(migration)
    migration.write_text("CREATE TABLE a (x bigint);")
    with pytest.raises(migrations.AppliedMigrationChanged):
        migrations.migrate("scratch", scratch_url)


def test_migration_file_names_are_checked(tmp_path, monkeypatch):
    (tmp_path / "scratch").mkdir()
    (tmp_path / "scratch" / "1_bad name.sql").write_text("SELECT 1;")
    monkeypatch.setattr(migrations, "MIGRATIONS_DIR", tmp_path)
    with pytest.raises(ValueError, match=r"must look like 001_name\.sql"):
        migrations.migration_files("scratch")


def test_functions_reach_the_database_through_the_pooler():
    from infra.config import POOLER_PORT
    from infra.local.pooler import pooled_url

    assert (
        pooled_url("postgresql://course:secret@127.0.0.1:5432/course")
        == f"postgresql://course:secret@127.0.0.1:{POOLER_PORT}/course"
    )
    assert pooled_url("postgresql://localhost/e2e_course") == f"postgresql://127.0.0.1:{POOLER_PORT}/e2e_course"
