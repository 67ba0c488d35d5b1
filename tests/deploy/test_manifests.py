"""The deployment files: Dockerfile, docker-compose, Prometheus, Grafana and Kubernetes.

No container engine or cluster runs here, so the Kubernetes manifests are validated against the
Kubernetes API schemas (kubernetes-validate, strict: unknown fields fail), the config and model
they carry are loaded by leadsync's own loaders, and every metric the dashboard and alerts query
is one the daemon exports.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from ruamel.yaml import YAML

from config.loader import load_config
from config.model_loader import parse_model
from sync.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "kubernetes"
K8S_VERSION = "1.30.0"


def load_yaml(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def manifests() -> list[tuple[str, dict[str, Any]]]:
    docs: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        docs.extend((path.name, doc) for doc in YAML(typ="safe").load_all(path.read_text()))
    return docs


def by_kind(kind: str) -> dict[str, Any]:
    (doc,) = [d for _, d in manifests() if d["kind"] == kind]
    return doc


@pytest.mark.parametrize("name,doc", manifests(), ids=lambda v: v if isinstance(v, str) else "")
def test_kubernetes_manifest_is_valid_against_the_api_schema(name, doc):
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_schema_validation_rejects_an_unknown_field():
    service = dict(by_kind("Service"))
    service["spec"] = {**service["spec"], "portz": []}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(service, K8S_VERSION, strict=True)


def test_kustomization_lists_every_manifest():
    listed = load_yaml(K8S / "kustomization.yaml")["resources"]
    present = sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == present


def test_deployment_runs_two_non_root_replicas_with_probes():
    deployment = by_kind("Deployment")
    spec = deployment["spec"]
    assert spec["replicas"] == 2
    pod = spec["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    (container,) = pod["containers"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["ports"] == [{"name": "http", "containerPort": 9464, "protocol": "TCP"}]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["LEADSYNC_DAEMON__HOST"] == "0.0.0.0"
    assert env["LEADSYNC_SECRETS_DIR"] == "/run/secrets"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    # The grace the orchestrator gives must exceed leadsync's own shutdown grace (30 s).
    assert pod["terminationGracePeriodSeconds"] > 30


def test_service_selects_the_deployment_pods():
    labels = by_kind("Deployment")["spec"]["template"]["metadata"]["labels"]
    selector = by_kind("Service")["spec"]["selector"]
    assert selector.items() <= labels.items()
    assert by_kind("PodDisruptionBudget")["spec"]["selector"]["matchLabels"] == selector


def test_configmap_config_and_model_load(tmp_path, monkeypatch):
    data = by_kind("ConfigMap")["data"]
    secrets = by_kind("Secret")["stringData"]
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "hubspot-contacts.yaml").write_text(data["hubspot-contacts.yaml"])
    (tmp_path / "leadsync.yaml").write_text(data["leadsync.yaml"])
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    for key, value in secrets.items():
        (secrets_dir / key).write_text(value)
    monkeypatch.delenv("LEADSYNC_STATE_URL", raising=False)
    loaded = load_config(tmp_path / "leadsync.yaml", secrets_dir=secrets_dir)
    settings = loaded.settings
    assert settings.state_url is not None
    assert settings.state_url.get_secret_value().startswith("postgresql+psycopg://")
    (conn,) = settings.connections
    assert conn.hubspot is not None
    token = conn.hubspot.access_token
    assert token is not None
    assert token.get_secret_value() == secrets["HUBSPOT_TOKEN"]
    model = parse_model(data["hubspot-contacts.yaml"])
    assert model.spec.object == "contact"


def test_deployment_mounts_every_configmap_key():
    data = by_kind("ConfigMap")["data"]
    mounts = by_kind("Deployment")["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert sorted(m["subPath"] for m in mounts if m["name"] == "config") == sorted(data)


def exported_metric_names() -> set[str]:
    text = Metrics().render().decode()
    names = set(re.findall(r"^# TYPE (\S+) (\w+)", text, flags=re.M))
    out = set()
    for name, kind in names:
        out.add(name)
        if kind == "counter":
            out.add(f"{name}_total")
        if kind == "histogram":
            out.update({f"{name}_bucket", f"{name}_sum", f"{name}_count"})
    return out


def queried_metrics(text: str) -> set[str]:
    return set(re.findall(r"\bleadsync_[a-z_]+", text))


def test_dashboard_and_alerts_query_only_exported_metrics():
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "leadsync.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    alerts = load_yaml(DEPLOY / "prometheus" / "alerts.yml")
    exprs += [r["expr"] for g in alerts["groups"] for r in g["rules"]]
    queried = set().union(*(queried_metrics(e) for e in exprs))
    assert queried, "the dashboard queries no leadsync metric"
    assert queried - exported_metric_names() == set()


def test_dashboard_panels_do_not_overlap():
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "leadsync.json").read_text())
    cells = set()
    for panel in dashboard["panels"]:
        g = panel["gridPos"]
        assert g["x"] + g["w"] <= 24
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, panel["title"]
                cells.add((x, y))


def test_compose_runs_two_replicas_postgres_prometheus_and_grafana():
    compose = load_yaml(DEPLOY / "docker-compose.yml")
    services = compose["services"]
    assert set(services) == {"leadsync-a", "leadsync-b", "postgres", "prometheus", "grafana"}
    for name in ("leadsync-a", "leadsync-b"):
        env = services[name]["environment"]
        assert env["LEADSYNC_STATE_URL"].startswith("postgresql+psycopg://leadsync@postgres:5432/")
    scrape = load_yaml(DEPLOY / "prometheus" / "prometheus.yml")["scrape_configs"][0]
    assert scrape["static_configs"][0]["targets"] == ["leadsync-a:9464", "leadsync-b:9464"]
    for volume in services["leadsync-a"]["volumes"]:
        source = volume.split(":")[0]
        assert (DEPLOY / source).exists(), source


def test_compose_config_loads(tmp_path, monkeypatch):
    models = tmp_path / "models"
    models.mkdir()
    for model in (ROOT / "config" / "examples" / "models").glob("*.yaml"):
        (models / model.name).write_text(model.read_text())
    (tmp_path / "leadsync.yaml").write_text((DEPLOY / "leadsync.yaml").read_text())
    monkeypatch.setenv("HUBSPOT_TOKEN", "token")
    monkeypatch.setenv("LEADSYNC_STATE_URL", "postgresql+psycopg://leadsync@postgres:5432/leadsync")
    loaded = load_config(tmp_path / "leadsync.yaml")
    assert [c.name for c in loaded.settings.connections] == ["acme-hubspot"]


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def test_dockerfile_is_multi_stage_and_runs_as_a_user_with_data_owned():
    text = dockerfile()
    stages = re.findall(r"^FROM (\S+) AS (\w+)", text, flags=re.M)
    assert [name for _, name in stages] == ["build", "runtime"]
    runtime = text.split(" AS runtime", 1)[1]
    assert "COPY --from=build /opt/leadsync /opt/leadsync" in runtime
    assert "pip install" not in runtime
    assert re.search(r"^USER leadsync:leadsync$", runtime, flags=re.M)
    assert "chown leadsync:leadsync /data" in runtime
    assert "LEADSYNC_DAEMON__HOST=0.0.0.0" in runtime
    assert re.search(r"^HEALTHCHECK .*\n\s+CMD .*/healthz", runtime, flags=re.M)


def test_dockerfile_copies_every_package():
    pyproject = (ROOT / "pyproject.toml").read_text()
    include = re.search(r"include = \[(.*?)\]", pyproject)
    assert include
    packages = {p.strip().strip('"').rstrip("*") for p in include.group(1).split(",")}
    copied = set(re.findall(r"^COPY (\w+) \./\1$", dockerfile(), flags=re.M))
    assert copied == packages
