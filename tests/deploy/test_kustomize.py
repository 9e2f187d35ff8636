"""deploy/kustomize: every manifest valid for Kubernetes, the overlays render, and nothing in
them can drift from srekit itself (settings, probes, port, the generated PrometheusRule)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from typer.testing import CliRunner

from srekit.cli.main import app
from srekit.config import Settings
from tests.deploy.kustomize import KUSTOMIZATION, build, load_kustomization
from tests.deploy.manifests import (
    BASE,
    HEALTH_PATHS,
    KUSTOMIZE,
    OVERLAYS,
    PYPROJECT,
    SERVE_PORT,
    base_document,
    read_documents,
)

# An older release that managed clusters still run, and the newest the installed
# kubernetes-validate bundles.
KUBERNETES_VERSIONS = ["1.31.0", kubernetes_validate.latest_version()]
CRD_KINDS = {"ServiceMonitor", "PrometheusRule"}
DIRECTORIES = [BASE, *OVERLAYS.values()]
SECRET_SETTINGS = {"database_url", "prometheus_token"}


def _setting_variables() -> dict[str, str]:
    return {f"SREKIT_{name.upper()}": name for name in Settings.model_fields}


def _listed_files(directory: Path) -> set[str]:
    kustomization = load_kustomization(directory)
    files = {KUSTOMIZATION}
    files |= {r for r in kustomization.get("resources", []) if not (directory / r).is_dir()}
    files |= {p["path"] for p in kustomization.get("patches", [])}
    return files


def _resource_files() -> list[Path]:
    return [
        directory / name
        for directory in DIRECTORIES
        for name in load_kustomization(directory).get("resources", [])
        if (directory / name).is_file()
    ]


def _rendered(name: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {(d["kind"], d["metadata"]["name"]): d for d in build(OVERLAYS[name])}


def _container(deployment: dict[str, Any], name: str) -> dict[str, Any]:
    spec = deployment["spec"]["template"]["spec"]
    (container,) = [c for c in spec["containers"] + spec["initContainers"] if c["name"] == name]
    found: dict[str, Any] = container
    return found


def _database_url(deployment: dict[str, Any], name: str) -> dict[str, Any]:
    """The secretKeyRef of SREKIT_DATABASE_URL in container `name`."""
    env = _container(deployment, name)["env"]
    (variable,) = [e for e in env if e["name"] == "SREKIT_DATABASE_URL"]
    reference: dict[str, Any] = variable["valueFrom"]["secretKeyRef"]
    return reference


# --- the kustomization files -------------------------------------------------------------------


@pytest.mark.parametrize("directory", DIRECTORIES, ids=lambda d: d.name)
def test_kustomization_lists_every_file_and_nothing_else(directory: Path) -> None:
    present = {p.name for p in directory.iterdir() if p.is_file()}
    assert present == _listed_files(directory)
    for entry in load_kustomization(directory).get("resources", []):
        assert (directory / entry).exists(), f"{directory / KUSTOMIZATION}: {entry} is missing"


def test_every_yaml_file_under_deploy_belongs_to_a_kustomization() -> None:
    listed = {d / name for d in DIRECTORIES for name in _listed_files(d)}
    assert set(KUSTOMIZE.rglob("*.yaml")) == listed


# --- Kubernetes schemas --------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("path", _resource_files(), ids=lambda p: str(p.relative_to(KUSTOMIZE)))
def test_manifest_is_valid_kubernetes(path: Path, version: str) -> None:
    documents = read_documents(path)
    assert documents
    for document in documents:
        if document["kind"] in CRD_KINDS:
            continue  # no bundled schema: checked structurally below
        kubernetes_validate.validate(document, version, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_rendered_overlay_is_valid_kubernetes(overlay: str) -> None:
    for document in build(OVERLAYS[overlay]):
        if document["kind"] not in CRD_KINDS:
            kubernetes_validate.validate(document, KUBERNETES_VERSIONS[-1], strict=True)


def test_the_validator_rejects_what_kubernetes_would() -> None:
    deployment = base_document("Deployment")
    misspelt = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(misspelt, KUBERNETES_VERSIONS[-1], strict=True)


def test_service_monitor_scrapes_metrics_of_the_service() -> None:
    monitor, service = base_document("ServiceMonitor"), base_document("Service")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"
    assert "/metrics" in HEALTH_PATHS
    # /metrics needs a viewer token unless the ConfigMap makes it public
    assert base_document("ConfigMap")["data"]["SREKIT_METRICS_PUBLIC"] == "false"
    assert endpoint["authorization"]["type"] == "Bearer"
    assert set(endpoint["authorization"]["credentials"]) == {"name", "key"}
    assert set(endpoint) <= {"port", "path", "interval", "authorization"}


def test_prometheus_rule_is_a_well_formed_crd() -> None:
    rule = base_document("PrometheusRule")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["metadata"]["name"]
    assert rule["spec"]["groups"]
    for group in rule["spec"]["groups"]:
        assert group["name"]
        assert group["rules"]
        for entry in group["rules"]:
            assert ("record" in entry) != ("alert" in entry)
            assert isinstance(entry["expr"], str)
            assert entry["expr"].strip()


def test_prometheus_rule_is_what_srekit_generates_today(tmp_path: Path) -> None:
    out = tmp_path / "prometheusrule.yaml"
    arguments = ["rules", "generate", "-f", str(KUSTOMIZE.parents[1] / "examples" / "prometheus")]
    result = CliRunner().invoke(app, [*arguments, "--output-format", "k8s", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert (BASE / "prometheusrule.yaml").read_text() == out.read_text(), (
        "regenerate it: srekit rules generate -f examples/prometheus --output-format k8s "
        "-o deploy/kustomize/base/prometheusrule.yaml"
    )


# --- srekit's own settings, port and probes -----------------------------------------------------


def test_config_map_holds_real_settings_with_valid_values() -> None:
    data = base_document("ConfigMap")["data"]
    variables = _setting_variables()
    assert set(data) <= set(variables), f"not srekit settings: {set(data) - set(variables)}"
    assert not {variables[v] for v in data} & SECRET_SETTINGS, "secrets belong in a Secret"
    values: dict[str, Any] = {variables[v]: value for v, value in data.items()}
    settings = Settings(**values)
    assert str(settings.home) == data["SREKIT_HOME"]
    assert settings.max_body_bytes == int(data["SREKIT_MAX_BODY_BYTES"])
    # docs/deploy.md: all but the home and Prometheus's address are srekit's defaults
    chosen: dict[str, Any] = {"home": settings.home, "prometheus_url": settings.prometheus_url}
    assert settings == Settings(**chosen)


def test_secrets_are_references_to_real_settings() -> None:
    deployment = base_document("Deployment")
    variables = _setting_variables()
    for name in ("db-upgrade", "srekit"):
        container = _container(deployment, name)
        for variable in container["env"]:
            assert variables[variable["name"]] in SECRET_SETTINGS
            assert set(variable) == {"name", "valueFrom"}, "a secret's value is never written here"
            assert variable["valueFrom"]["secretKeyRef"]["name"] == "srekit"
        assert container["envFrom"] == [{"configMapRef": {"name": "srekit"}}]
    names = {v["name"] for v in _container(deployment, "srekit")["env"]}
    assert names == {"SREKIT_DATABASE_URL", "SREKIT_PROMETHEUS_TOKEN"}


def test_deployment_serves_srekit_on_its_port_with_its_probes() -> None:
    deployment, service = base_document("Deployment"), base_document("Service")
    server = _container(deployment, "srekit")
    (port,) = server["ports"]
    assert port["containerPort"] == SERVE_PORT
    assert server["args"] == ["serve", "--host", "0.0.0.0", "--port", str(SERVE_PORT)]
    assert service["spec"]["ports"][0]["targetPort"] == port["name"]
    assert (
        service["spec"]["selector"].items()
        <= deployment["spec"]["template"]["metadata"]["labels"].items()
    )
    assert server["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port["name"]}
    assert server["startupProbe"]["httpGet"] == {"path": "/healthz", "port": port["name"]}
    assert server["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port["name"]}
    assert {"/healthz", "/readyz"} <= HEALTH_PATHS
    assert _container(deployment, "db-upgrade")["args"] == ["db", "upgrade"]
    version = PYPROJECT["project"]["version"]
    for name in ("db-upgrade", "srekit"):
        assert _container(deployment, name)["image"] == f"srekit:{version}"
        assert set(_container(deployment, name)["resources"]) == {"requests", "limits"}


def test_deployment_is_locked_down_with_a_writable_home() -> None:
    deployment = base_document("Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsGroup"]
    home = base_document("ConfigMap")["data"]["SREKIT_HOME"]
    volumes = {v["name"] for v in pod["volumes"]}
    for container in pod["containers"] + pod["initContainers"]:
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["readOnlyRootFilesystem"] is True
        assert context["capabilities"] == {"drop": ["ALL"]}
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        assert mounts[home] == "home"
        assert mounts["/tmp"] == "tmp"
        assert set(mounts.values()) <= volumes


# --- the overlays -------------------------------------------------------------------------------


def test_team_overlay_is_one_replica_on_sqlite_with_a_volume_claim() -> None:
    rendered = _rendered("team")
    deployment = rendered["Deployment", "srekit"]
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    (home,) = [v for v in deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == "home"]
    claim = home["persistentVolumeClaim"]["claimName"]
    assert rendered["PersistentVolumeClaim", claim]["spec"]["accessModes"] == ["ReadWriteOnce"]
    for name in ("db-upgrade", "srekit"):
        assert _database_url(deployment, name)["optional"] is True  # unset: SQLite under home
    assert {d["metadata"]["namespace"] for d in rendered.values()} == {"srekit"}


def test_organisation_overlay_is_several_replicas_on_postgresql_without_a_claim() -> None:
    rendered = _rendered("organisation")
    deployment = rendered["Deployment", "srekit"]
    replicas = deployment["spec"]["replicas"]
    assert replicas >= 2
    assert not [kind for kind, _ in rendered if kind == "PersistentVolumeClaim"]
    volumes = deployment["spec"]["template"]["spec"]["volumes"]
    assert all("persistentVolumeClaim" not in v for v in volumes)
    for name in ("db-upgrade", "srekit"):
        assert _database_url(deployment, name)["optional"] is False  # PostgreSQL, required
    assert rendered["PodDisruptionBudget", "srekit"]["spec"]["minAvailable"] < replicas
    assert {d["metadata"]["namespace"] for d in rendered.values()} == {"srekit"}


def test_overlays_keep_the_base_untouched_elsewhere() -> None:
    base = {(d["kind"], d["metadata"]["name"]): d for d in build(BASE)}
    for overlay in OVERLAYS:
        rendered = _rendered(overlay)
        for key, document in base.items():
            if key != ("Deployment", "srekit"):
                expected = {**document, "metadata": {**document["metadata"], "namespace": "srekit"}}
                assert rendered[key] == expected


def test_loader_refuses_what_it_does_not_know(tmp_path: Path) -> None:
    (tmp_path / KUSTOMIZATION).write_text(yaml.safe_dump({"resources": [], "images": []}))
    with pytest.raises(ValueError, match="images"):
        build(tmp_path)
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    shutil.copy(BASE / "service.yaml", tmp_path / "service.yaml")
    (tmp_path / KUSTOMIZATION).write_text(yaml.safe_dump({"resources": ["service.yaml"]}))
    patch = [{"op": "test", "path": "/spec/type", "value": "NodePort"}]
    (overlay / "patch.yaml").write_text(yaml.safe_dump(patch))
    target = {"kind": "Service", "name": "srekit"}
    (overlay / KUSTOMIZATION).write_text(
        yaml.safe_dump({"resources": [".."], "patches": [{"path": "patch.yaml", "target": target}]})
    )
    with pytest.raises(ValueError, match="test failed at /spec/type"):
        build(overlay)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.parametrize("directory", DIRECTORIES, ids=lambda d: d.name)
def test_loader_renders_as_kubectl_kustomize_does(directory: Path) -> None:
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(directory)], capture_output=True, text=True, check=True
    ).stdout
    by_kubectl = {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(rendered)}
    by_loader = {(d["kind"], d["metadata"]["name"]): d for d in build(directory)}
    assert by_loader == by_kubectl


def test_readme_links_the_deployment_guide() -> None:
    assert "(docs/deploy.md)" in (KUSTOMIZE.parents[1] / "README.md").read_text()
