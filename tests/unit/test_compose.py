"""docker-compose.yml, samconfig's environments and env.json, checked by reading the files.

Docker does not run on the project's machines, so these tests are what stands between a
typo and a broken `docker compose up`.
"""

import json
import re
import tomllib
from urllib.parse import urlsplit

import pytest
import yaml

from infra.compose import deploy as compose_deploy
from infra.config import DOMAINS, PARAMETER_FOR_DOMAIN, ROOT, deploy_parameters, stack_name
from infra.local import emulator
from infra.template import env_json

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
DATABASE_HOST_PORTS = dict(zip(DOMAINS, range(5433, 5438), strict=True))
DATABASE_HEALTHCHECK = {"interval": "5s", "timeout": "3s", "retries": 5}


def host_ports(service: str) -> dict[int, int]:
    """Published ports of a service: host port -> container port."""
    published = {}
    for mapping in SERVICES[service].get("ports", []):
        host, container = str(mapping).rsplit(":", 1)
        published[int(host.rsplit(":", 1)[-1])] = int(container)
    return published


def depends_on(service: str) -> dict[str, dict]:
    return SERVICES[service].get("depends_on", {})


def test_the_default_services_and_profiles():
    always_on = {name for name, service in SERVICES.items() if not service.get("profiles")}
    assert always_on == {
        "ministack",
        *(f"{d}-db" for d in DOMAINS),
        "redis",
        "deployer",
        "metrics-bridge",
        "prometheus",
        "grafana",
    }
    assert SERVICES["localstack"]["profiles"] == ["localstack"]
    assert SERVICES["seed"]["profiles"] == ["seed"]
    assert SERVICES["locust"]["profiles"] == ["loadtest"]


def test_images_are_pinned():
    for name, service in SERVICES.items():
        image = service.get("image")
        assert image, f"{name} names no image"
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest" and "/" not in tag, f"{name}: {image} is not pinned"
    assert SERVICES["redis"]["image"] == "redis:7-alpine"
    assert all(SERVICES[f"{d}-db"]["image"] == "postgres:16-alpine" for d in DOMAINS)
    assert SERVICES["localstack"]["image"].startswith("localstack/localstack-pro:")


def test_the_project_image_is_python_312_and_installs_the_pinned_dependencies():
    built = {name: service["build"] for name, service in SERVICES.items() if "build" in service}
    assert set(built) == {"ministack", "deployer", "metrics-bridge", "seed", "locust"}
    dockerfiles = {(ROOT / b["context"] / b["dockerfile"]).resolve() for b in built.values()}
    assert len(dockerfiles) == 1
    dockerfile = dockerfiles.pop().read_text()
    *build_stages, base = re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    # MiniStack runs the functions in its own interpreter: it must be the template's runtime.
    assert base.startswith("python:3.12.") and "python3.12" in (ROOT / "template.yaml").read_text()
    assert "pip install --require-hashes --no-deps -r requirements.lock" in dockerfile
    # The web app is built in a Node stage from its lock file, and the image holds only the build.
    assert build_stages == ["node:20.20.2-bookworm-slim"] and "RUN npm ci" in dockerfile
    assert "COPY --from=web /web/dist web/dist" in dockerfile and "python -m infra.web record-build" in dockerfile


def test_ports():
    assert host_ports("ministack") == {4566: 4566}
    assert host_ports("localstack") == {4567: 4566}
    for domain, port in DATABASE_HOST_PORTS.items():
        assert host_ports(f"{domain}-db") == {port: 5432}
    assert host_ports("prometheus") == {9090: 9090}
    assert host_ports("grafana") == {3000: 3000}
    assert host_ports("locust") == {8089: 8089}
    assert host_ports("metrics-bridge") == {9108: 9108}


def test_every_published_port_is_on_the_hosts_loopback_only():
    for name, service in SERVICES.items():
        for mapping in service.get("ports", []):
            assert str(mapping).startswith("127.0.0.1:"), f"{name} publishes {mapping} beyond the host's loopback"


def test_the_compose_emulator_is_the_one_make_up_runs_with_the_same_settings():
    ministack = SERVICES["ministack"]
    assert ministack["command"] == ["python", "-m", emulator.EMULATOR_MODULE]
    env = ministack["environment"]
    # Inside its container the emulator listens on every interface, which only the published port reaches.
    assert env["LOCAL_BIND_ADDRESS"] == "0.0.0.0"
    assert host_ports("ministack") == {int(env["GATEWAY_PORT"]): int(env["GATEWAY_PORT"])}
    defaults = {name: re.sub(r"^\$\{\w+:-(.*)\}$", r"\1", str(value)) for name, value in env.items()}
    for name, value in emulator.emulator_settings().items():
        assert defaults[name] == value, name
    # The image holds infra/ (the tuned emulator's package) at its working directory.
    dockerfile = (
        ROOT / SERVICES["ministack"]["build"]["context"] / SERVICES["ministack"]["build"]["dockerfile"]
    ).read_text()
    assert "WORKDIR /app" in dockerfile and "COPY . ." in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert not any(pattern.strip("/") in ("infra", "infra/emulator") for pattern in ignored)


def test_database_health_checks():
    for domain in DOMAINS:
        check = SERVICES[f"{domain}-db"]["healthcheck"]
        assert check["test"] == ["CMD-SHELL", f"pg_isready -U {domain} -d {domain}"]
        assert {key: check[key] for key in DATABASE_HEALTHCHECK} == DATABASE_HEALTHCHECK


def test_redis_and_emulator_health_checks():
    assert SERVICES["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "/_ministack/health" in " ".join(SERVICES["ministack"]["healthcheck"]["test"])
    assert "/_localstack/health" in " ".join(SERVICES["localstack"]["healthcheck"]["test"])


def test_startup_order():
    deployer = depends_on("deployer")
    for domain in DOMAINS:
        assert deployer[f"{domain}-db"] == {"condition": "service_healthy"}
    assert deployer["ministack"] == {"condition": "service_healthy"}
    assert deployer["localstack"] == {"condition": "service_healthy", "required": False}
    assert depends_on("ministack")["redis"] == {"condition": "service_healthy"}
    for service in ("metrics-bridge", "seed", "locust"):
        assert depends_on(service)["deployer"] == {"condition": "service_completed_successfully"}, service
    assert depends_on("prometheus")["metrics-bridge"]["condition"] == "service_started"
    assert depends_on("grafana")["prometheus"]["condition"] == "service_started"
    assert SERVICES["deployer"]["command"] == ["python", "-m", "infra.compose.deploy"]


def test_every_mounted_path_exists():
    named_volumes = set(COMPOSE.get("volumes", {}))
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source in named_volumes or source == "/var/run/docker.sock":
                continue
            assert source.startswith("./"), f"{name} mounts {source}: mount repository paths relatively"
            assert (ROOT / source).exists(), f"{name} mounts {source}, which does not exist"
        build = service.get("build")
        if build:
            assert (ROOT / build["context"] / build["dockerfile"]).is_file()


def test_grafana_is_provisioned_from_the_repository():
    grafana = SERVICES["grafana"]
    env = grafana["environment"]
    assert (env["GF_SECURITY_ADMIN_USER"], env["GF_SECURITY_ADMIN_PASSWORD"]) == ("admin", "admin")
    assert env["PROMETHEUS_URL"] == "http://prometheus:9090"
    mounts = dict(volume.rsplit(":", 1)[0].split(":", 1) for volume in grafana["volumes"])
    assert mounts["./infra/grafana/provisioning"] == "/etc/grafana/provisioning"
    assert mounts["./infra/grafana/dashboards"] == env["EDUPLATFORM_DASHBOARDS_DIR"]
    assert list((ROOT / "infra/grafana/dashboards").glob("*.json"))


def test_prometheus_scrapes_the_bridge_service():
    command = " ".join(SERVICES["prometheus"]["command"])
    config_name = re.search(r"--config.file=/etc/prometheus/eduplatform/(\S+)", command).group(1)
    compose_config = yaml.safe_load((ROOT / "infra/prometheus" / config_name).read_text())
    host_config = yaml.safe_load((ROOT / "infra/prometheus/prometheus.yml").read_text())
    [job] = compose_config["scrape_configs"]
    assert job["static_configs"] == [{"targets": ["metrics-bridge:9108"]}]
    bridge_command = SERVICES["metrics-bridge"]["command"]
    assert bridge_command[bridge_command.index("--address") + 1] == "0.0.0.0"
    assert bridge_command[bridge_command.index("--port") + 1] == "9108"
    # The compose variant is the host configuration with the bridge reached by service name.
    for scrape in host_config["scrape_configs"]:
        scrape["static_configs"] = [{"targets": ["metrics-bridge:9108"]}]
    assert compose_config == host_config


def test_compose_databases_match_samconfig():
    parameters = deploy_parameters("compose")
    for domain in DOMAINS:
        url = urlsplit(parameters[PARAMETER_FOR_DOMAIN[domain]])
        env = SERVICES[f"{domain}-db"]["environment"]
        assert (url.hostname, url.port) == (f"{domain}-db", 5432)
        assert (url.username, url.password, url.path) == (
            env["POSTGRES_USER"],
            env["POSTGRES_PASSWORD"],
            f"/{env['POSTGRES_DB']}",
        )


def test_the_compose_tools_use_the_compose_configuration_and_emulator():
    for name in ("deployer", "metrics-bridge", "seed", "locust"):
        env = SERVICES[name]["environment"]
        assert env["EDUPLATFORM_CONFIG_ENV"] == "compose", name
        assert env["EMULATOR_URL"] == "${EMULATOR_URL:-http://ministack:4566}", name
    assert SERVICES["localstack"]["environment"]["LAMBDA_DOCKER_NETWORK"] == COMPOSE["networks"]["default"]["name"]
    # The locustfile finds the API through the `local` stack name; compose deploys the same name.
    assert stack_name("compose") == stack_name("local")


def test_the_deployer_prints_the_url_the_host_reaches(monkeypatch):
    monkeypatch.setattr(compose_deploy, "EMULATOR_URL", "http://ministack:4566")
    url = compose_deploy.public_url("http://ministack:4566/_aws/execute-api/abc123/api")
    assert url == "http://localhost:4566/_aws/execute-api/abc123/api"


def test_samconfig_environments():
    with open(ROOT / "samconfig.toml", "rb") as handle:
        config = tomllib.load(handle)
    assert {"default", "local", "compose"} <= set(config)
    default_deploy = config["default"]["deploy"]["parameters"]
    # sam deploy --guided asks for the parameters; nothing secret is stored for AWS.
    assert "parameter_overrides" not in default_deploy
    assert default_deploy["capabilities"] == "CAPABILITY_IAM"
    for env in ("local", "compose"):
        parameters = deploy_parameters(env)
        assert set(PARAMETER_FOR_DOMAIN.values()) <= set(parameters), env
        assert len(parameters["JwtSecret"]) >= 32
    start_api = config["compose"]["local_start_api"]["parameters"]
    assert start_api["env_vars"] == "env.json"
    assert start_api["docker_network"] == COMPOSE["networks"]["default"]["name"]


def test_the_jwt_secret_on_aws_is_an_ssm_parameter_read_at_runtime():
    template = env_json.load_template()
    parameters = template["Parameters"]
    assert parameters["JwtSecret"]["Default"] == ""
    assert parameters["JwtSecretParameterName"]["Default"].startswith("/")
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["JWT_SECRET_PARAMETER"] == {"Ref": "JwtSecretParameterName"}
    resources = template["Resources"]
    for logical_id, resource in resources.items():
        if (
            any(event["Type"] == "Api" for event in resource.get("Properties", {}).get("Events", {}).values())
            and logical_id != "OpsPreflightFunction"
        ):
            # A function sharing its domain's role (Role: !GetAtt <Domain>ApiFunctionRole.Arn) has the policies of that function.
            role = resource["Properties"].get("Role", {}).get("Fn::GetAtt", [""])[0]
            owner = resources[role.removesuffix("Role")] if role else resource
            statements = [
                s for p in owner["Properties"]["Policies"] if isinstance(p, dict) for s in p.get("Statement", [])
            ]
            readable = [r["Fn::Sub"] for s in statements if s["Action"] == "ssm:GetParameter" for r in s["Resource"]]
            assert any("JwtSecretParameterName" in r for r in readable), logical_id
            assert any("JwtPreviousSecretParameterName" in r for r in readable), logical_id


def test_env_json_is_generated_from_the_template():
    assert (ROOT / "env.json").read_text() == env_json.render(), "env.json is stale: run `make template`"


def test_env_json_names_every_function_with_its_database():
    env = json.loads((ROOT / "env.json").read_text())
    functions = {
        logical_id
        for logical_id, resource in env_json.load_template()["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert set(env) == functions | {"Parameters"}
    assert len(env["Parameters"]["JWT_SECRET"]) >= 32
    compose_urls = {deploy_parameters("compose")[PARAMETER_FOR_DOMAIN[d]] for d in DOMAINS}
    for logical_id in functions:
        urls = {value for name, value in env[logical_id].items() if name == "DATABASE_URL" or name.endswith("_DB_URL")}
        assert urls <= compose_urls, logical_id


@pytest.mark.parametrize("section", ["## Run locally (no Docker)", "## Run with Docker", "## Deploy to AWS"])
def test_readme_sections(section):
    assert section in (ROOT / "README.md").read_text()
