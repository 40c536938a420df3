"""Check the Kubernetes manifests under deploy/k8s without a cluster.

1. Every ``*.yaml``/``*.yml`` file parses (PyYAML, every document, duplicate keys
   rejected) and every document is an object with apiVersion and kind.
2. ``kubectl kustomize`` (or ``kustomize build``) renders the overlay, when either is
   installed; without one this step is skipped with a note, or fails with ``--require-build``.
3. The rendered objects hang together: each Deployment has its Service and
   PodDisruptionBudget with matching selectors, probes, resources and a non-root,
   read-only security context; no template placeholder is left; every ConfigMap and
   Secret reference is to city-config/city-secrets; the Ingress points at an existing
   Service port; every Kafka topic has its ``.dlq``.

Usage: ``python deploy/k8s/validate_manifests.py [--overlay DIR] [--require-build]``.
Exit status 0 when everything passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess  # noqa: S404 - runs kubectl/kustomize, fixed arguments
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

K8S_DIR = Path(__file__).resolve().parent
PLACEHOLDERS = ("city-service", "CITY-SERVICE", "city_service", "CITY_SERVICE_DATABASE_URL")
CONFIGMAPS = {"city-config"}
SECRETS = {"city-secrets", "city-pii"}
SERVICES = {
    "gateway": 8000,
    "traffic-signal": 8001,
    "video-ingest": 8002,
    "fire-detect": 8003,
    "air-water": 8004,
    "health-record": 8005,
    "enterprise-hub": 8006,
    "grid-events": 8007,
}
TOPICS = {
    "camera.frames": 12,
    "camera.status": 3,
    "fire.alarms": 3,
    "env.exceedances": 3,
    "traffic.incidents": 3,
    "grid.cases": 3,
    "enterprise.policies": 3,
}
NAME_LABEL = "app.kubernetes.io/name"


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key repeated in one mapping."""


def _mapping(loader: StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    loader.flatten_mapping(node)
    return dict(loader.construct_pairs(node, deep=True))


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


class Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.notes: list[str] = []

    def error(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    # --- 1. every file ----------------------------------------------------------

    def check_files(self, root: Path) -> int:
        files = sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml"))
        for path in files:
            rel = path.relative_to(root)
            try:
                docs = list(yaml.load_all(path.read_text(), Loader=StrictLoader))  # noqa: S506
            except yaml.YAMLError as exc:
                self.error(str(rel), f"invalid YAML: {exc}")
                continue
            docs = [doc for doc in docs if doc is not None]
            if not docs:
                self.error(str(rel), "no YAML document")
            for index, doc in enumerate(docs):
                where = f"{rel}[{index}]"
                if not isinstance(doc, dict):
                    self.error(where, "document is not a mapping")
                    continue
                for key in ("apiVersion", "kind"):
                    if not isinstance(doc.get(key), str):
                        self.error(where, f"missing {key}")
                if doc.get("kind") not in ("Kustomization", "Component"):
                    name = (doc.get("metadata") or {}).get("name")
                    if not isinstance(name, str) or not name:
                        self.error(where, "missing metadata.name")
        return len(files)

    # --- 2. build ---------------------------------------------------------------

    def build(self, overlay: Path, require: bool) -> list[dict[str, Any]] | None:
        if shutil.which("kubectl"):
            cmd = ["kubectl", "kustomize", str(overlay)]
        elif shutil.which("kustomize"):
            cmd = ["kustomize", "build", str(overlay)]
        else:
            message = "neither kubectl nor kustomize is installed: build not checked"
            if require:
                self.error(str(overlay), message)
            else:
                self.notes.append(message)
            return None
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            self.error(" ".join(cmd), result.stderr.strip() or f"exit {result.returncode}")
            return None
        self.notes.append(f"built with: {' '.join(cmd)}")
        return [doc for doc in yaml.safe_load_all(result.stdout) if doc]

    # --- 3. rendered objects ----------------------------------------------------

    def check_rendered(self, objects: list[dict[str, Any]]) -> None:
        by_kind: dict[str, dict[str, dict[str, Any]]] = {}
        for obj in objects:
            kind, name = obj.get("kind", "?"), obj.get("metadata", {}).get("name", "?")
            if name in by_kind.setdefault(kind, {}):
                self.error(f"{kind}/{name}", "rendered twice")
            by_kind[kind][name] = obj
            if kind != "Namespace" and obj.get("metadata", {}).get("namespace") != (
                "yongchuan-city"
            ):
                self.error(f"{kind}/{name}", "not in the namespace yongchuan-city")
            for placeholder in PLACEHOLDERS:
                if placeholder in yaml.safe_dump(obj):
                    self.error(f"{kind}/{name}", f"template placeholder {placeholder!r} left")
            if (
                obj.get("metadata", {})
                .get("annotations", {})
                .get("config.kubernetes.io/local-config")
            ):
                self.error(f"{kind}/{name}", "local-config object in the output")

        deployments = by_kind.get("Deployment", {})
        if set(deployments) != set(SERVICES):
            self.error("Deployments", f"expected {sorted(SERVICES)}, got {sorted(deployments)}")
        for name, deployment in deployments.items():
            self.check_deployment(name, deployment, by_kind)
        self.check_ingress(by_kind)
        self.check_topics(by_kind)

    def check_deployment(
        self, name: str, dep: dict[str, Any], by_kind: dict[str, dict[str, dict[str, Any]]]
    ) -> None:
        where = f"Deployment/{name}"
        spec = dep.get("spec", {})
        pod = spec.get("template", {}).get("spec", {})
        labels = spec.get("template", {}).get("metadata", {}).get("labels", {})
        annotations = spec.get("template", {}).get("metadata", {}).get("annotations", {})
        selector = spec.get("selector", {}).get("matchLabels", {})
        port = SERVICES.get(name)
        if labels.get(NAME_LABEL) != name or selector.get(NAME_LABEL) != name:
            self.error(where, f"selector/pod label {NAME_LABEL} is not {name!r}")
        if not all(labels.get(k) == v for k, v in selector.items()):
            self.error(where, "selector does not match the pod labels")
        if spec.get("replicas", 1) < 2:
            self.error(where, "fewer than 2 replicas")
        if annotations.get("prometheus.io/scrape") != "true" or annotations.get(
            "prometheus.io/port"
        ) != str(port):
            self.error(where, "prometheus.io annotations missing or wrong port")
        if not pod.get("securityContext", {}).get("runAsNonRoot"):
            self.error(where, "pod securityContext.runAsNonRoot is not true")
        volumes = {v.get("name") for v in pod.get("volumes", [])}
        init = pod.get("initContainers", [])
        if not any(
            c.get("command", [])[:3] == ["python", "-m", "city_common.db.migrations"] for c in init
        ):
            self.error(where, "no migration initContainer")
        containers = pod.get("containers", [])
        app = next((c for c in containers if c.get("name") == "app"), None)
        if app is None:
            self.error(where, "no container named app")
            return
        for container in [*init, *containers]:
            self.check_container(f"{where}/{container.get('name')}", container, volumes)
        ports = {p.get("name"): p.get("containerPort") for p in app.get("ports", [])}
        if ports.get("http") != port:
            self.error(where, f"containerPort http is {ports.get('http')}, expected {port}")
        env = {e.get("name"): e for e in app.get("env", [])}
        if env.get("CITY_HTTP_PORT", {}).get("value") != str(port):
            self.error(where, "CITY_HTTP_PORT does not match the port")
        if env.get("CITY_SERVICE_NAME", {}).get("value") != name:
            self.error(where, "CITY_SERVICE_NAME does not match the name")
        for probe, path in (
            ("startupProbe", "/healthz"),
            ("livenessProbe", "/healthz"),
            ("readinessProbe", "/readyz"),
        ):
            get = app.get(probe, {}).get("httpGet", {})
            if get.get("path") != path or get.get("port") not in ("http", port):
                self.error(where, f"{probe} is not GET {path} on the http port")

        service = by_kind.get("Service", {}).get(name)
        if service is None:
            self.error(where, "no Service of the same name")
        else:
            svc_selector = service.get("spec", {}).get("selector", {})
            if not svc_selector or not all(labels.get(k) == v for k, v in svc_selector.items()):
                self.error(f"Service/{name}", "selector does not match the pods")
            svc_ports = {p.get("name"): p for p in service.get("spec", {}).get("ports", [])}
            http = svc_ports.get("http", {})
            if http.get("port") != port or http.get("targetPort") not in ("http", port):
                self.error(f"Service/{name}", f"port http is not {port} -> http")
        pdb = by_kind.get("PodDisruptionBudget", {}).get(name)
        if pdb is None:
            self.error(where, "no PodDisruptionBudget of the same name")
        else:
            pdb_selector = pdb.get("spec", {}).get("selector", {}).get("matchLabels", {})
            if not pdb_selector or not all(labels.get(k) == v for k, v in pdb_selector.items()):
                self.error(f"PodDisruptionBudget/{name}", "selector does not match the pods")

    def check_container(self, where: str, container: dict[str, Any], volumes: set[str]) -> None:
        context = container.get("securityContext", {})
        if context.get("readOnlyRootFilesystem") is not True:
            self.error(where, "readOnlyRootFilesystem is not true")
        if context.get("allowPrivilegeEscalation") is not False:
            self.error(where, "allowPrivilegeEscalation is not false")
        resources = container.get("resources", {})
        for section in ("requests", "limits"):
            if not {"cpu", "memory"} <= set(resources.get(section, {})):
                self.error(where, f"resources.{section} needs cpu and memory")
        for mount in container.get("volumeMounts", []):
            if mount.get("name") not in volumes:
                self.error(where, f"volumeMount {mount.get('name')} has no volume")
        for source in container.get("envFrom", []):
            ref = source.get("configMapRef") or source.get("secretRef") or {}
            if ref.get("name") not in CONFIGMAPS | SECRETS:
                self.error(where, f"envFrom refers to unknown {ref.get('name')!r}")
        for env in container.get("env", []):
            value_from = env.get("valueFrom", {})
            if "secretKeyRef" in value_from and value_from["secretKeyRef"].get("name") not in (
                SECRETS
            ):
                self.error(where, f"env {env.get('name')} refers to an unknown Secret")
            if "configMapKeyRef" in value_from and value_from["configMapKeyRef"].get(
                "name"
            ) not in (CONFIGMAPS):
                self.error(where, f"env {env.get('name')} refers to an unknown ConfigMap")

    def check_ingress(self, by_kind: dict[str, dict[str, dict[str, Any]]]) -> None:
        services = by_kind.get("Service", {})
        for name, ingress in by_kind.get("Ingress", {}).items():
            for backend in _ingress_backends(ingress):
                svc = str(backend.get("name"))
                port = backend.get("port", {})
                target = services.get(svc)
                if target is None:
                    self.error(f"Ingress/{name}", f"backend Service {svc!r} does not exist")
                    continue
                names = {p.get("name") for p in target["spec"].get("ports", [])}
                numbers = {p.get("port") for p in target["spec"].get("ports", [])}
                if port.get("name") not in names and port.get("number") not in numbers:
                    self.error(f"Ingress/{name}", f"Service {svc} has no port {port}")

    def check_topics(self, by_kind: dict[str, dict[str, dict[str, Any]]]) -> None:
        topics = by_kind.get("KafkaTopic", {})
        clusters = set(by_kind.get("Kafka", {}))
        for topic, partitions in TOPICS.items():
            for name in (topic, f"{topic}.dlq"):
                obj = topics.get(name)
                if obj is None:
                    self.error("KafkaTopic", f"{name} is missing")
                    continue
                if name == topic and obj["spec"].get("partitions") != partitions:
                    self.error(f"KafkaTopic/{name}", f"partitions is not {partitions}")
        for name, obj in topics.items():
            cluster = obj.get("metadata", {}).get("labels", {}).get("strimzi.io/cluster")
            if cluster not in clusters:
                self.error(f"KafkaTopic/{name}", f"strimzi.io/cluster {cluster!r} is no Kafka")
        for name, pool in by_kind.get("KafkaNodePool", {}).items():
            cluster = pool.get("metadata", {}).get("labels", {}).get("strimzi.io/cluster")
            if cluster not in clusters:
                self.error(f"KafkaNodePool/{name}", f"strimzi.io/cluster {cluster!r} is no Kafka")


def _ingress_backends(ingress: dict[str, Any]) -> Iterator[dict[str, Any]]:
    spec = ingress.get("spec", {})
    if "defaultBackend" in spec:
        yield spec["defaultBackend"].get("service", {})
    for rule in spec.get("rules", []):
        for path in rule.get("http", {}).get("paths", []):
            yield path.get("backend", {}).get("service", {})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--overlay", type=Path, default=K8S_DIR / "base")
    parser.add_argument(
        "--require-build", action="store_true", help="fail when no kustomize is installed"
    )
    args = parser.parse_args(argv)
    checker = Checker()
    count = checker.check_files(K8S_DIR)
    print(f"parsed {count} YAML files under {K8S_DIR}")
    objects = checker.build(args.overlay, args.require_build)
    if objects is not None:
        checker.check_rendered(objects)
        print(f"rendered {len(objects)} objects from {args.overlay}")
    for note in checker.notes:
        print(f"note: {note}")
    for error in checker.errors:
        print(f"error: {error}", file=sys.stderr)
    if checker.errors:
        print(f"{len(checker.errors)} error(s)", file=sys.stderr)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
