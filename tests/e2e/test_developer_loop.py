"""The developer's loop on the deployed e2e stack: `make sync` of a handler and of a layer module,
the API id pinned across redeploys and an emulator crash (`make up` redeploys by itself).

The sync tests edit a copy of the sources (never the work tree) and push it, then push the work
tree back, so the stack and the build folder end as the work tree has them.
"""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from infra.config import EMULATOR_URL, ROOT
from infra.local import aws, build, deploy, emulator, pooler, stack, sync
from tests.e2e.conftest import ADMIN, E2E_STACK


def copy_of_the_sources(tmp_path: Path) -> Path:
    copy = tmp_path / "checkout"
    for source in build.SOURCES:
        path = ROOT / source
        if path.is_file():
            copy.mkdir(exist_ok=True)
            shutil.copy(path, copy / source)
        else:
            shutil.copytree(path, copy / source, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path} no longer has {old!r}: update this test"
    path.write_text(text.replace(old, new))


def test_sync_pushes_a_handler_edit_and_the_next_request_runs_it(api, tmp_path):
    copy = copy_of_the_sources(tmp_path)
    edit(copy / "functions/ops/ops/handlers/health.py", 'status="ok" if healthy', 'status="synced" if healthy')
    try:
        updated = sync.Syncer(E2E_STACK, root=copy).run()
        assert any("OpsApiFunction" in name for name in updated)
        assert not any("CourseApiFunction" in name for name in updated)
        response = api.request("GET", "/health")
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "synced"
        # The build folder holds what runs, with bytecode of it.
        built = build.BUILD_DIR / "OpsApiFunction/ops/handlers/health.py"
        assert built.read_text() == (copy / "functions/ops/ops/handlers/health.py").read_text()
    finally:
        sync.Syncer(E2E_STACK, check_generated=False).run()
    assert api.request("GET", "/health").json()["status"] == "ok"
    assert (
        build.BUILD_DIR.joinpath("OpsApiFunction/ops/handlers/health.py").read_text()
        == (ROOT / "functions/ops/ops/handlers/health.py").read_text()
    )


def test_sync_publishes_a_changed_layer_module_to_every_function(api, tmp_path):
    copy = copy_of_the_sources(tmp_path)
    edit(
        copy / "layers/common/eduplatform/http.py",
        '"Content-Type must be application/json"',
        '"Content-Type must be application/json (synced layer)"',
    )
    text_body = {"data": "not json", "headers": {"Content-Type": "text/plain"}}
    try:
        sync.Syncer(E2E_STACK, root=copy).run()
        for path in ("/login", "/courses"):  # two functions of two domains
            response = api.request("POST", path, **text_body)
            assert response.status_code == 415, response.text
            assert response.json()["detail"].endswith("(synced layer)")
    finally:
        sync.Syncer(E2E_STACK, check_generated=False).run()
    response = api.request("POST", "/login", **text_body)
    assert response.json()["detail"] == "Content-Type must be application/json"
    # Each sync published a version; the one it replaced is gone: the deployed one and the current one are left.
    resources = aws.aws_client("cloudformation").describe_stack_resources(StackName=E2E_STACK)["StackResources"]
    deployed = next(r["PhysicalResourceId"] for r in resources if r["ResourceType"] == "AWS::Lambda::LayerVersion")
    versions = aws.aws_client("lambda").list_layer_versions(LayerName=deployed.split(":")[6])["LayerVersions"]
    assert deployed in {v["LayerVersionArn"] for v in versions} and len(versions) == 2


def test_sync_refuses_a_new_route_and_pushes_nothing(api, tmp_path):
    copy = copy_of_the_sources(tmp_path)
    manifest = deploy.sync_manifest(E2E_STACK).read_text()
    (copy / "functions/ops/ops/handlers/version.py").write_text("VERSION = 1\n")
    edit(copy / "functions/ops/ops/handlers/health.py", 'status="ok" if healthy', 'status="synced" if healthy')
    with pytest.raises(sync.NeedsDeploy, match=r"version\.py.*make up"):
        sync.Syncer(E2E_STACK, root=copy).run()
    assert deploy.sync_manifest(E2E_STACK).read_text() == manifest
    assert api.request("GET", "/health").json()["status"] == "ok"


def pinned_url() -> str:
    return f"{EMULATOR_URL}/_aws/execute-api/{E2E_STACK}/api"


def test_a_redeploy_that_replaces_the_api_keeps_its_id(api):
    assert api.url == pinned_url()
    outputs = aws.stack_outputs(E2E_STACK)
    # The same routes as deployed: nothing to replace.
    deploy.remove_stack_for_new_api(E2E_STACK, outputs)
    assert aws.stack_outputs(E2E_STACK) is not None
    # A route more (what `make up` sees after a new endpoint): the stack goes, `make up` deploys it anew.
    template = deploy.read_long_form((build.BUILD_DIR / "template.yaml").read_text())
    template["Resources"]["OpsApiFunction"]["Properties"]["Events"]["Extra"] = {
        "Type": "Api",
        "Properties": {"RestApiId": {"Ref": "Api"}, "Path": "/extra", "Method": "get"},
    }
    deploy.remove_stack_for_new_api(E2E_STACK, outputs, template)
    assert aws.stack_outputs(E2E_STACK) is None
    assert stack.deploy_stack(E2E_STACK, api.parameters) == pinned_url()
    assert aws.stack_outputs(E2E_STACK)["ApiId"] == E2E_STACK
    assert api.request("GET", "/health").status_code == 200
    assert api.request("POST", "/login", json=ADMIN).status_code == 200


def test_make_up_after_an_emulator_crash_redeploys_under_the_same_url(api):
    if not api.owns_emulator:
        pytest.skip("this checkout's emulator was running before the session (make up): not crashing it")
    assert deploy.api_url(E2E_STACK) == pinned_url()
    os.killpg(emulator.emulator_pid(), signal.SIGKILL)
    deadline = time.monotonic() + 10
    while emulator.emulator_running() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not emulator.emulator_running()
    # What `make up` does: start the emulator again, find the stack gone, deploy it.
    assert stack.deploy_stack(E2E_STACK, api.parameters) == pinned_url()
    assert deploy.api_url(E2E_STACK) == pinned_url()
    assert api.request("GET", "/health").status_code == 200
    assert api.request("POST", "/login", json=ADMIN).status_code == 200


def test_the_emulator_and_pgbouncer_listen_on_the_loopback_only(api):
    """What `ss -ltnp` shows for this checkout's emulator and PgBouncer once the stack is up."""
    if os.environ.get("LOCAL_BIND_ADDRESS"):
        pytest.skip("LOCAL_BIND_ADDRESS is set: the services listen where it says")
    pids = {pid for pid in (emulator.emulator_pid(), pooler._pid()) if pid is not None}
    assert pids, "the e2e session runs this checkout's emulator and PgBouncer"
    listening = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True, check=True).stdout.splitlines()
    addresses = {line.split()[3] for line in listening if any(f"pid={pid}," in line for pid in pids)}
    assert addresses, f"no listening socket of pids {pids} in `ss -ltnp`:\n" + "\n".join(listening)
    for address in addresses:
        assert address.rsplit(":", 1)[0] in ("127.0.0.1", "[::1]"), f"{address} is beyond the loopback"
