"""The launcher's MiniStack patches (infra/emulator/): direct invocations, patient instance starts, shared unpacked code,
log streams per interval, the lazy depth counter, the runtime's packages and yielding bcrypt instances.

A fake worker class stands in for the function processes: the pool's decisions (reuse, start,
wait) are what is tested, with MiniStack's pool lock, keys and lists.
"""

import os
import subprocess
import sys
import tempfile
import threading
import time

import pytest
from ministack.core import lambda_runtime
from ministack.services import lambda_svc

from infra.emulator import (
    direct_invocations,
    frozen_old_objects,
    lazy_invoke_depth,
    patient_instances,
    runtime_packages,
    shared_unpacking,
    streams_per_interval,
    yielding_instances,
)

GRACE = 0.2
CONFIG = {"FunctionName": "f", "FunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:f", "Timeout": 1}


class FakeWorker:
    def __init__(self, func_name, config, code_zip):
        self.func_name = func_name
        self.in_use = False
        self.last_used = 0.0


@pytest.fixture
def pool(monkeypatch):
    monkeypatch.setattr(lambda_runtime, "_workers", {})
    monkeypatch.setattr(lambda_runtime, "_worker_class_for", lambda config: FakeWorker)
    provisioned = {"f": 2}
    return patient_instances.PatientPool(
        lambda_runtime, lambda name, qualifier: provisioned.get(name, 0), grace_seconds=GRACE, ceiling=3
    )


def acquire_in_background(pool, name="f"):
    outcome = {}

    def run():
        started = time.monotonic()
        outcome["worker"], outcome["reason"] = pool.acquire(name, dict(CONFIG, FunctionName=name), b"zip")
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_provisioned_instances_start_at_once_and_free_ones_are_reused(pool):
    first, second = (pool.acquire("f", CONFIG, b"zip") for _ in range(2))
    assert [first[1], second[1]] == ["spawn", "spawn"] and first[0] is not second[0]
    pool.release(first[0])
    assert pool.acquire("f", CONFIG, b"zip") == (first[0], "reused")


def test_past_the_provisioned_instances_a_busy_function_waits_for_one_to_come_free(pool):
    busy = [pool.acquire("f", CONFIG, b"zip")[0] for _ in range(2)]
    thread, outcome = acquire_in_background(pool)
    time.sleep(GRACE / 4)
    pool.release(busy[1])
    thread.join()
    assert outcome["reason"] == "reused" and outcome["worker"] is busy[1]
    assert outcome["seconds"] < GRACE
    assert len(lambda_runtime._workers[lambda_runtime._worker_key("f", CONFIG, "$LATEST")]) == 2


def test_an_instance_starts_when_none_comes_free_within_the_grace(pool):
    for _ in range(2):
        pool.acquire("f", CONFIG, b"zip")
    thread, outcome = acquire_in_background(pool)
    thread.join()
    assert outcome["reason"] == "spawn"
    assert GRACE <= outcome["seconds"] < GRACE + 0.15


def test_a_release_of_another_function_does_not_end_the_wait(pool):
    for _ in range(2):
        pool.acquire("f", CONFIG, b"zip")
    other = pool.acquire("g", dict(CONFIG, FunctionName="g"), b"zip")[0]
    thread, outcome = acquire_in_background(pool)
    time.sleep(GRACE / 4)
    pool.release(other)
    thread.join()
    assert outcome["reason"] == "spawn" and outcome["seconds"] >= GRACE


def test_at_the_ceiling_it_waits_up_to_the_function_timeout_instead_of_starting_more(pool):
    busy = [pool.acquire("f", CONFIG, b"zip")[0] for _ in range(2)]
    busy.append(pool.acquire("f", CONFIG, b"zip")[0])  # the third, after the grace: the ceiling
    thread, outcome = acquire_in_background(pool)
    time.sleep(GRACE * 2)
    assert thread.is_alive()
    pool.release(busy[0])
    thread.join()
    assert outcome["reason"] == "reused" and outcome["worker"] is busy[0]
    thread, outcome = acquire_in_background(pool)
    thread.join()
    assert outcome["reason"] == "spawn" and outcome["seconds"] >= CONFIG["Timeout"]


def test_patient_instances_match_the_pinned_ministack_and_are_applied(monkeypatch):
    """Fails loudly when a MiniStack upgrade changes the pool that infra/emulator/patient_instances.py replaces."""
    for module in (lambda_runtime, lambda_svc):
        monkeypatch.setattr(module, "acquire_worker", module.acquire_worker)
        monkeypatch.setattr(module, "release_worker", module.release_worker)
    pool = patient_instances.patient_instances()
    assert lambda_svc.acquire_worker == pool.acquire and lambda_runtime.acquire_worker == pool.acquire
    assert lambda_svc.release_worker == pool.release and lambda_runtime.release_worker == pool.release


def test_the_provisioned_count_is_read_from_what_the_lambda_api_recorded(monkeypatch):
    monkeypatch.setattr(
        lambda_svc,
        "_functions",
        {"f": {"provisioned_concurrency": {"$LATEST": {"RequestedProvisionedConcurrentExecutions": 4}}}, "g": {}},
    )
    assert patient_instances.provisioned_instances("f", "$LATEST") == 4
    assert patient_instances.provisioned_instances("g", "$LATEST") == 0
    assert patient_instances.provisioned_instances("missing", "$LATEST") == 0


def write_zip(path, files):
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def test_instances_of_the_same_code_share_one_unpacked_copy(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    layer = {"python/pkg/__init__.py": "VALUE = 1\n", "python/pkg/data.txt": "x", "python/../../escape.txt": "no"}
    targets = []
    for instance in range(2):
        zip_path = write_zip(tmp_path / f"layer_{instance}.zip", layer)  # each instance writes its own zip
        target = tmp_path / f"instance_{instance}"
        target.mkdir()
        with shared_unpacking.SharedUnpackingZipFile(zip_path) as archive:
            assert archive.namelist() == []
            archive.extractall(str(target))
        targets.append(target)
    shared = {path.resolve() for target in targets for path in target.iterdir()}
    assert len(shared) == 1 and (targets[0] / "python").is_symlink()
    assert (targets[1] / "python" / "pkg" / "__init__.py").read_text() == "VALUE = 1\n"
    assert not (tmp_path / "escape.txt").exists() and not any(tmp_path.glob("unpacked/*/../escape.txt"))
    assert len(list((tmp_path / "unpacked").iterdir())) == 1

    changed = write_zip(tmp_path / "layer_2.zip", dict(layer, **{"python/pkg/__init__.py": "VALUE = 2\n"}))
    target = tmp_path / "instance_2"
    target.mkdir()
    with shared_unpacking.SharedUnpackingZipFile(changed) as archive:
        archive.extractall(str(target))
    assert (target / "python" / "pkg" / "__init__.py").read_text() == "VALUE = 2\n"
    assert (targets[0] / "python" / "pkg" / "__init__.py").read_text() == "VALUE = 1\n"
    import shutil

    shutil.rmtree(targets[0])  # what MiniStack does when an instance goes: the shared copy stays
    assert (targets[1] / "python" / "pkg" / "data.txt").read_text() == "x"


def test_shared_unpacking_matches_the_pinned_ministack_and_is_applied(monkeypatch):
    """Fails loudly when a MiniStack upgrade changes the Worker._spawn that shared_unpacking relies on."""
    monkeypatch.setattr(lambda_runtime, "zipfile", lambda_runtime.zipfile)
    shared_unpacking.shared_unpacking()
    assert lambda_runtime.zipfile.ZipFile is shared_unpacking.SharedUnpackingZipFile
    assert lambda_runtime.zipfile.BadZipFile is __import__("zipfile").BadZipFile


def test_invocations_of_the_same_ten_seconds_share_a_log_stream(monkeypatch):
    from ministack.services import cloudwatch_logs

    monkeypatch.setattr(lambda_svc, "_emit_lambda_logs", lambda_svc._emit_lambda_logs)
    monkeypatch.setattr(lambda_svc, "new_uuid", lambda_svc.new_uuid)
    monkeypatch.setattr(cloudwatch_logs, "_log_groups", {})
    streams_per_interval.streams_per_interval(interval_seconds=3600)
    function = {"config": {"FunctionName": "f", "Version": "$LATEST"}}
    for request in ("r1", "r2"):
        lambda_svc._emit_lambda_logs(function, request, f"line of {request}", False, 5)
    lambda_svc._emit_lambda_logs({"config": {"FunctionName": "g"}}, "r3", "line of r3", False, 5)
    streams = cloudwatch_logs._log_groups["/aws/lambda/f"]["streams"]
    assert len(streams) == 1
    ((name, stream),) = streams.items()
    assert name.rsplit("]", 1)[1] == f"{int(time.time() // 3600):032x}"
    messages = [event["message"] for event in stream["events"]]
    assert [m for m in messages if m.startswith(("START", "line"))] == [
        "START RequestId: r1 Version: $LATEST",
        "line of r1",
        "START RequestId: r2 Version: $LATEST",
        "line of r2",
    ]
    assert len(cloudwatch_logs._log_groups["/aws/lambda/g"]["streams"]) == 1
    assert len({lambda_svc.new_uuid() for _ in range(3)}) == 3  # outside a log write: new ids as before


def test_lazy_invoke_depth_matches_the_pinned_ministack_and_is_applied(monkeypatch):
    """Fails loudly when a MiniStack upgrade changes the worker's depth-counter bootstrap."""
    monkeypatch.setattr(lambda_runtime, "_PYTHON_WORKER_SCRIPT", lambda_runtime._PYTHON_WORKER_SCRIPT)
    rest = lambda_runtime._PYTHON_WORKER_SCRIPT[len(lambda_runtime.INVOKE_DEPTH_BOOTSTRAP) :]
    lazy_invoke_depth.lazy_invoke_depth()
    lazy = lambda_runtime._sub_runtime_tokens(lazy_invoke_depth.LAZY_INVOKE_DEPTH_BOOTSTRAP)
    assert lazy + rest == lambda_runtime._PYTHON_WORKER_SCRIPT
    assert "__DEPTH_ENV__" not in lazy and "_MINISTACK_INVOKE_DEPTH" in lazy


DEPTH_PROBE = """
import os, sys
_ms_install_invoke_depth()
print("botocore before the function's code:", "botocore" in sys.modules)
import botocore.session  # the function's code, creating a client
os.environ["_MINISTACK_INVOKE_DEPTH"] = "3"
client = botocore.session.get_session().create_client(
    "lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x", endpoint_url="http://127.0.0.1:9"
)
sent = {}


class Captured(Exception):
    pass


def capture(request, **kwargs):
    sent.update(request.headers)
    raise Captured


client.meta.events.register("before-send", capture)
try:
    client.list_functions()
except Captured:
    pass
print("depth header:", sent.get("X-Ministack-Invoke-Depth"))
"""


@pytest.mark.parametrize("bootstrap", ["MiniStack's", "lazy"])
def test_the_depth_counter_reaches_calls_of_a_function_that_imports_botocore(bootstrap):
    """The worker's bootstrap, then a function's code that builds a client and calls: the call
    carries the nesting depth either way; only MiniStack's own bootstrap imports botocore first."""
    if bootstrap == "lazy":
        code = lambda_runtime._sub_runtime_tokens(lazy_invoke_depth.LAZY_INVOKE_DEPTH_BOOTSTRAP)
    else:
        code = lambda_runtime.INVOKE_DEPTH_BOOTSTRAP
    result = subprocess.run([sys.executable, "-c", code + DEPTH_PROBE], capture_output=True, text=True, check=True)
    imported_first = bootstrap == "MiniStack's"
    assert result.stdout.splitlines() == [
        f"botocore before the function's code: {imported_first}",
        "depth header: b'3'",
    ]


def test_instances_of_the_yielding_functions_run_at_a_lower_priority():
    started = []

    def spawn(worker):
        worker._proc = subprocess.Popen(["sleep", "30"])
        started.append(worker._proc)

    class FakeWorker:
        def __init__(self, func_name: str) -> None:
            self.func_name, self._proc = func_name, None

    spawn_and_yield = yielding_instances.lower_priority_after(spawn, ("IdentityCredentialsFunction",), 10)
    try:
        for name in ("eduplatform-IdentityCredentialsFunction-1A2B", "eduplatform-CourseApiFunction-3C4D"):
            spawn_and_yield(FakeWorker(name))
        assert [os.getpriority(os.PRIO_PROCESS, proc.pid) for proc in started] == [
            10,
            os.getpriority(os.PRIO_PROCESS, 0),
        ]
    finally:
        for proc in started:
            proc.kill()
            proc.wait()


def test_yielding_instances_match_the_pinned_ministack_and_are_applied(monkeypatch):
    """Fails loudly when a MiniStack upgrade changes the Worker._spawn it wraps."""
    original = lambda_runtime.Worker._spawn
    monkeypatch.setattr(lambda_runtime.Worker, "_spawn", original)
    yielding_instances.yielding_instances()
    assert lambda_runtime.Worker._spawn is not original
    assert lambda_runtime.Worker._spawn.__name__ == "spawn_and_yield"


def test_direct_invocations_match_the_pinned_ministack_and_are_applied(monkeypatch):
    """Fails loudly when a MiniStack upgrade changes the Worker.invoke or the worker script's end it replaces."""
    monkeypatch.setattr(lambda_runtime, "_PYTHON_WORKER_SCRIPT", lambda_runtime._PYTHON_WORKER_SCRIPT)
    monkeypatch.setattr(lambda_runtime.Worker, "invoke", lambda_runtime.Worker.invoke)
    direct_invocations.direct_invocations()
    assert lambda_runtime.Worker.invoke.__name__ == "invoke_directly"
    assert lambda_runtime._PYTHON_WORKER_SCRIPT.count(repr(direct_invocations.END_OF_LOGS)) == 1


HANDLER = """
import os, sys, time

def handler(event, context):
    print("handling", event["n"])
    if event.get("stray"):
        os.write(1, b"a line on the real stdout\\n")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("fail"):
        raise ValueError("bad input")
    print("done", event["n"])
    return {"n": event["n"], "request": context.aws_request_id}
"""


@pytest.fixture
def direct_worker(tmp_path, monkeypatch):
    import io
    import zipfile

    monkeypatch.setattr(lambda_runtime, "_PYTHON_WORKER_SCRIPT", lambda_runtime._PYTHON_WORKER_SCRIPT)
    monkeypatch.setattr(lambda_runtime.Worker, "invoke", lambda_runtime.Worker.invoke)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    direct_invocations.direct_invocations()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as code:
        code.writestr("app.py", HANDLER)
    config = dict(CONFIG, Runtime="python3.12", Handler="app.handler", Timeout=2)
    worker = lambda_runtime.Worker("f", config, archive.getvalue())
    yield worker
    worker.kill()


def test_a_python_instance_answers_in_the_calling_thread_with_its_own_log_lines(direct_worker):
    threads = threading.active_count()
    first = direct_worker.invoke({"n": 1}, "request-1")
    second = direct_worker.invoke({"n": 2, "stray": True}, "request-2")
    assert first["status"] == second["status"] == "ok"
    assert first["result"] == {"n": 1, "request": "request-1"} and second["result"]["n"] == 2
    assert (first["cold_start"], second["cold_start"]) == (True, False)
    assert first["log"] == "handling 1\ndone 1" and second["log"] == "handling 2\ndone 2"
    assert threading.active_count() == threads + 1  # the instance's stderr reader, no thread per invocation


def test_a_failed_invocation_ends_its_instance_and_keeps_its_log_lines(direct_worker):
    failed = direct_worker.invoke({"n": 3, "fail": True}, "request-3")
    assert failed["status"] == "error" and failed["error"] == "bad input"
    assert failed["log"] == "handling 3" and direct_worker._proc is None
    assert direct_worker.invoke({"n": 4}, "request-4")["cold_start"] is True


def test_an_invocation_past_the_function_timeout_kills_its_instance(direct_worker):
    started = time.monotonic()
    timed_out = direct_worker.invoke({"n": 5, "sleep": 30}, "request-5")
    assert timed_out["status"] == "error" and timed_out["error"] == "Task timed out after 2.00 seconds"
    assert 2 <= time.monotonic() - started < 10 and direct_worker._proc is None


def test_log_lines_end_at_their_own_invocation_marker():
    import queue

    lines = queue.Queue()
    marker = direct_invocations.END_OF_LOGS
    for line in ("late line of r1", f"{marker}r1", "line of r2", f"{marker}r2", "line of r3"):
        lines.put(line)
    assert direct_invocations.logs_until_end_marker(lines, "r2") == "late line of r1\nline of r2"
    started = time.monotonic()
    assert direct_invocations.logs_until_end_marker(lines, "r3", cap_seconds=0.05) == "line of r3"
    assert time.monotonic() - started >= 0.05


def test_the_emulators_old_objects_are_collected_once_then_frozen():
    import gc
    import weakref

    class Node:
        pass

    gc.disable()  # no automatic collection may free the cycle first
    node = Node()
    node.itself = node  # garbage only the cycle collector frees
    garbage = weakref.ref(node)
    del node
    gc.unfreeze()
    try:
        thread = frozen_old_objects.frozen_old_objects(first_after=0.05, every=3600)
        deadline = time.monotonic() + 5
        while gc.get_freeze_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert gc.get_freeze_count() > 0 and thread.is_alive()
        assert garbage() is None  # collected before the freeze, not frozen
    finally:
        gc.unfreeze()
        gc.enable()


RUNTIME_PROBE = """
import importlib.util, sys

def handler(event, context):
    found = {name: importlib.util.find_spec(name) is not None for name in ("boto3", "dateutil", "pytest", "app")}
    return {**found, "site-packages": [path for path in sys.path if path.endswith("site-packages")]}
"""


def test_an_instance_imports_the_runtimes_packages_and_not_the_emulators(tmp_path, monkeypatch):
    """boto3 and its dependencies, as the Lambda runtime has them; not the venv's other packages (pytest here)."""
    import io
    import zipfile

    monkeypatch.setattr(lambda_runtime, "_PYTHON_WORKER_SCRIPT", lambda_runtime._PYTHON_WORKER_SCRIPT)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    runtime_packages.runtime_packages(tmp_path / "lambda-runtime")
    assert lambda_runtime._PYTHON_WORKER_SCRIPT.count("runtime_packages:") == 1
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as code:
        code.writestr("app.py", RUNTIME_PROBE)
    worker = lambda_runtime.Worker("f", dict(CONFIG, Runtime="python3.12", Handler="app.handler"), archive.getvalue())
    try:
        answer = worker.invoke({}, "request-1")
    finally:
        worker.kill()
    assert answer["result"] == {"boto3": True, "dateutil": True, "pytest": False, "app": True, "site-packages": []}
