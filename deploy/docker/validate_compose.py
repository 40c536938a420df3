"""Check a docker-compose.yml without a Docker engine.

``deploy/docker/validate.sh`` runs ``docker compose config -q`` when a Compose CLI is
installed, and this script in every case: Compose checks the file against its
schema, this script checks what Compose leaves to run time (a dependency on a missing
service, a Dockerfile that is not there, a host port published twice, a service
without a healthcheck). With ``jsonschema`` importable and a Compose JSON schema
(``--schema`` or ``$COMPOSE_SPEC_SCHEMA``, or the one Debian's docker-compose package
ships) it validates against that schema as well.

Usage: ``python deploy/docker/validate_compose.py [docker-compose.yml] [--schema FILE]``.
Exit status 0 when the file is valid, 1 when it is not, 2 when it cannot be read.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]

# Schemas that a Compose installation may ship; the first that exists is used.
SCHEMA_CANDIDATES = (
    Path("/usr/lib/python3/dist-packages/compose/config/compose_spec.json"),
    Path("/usr/share/docker-compose/compose-spec.json"),
)

TOP_LEVEL_KEYS = {"version", "name", "services", "networks", "volumes", "configs", "secrets"}

# Keys of a service in the Compose specification; anything else is a typo.
SERVICE_KEYS = {
    "annotations", "attach", "blkio_config", "build", "cap_add", "cap_drop", "cgroup",
    "cgroup_parent", "command", "configs", "container_name", "cpu_count", "cpu_percent",
    "cpu_period", "cpu_quota", "cpu_rt_period", "cpu_rt_runtime", "cpu_shares", "cpus",
    "cpuset", "credential_spec", "depends_on", "deploy", "develop", "device_cgroup_rules",
    "devices", "dns", "dns_opt", "dns_search", "domainname", "entrypoint", "env_file",
    "environment", "expose", "extends", "external_links", "extra_hosts", "gpus", "group_add",
    "healthcheck", "hostname", "image", "init", "ipc", "isolation", "labels", "links",
    "logging", "mac_address", "mem_limit", "mem_reservation", "mem_swappiness",
    "memswap_limit", "network_mode", "networks", "oom_kill_disable", "oom_score_adj", "pid",
    "pids_limit", "platform", "ports", "post_start", "pre_stop", "privileged", "profiles",
    "pull_policy", "read_only", "restart", "runtime", "scale", "secrets", "security_opt",
    "shm_size", "stdin_open", "stop_grace_period", "stop_signal", "storage_opt", "sysctls",
    "tmpfs", "tty", "ulimits", "user", "userns_mode", "uts", "volumes", "volumes_from",
    "working_dir",
}  # fmt: skip
BUILD_KEYS = {
    "additional_contexts", "args", "cache_from", "cache_to", "context", "dockerfile",
    "dockerfile_inline", "entitlements", "extra_hosts", "isolation", "labels", "network",
    "no_cache", "platforms", "privileged", "pull", "secrets", "shm_size", "ssh", "tags",
    "target", "ulimits",
}  # fmt: skip
HEALTHCHECK_KEYS = {"test", "interval", "timeout", "retries", "start_period",
                    "start_interval", "disable"}  # fmt: skip
DEPENDS_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
RESTART_POLICIES = {"no", "always", "on-failure", "unless-stopped"}
PULL_POLICIES = {"always", "never", "missing", "if_not_present", "build", "daily", "weekly"}

SERVICE_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
DURATION_RE = re.compile(r"^(\d+(\.\d+)?(us|ms|s|m|h))+$")
# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, ${VAR:+alt}, $VAR
INTERPOLATION_RE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*)|(?P<escaped>\$)|(?P<invalid>))"
)


class DuplicateKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key repeated in one mapping (PyYAML keeps the last)."""


def _construct_mapping(loader: DuplicateKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
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


DuplicateKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


@dataclass
class Report:
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def error(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")


def interpolate(value: str, env: Mapping[str, str], where: str, report: Report) -> str:
    """Apply Compose's ``${VAR}`` substitution to one string."""

    def substitute(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        if match.group("invalid") is not None:
            report.error(where, f"invalid interpolation in {value!r} ('$$' for a literal $)")
            return ""
        name = match.group("braced") or match.group("named")
        op, arg = match.group("op"), match.group("arg") or ""
        current = env.get(name)
        if op in (":-", "-"):
            unset = current is None or (op == ":-" and current == "")
            return arg if unset else str(current)
        if op in (":?", "?"):
            if current is None or (op == ":?" and current == ""):
                report.error(where, f"required variable {name} is not set: {arg}")
                return ""
            return current
        if op in (":+", "+"):
            is_set = current is not None and (op == "+" or current != "")
            return arg if is_set else ""
        return current or ""

    return INTERPOLATION_RE.sub(substitute, value)


def interpolate_tree(node: Any, env: Mapping[str, str], where: str, report: Report) -> Any:
    if isinstance(node, str):
        return interpolate(node, env, where, report)
    if isinstance(node, list):
        return [interpolate_tree(item, env, f"{where}[{i}]", report) for i, item in enumerate(node)]
    if isinstance(node, dict):
        return {
            key: interpolate_tree(value, env, f"{where}.{key}", report)
            for key, value in node.items()
        }
    return node


def services_of(doc: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    services = doc.get("services")
    if isinstance(services, dict):
        for name, spec in services.items():
            if isinstance(spec, dict):
                yield str(name), spec


def depends_on_of(spec: Mapping[str, Any]) -> dict[str, str]:
    """``depends_on`` as {service: condition}, for the list and the mapping form."""
    raw = spec.get("depends_on")
    if isinstance(raw, list):
        return {str(name): "service_started" for name in raw}
    if isinstance(raw, dict):
        out: dict[str, str] = {}
        for name, options in raw.items():
            condition = options.get("condition") if isinstance(options, dict) else None
            out[str(name)] = str(condition) if condition is not None else "service_started"
        return out
    return {}


def check_top_level(doc: Mapping[str, Any], report: Report) -> None:
    for key in doc:
        if not isinstance(key, str) or not (key in TOP_LEVEL_KEYS or key.startswith("x-")):
            report.error("<top level>", f"unknown key {key!r}")
    services = doc.get("services")
    if not isinstance(services, dict) or not services:
        report.error("services", "must be a non-empty mapping")
        return
    for name, spec in services.items():
        if not isinstance(name, str) or not SERVICE_NAME_RE.match(name):
            report.error(f"services.{name}", "invalid service name")
        if not isinstance(spec, dict):
            report.error(f"services.{name}", "must be a mapping")


def check_service_keys(name: str, spec: Mapping[str, Any], report: Report) -> None:
    where = f"services.{name}"
    for key in spec:
        if not isinstance(key, str) or not (key in SERVICE_KEYS or key.startswith("x-")):
            report.error(where, f"unknown key {key!r}")
    if "image" not in spec and "build" not in spec:
        report.error(where, "needs an image or a build")
    restart = spec.get("restart")
    if restart is not None and not (
        restart in RESTART_POLICIES or re.fullmatch(r"on-failure:\d+", str(restart))
    ):
        report.error(where, f"invalid restart policy {restart!r}")
    pull = spec.get("pull_policy")
    if pull is not None and pull not in PULL_POLICIES:
        report.error(where, f"invalid pull_policy {pull!r}")
    for key in ("command", "entrypoint"):
        value = spec.get(key)
        if value is not None and not (
            isinstance(value, str)
            or (isinstance(value, list) and all(isinstance(item, str) for item in value))
        ):
            report.error(where, f"{key} must be a string or a list of strings")
    check_environment(where, spec.get("environment"), report)


def check_environment(where: str, env: Any, report: Report) -> None:
    if env is None:
        return
    if isinstance(env, list):
        for item in env:
            if not isinstance(item, str) or not re.match(r"^[^=\s]+(=|$)", item):
                report.error(f"{where}.environment", f"invalid entry {item!r}")
    elif isinstance(env, dict):
        for key, value in env.items():
            if not isinstance(key, str) or not key or "=" in key:
                report.error(f"{where}.environment", f"invalid variable name {key!r}")
            if isinstance(value, (dict, list)):
                report.error(f"{where}.environment.{key}", "must be a string, number or bool")
    else:
        report.error(f"{where}.environment", "must be a mapping or a list")


def check_build(name: str, spec: Mapping[str, Any], base: Path, report: Report) -> None:
    build = spec.get("build")
    if build is None:
        return
    where = f"services.{name}.build"
    if isinstance(build, str):
        build = {"context": build}
    if not isinstance(build, dict):
        report.error(where, "must be a string or a mapping")
        return
    for key in build:
        if key not in BUILD_KEYS and not str(key).startswith("x-"):
            report.error(where, f"unknown key {key!r}")
    context_value = str(build.get("context", "."))
    if "://" in context_value or context_value.startswith("git@"):
        report.notes.append(f"{where}: remote context {context_value} not checked")
        return
    context = (base / context_value).resolve()
    if not context.is_dir():
        report.error(where, f"context {context_value!r} is not a directory ({context})")
        return
    if "dockerfile_inline" not in build:
        dockerfile = context / str(build.get("dockerfile", "Dockerfile"))
        if not dockerfile.is_file():
            report.error(where, f"dockerfile {dockerfile} does not exist")
        else:
            check_build_args(where, build.get("args"), dockerfile, report)
    elif "dockerfile" in build:
        report.error(where, "dockerfile and dockerfile_inline are exclusive")


def check_build_args(where: str, args: Any, dockerfile: Path, report: Report) -> None:
    """Every build arg given must be declared with ARG in the Dockerfile."""
    if args is None:
        return
    if isinstance(args, list):
        names = [str(item).split("=", 1)[0] for item in args]
    elif isinstance(args, dict):
        names = [str(key) for key in args]
    else:
        report.error(f"{where}.args", "must be a mapping or a list")
        return
    declared = set(
        re.findall(r"^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)", dockerfile.read_text(), re.MULTILINE)
    )
    for arg in names:
        if arg not in declared:
            report.error(f"{where}.args", f"{arg} is not an ARG of {dockerfile.name}")


def check_healthcheck(
    name: str, spec: Mapping[str, Any], one_shots: set[str], report: Report
) -> bool:
    """True when the service has a working healthcheck."""
    where = f"services.{name}.healthcheck"
    health = spec.get("healthcheck")
    if not isinstance(health, dict):
        report.error(f"services.{name}", "has no healthcheck")
        return False
    for key in health:
        if key not in HEALTHCHECK_KEYS:
            report.error(where, f"unknown key {key!r}")
    for key in ("interval", "timeout", "start_period", "start_interval"):
        value = health.get(key)
        if value is not None and not DURATION_RE.match(str(value)):
            report.error(where, f"{key} {value!r} is not a duration like 10s or 1m30s")
    retries = health.get("retries")
    if retries is not None and (not isinstance(retries, int) or retries < 1):
        report.error(where, f"retries must be a positive integer, not {retries!r}")
    test = health.get("test")
    disabled = health.get("disable") is True or test in (["NONE"], "NONE")
    if disabled:
        if name not in one_shots:
            report.error(
                where,
                "is disabled; only one-shot services (waited on with "
                "service_completed_successfully) may go without a healthcheck",
            )
        return False
    if isinstance(test, str):
        if not test.strip():
            report.error(where, "test is empty")
            return False
        return True
    if not (isinstance(test, list) and test and all(isinstance(item, str) for item in test)):
        report.error(where, "test must be a string or a list of strings")
        return False
    if test[0] not in ("CMD", "CMD-SHELL") or len(test) < 2:
        report.error(where, "test must start with CMD or CMD-SHELL and have a command")
        return False
    return True


def check_depends_on(doc: Mapping[str, Any], healthy: set[str], report: Report) -> None:
    names = {name for name, _ in services_of(doc)}
    graph: dict[str, set[str]] = {}
    for name, spec in services_of(doc):
        deps = depends_on_of(spec)
        graph[name] = set(deps)
        raw = spec.get("depends_on")
        if raw is not None and not isinstance(raw, (list, dict)):
            report.error(f"services.{name}.depends_on", "must be a list or a mapping")
        for target, condition in deps.items():
            where = f"services.{name}.depends_on.{target}"
            if target == name:
                report.error(where, "a service cannot depend on itself")
            elif target not in names:
                report.error(where, "no such service")
            if condition not in DEPENDS_CONDITIONS:
                report.error(where, f"unknown condition {condition!r}")
            if condition == "service_healthy" and target in names and target not in healthy:
                report.error(where, "service_healthy on a service without a healthcheck")
    # Cycles: Compose refuses to start a project whose dependencies loop.
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, set())):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt) :] + [nxt] if nxt in path else [node, nxt]
                report.error("depends_on", "dependency cycle " + " -> ".join(cycle))
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])


def parse_port(entry: Any) -> list[tuple[str, str, str]] | None:
    """Published (host ip, host port, protocol) of one ``ports`` entry; None if invalid."""
    if isinstance(entry, dict):
        published = entry.get("published")
        if entry.get("target") is None:
            return None
        if published is None:
            return []
        return [(str(entry.get("host_ip", "")), str(published), str(entry.get("protocol", "tcp")))]
    if isinstance(entry, int):
        return []  # container port only: Docker picks a free host port
    if not isinstance(entry, str):
        return None
    text, _, protocol = entry.partition("/")
    protocol = protocol or "tcp"
    match = re.fullmatch(
        r"(?:(?P<ip>\[[0-9a-fA-F:]+\]|\d+\.\d+\.\d+\.\d+):)?(?:(?P<host>[0-9]+(?:-[0-9]+)?)?:)?"
        r"(?P<container>[0-9]+(?:-[0-9]+)?)",
        text,
    )
    if not match or protocol not in ("tcp", "udp", "sctp"):
        return None
    host = match.group("host")
    if not host:
        return []
    low, _, high = host.partition("-")
    ports = range(int(low), int(high or low) + 1)
    return [(match.group("ip") or "", str(port), protocol) for port in ports]


def check_ports(doc: Mapping[str, Any], report: Report) -> None:
    owners: dict[tuple[str, str], str] = {}
    for name, spec in services_of(doc):
        entries = spec.get("ports") or []
        if not isinstance(entries, list):
            report.error(f"services.{name}.ports", "must be a list")
            continue
        for entry in entries:
            published = parse_port(entry)
            if published is None:
                report.error(f"services.{name}.ports", f"invalid port {entry!r}")
                continue
            for ip, port, protocol in published:
                if not 0 < int(port) < 65536:
                    report.error(f"services.{name}.ports", f"port {port} out of range")
                # A wildcard bind collides with every address on the same port.
                for (other_ip, other_port), owner in owners.items():
                    same_ip = not ip or not other_ip or ip == other_ip
                    if same_ip and other_port == f"{port}/{protocol}":
                        report.error(
                            f"services.{name}.ports",
                            f"host port {port}/{protocol} is already published by {owner}",
                        )
                owners[(ip, f"{port}/{protocol}")] = name


def check_volumes(doc: Mapping[str, Any], base: Path, report: Report) -> None:
    declared = doc.get("volumes") or {}
    if not isinstance(declared, dict):
        report.error("volumes", "must be a mapping")
        declared = {}
    for name, spec in services_of(doc):
        for entry in spec.get("volumes") or []:
            where = f"services.{name}.volumes"
            if isinstance(entry, dict):
                source, kind = entry.get("source"), entry.get("type", "volume")
            elif isinstance(entry, str):
                parts = entry.split(":")
                if len(parts) == 1:
                    continue  # anonymous volume
                source = parts[0]
                kind = "bind" if source.startswith((".", "/", "~")) else "volume"
            else:
                report.error(where, f"invalid entry {entry!r}")
                continue
            if kind == "volume" and source and source not in declared:
                report.error(where, f"named volume {source!r} is not declared under volumes")
            if kind == "bind" and source:
                path = (base / os.path.expanduser(str(source))).resolve()
                if not path.exists():
                    report.error(where, f"bind source {source} does not exist ({path})")


def check_schema(doc: Mapping[str, Any], schema_path: Path | None, report: Report) -> None:
    candidates = [schema_path] if schema_path else list(SCHEMA_CANDIDATES)
    env_schema = os.environ.get("COMPOSE_SPEC_SCHEMA")
    if env_schema and not schema_path:
        candidates.insert(0, Path(env_schema))
    found = next((path for path in candidates if path and path.is_file()), None)
    if found is None:
        report.notes.append("no Compose JSON schema found: schema validation skipped")
        return
    try:
        jsonschema = importlib.import_module("jsonschema")
    except ImportError:
        report.notes.append("jsonschema is not importable: schema validation skipped")
        return
    schema = json.loads(found.read_text())
    validator_cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    validator = validator_cls(schema)
    # The schema describes the file after interpolation, with ports etc. as strings.
    for problem in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
        location = ".".join(str(part) for part in problem.absolute_path) or "<top level>"
        report.error(location, f"schema: {problem.message}")
    report.notes.append(f"validated against the JSON schema {found}")


def validate(
    path: Path, schema: Path | None = None, env: Mapping[str, str] | None = None
) -> Report:
    report = Report()
    try:
        raw = yaml.load(path.read_text(), Loader=DuplicateKeyLoader)  # noqa: S506 - SafeLoader
    except yaml.YAMLError as exc:
        report.error(str(path), f"not valid YAML: {exc}")
        return report
    if not isinstance(raw, dict):
        report.error(str(path), "top level must be a mapping")
        return report
    doc = interpolate_tree(raw, os.environ if env is None else env, "", report)
    base = path.resolve().parent
    check_top_level(doc, report)
    # One-shots: services others wait on to *complete*; they may skip healthchecks.
    one_shots = {
        target
        for _, spec in services_of(doc)
        for target, condition in depends_on_of(spec).items()
        if condition == "service_completed_successfully"
    }
    healthy: set[str] = set()
    for name, spec in services_of(doc):
        check_service_keys(name, spec, report)
        check_build(name, spec, base, report)
        if check_healthcheck(name, spec, one_shots, report):
            healthy.add(name)
        if name in one_shots and spec.get("restart") not in (None, "no", "on-failure"):
            report.error(f"services.{name}", "a one-shot must not restart unless-stopped/always")
    check_depends_on(doc, healthy, report)
    check_ports(doc, report)
    check_volumes(doc, base, report)
    check_schema(doc, schema, report)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("file", nargs="?", type=Path, default=REPO_ROOT / "docker-compose.yml")
    parser.add_argument("--schema", type=Path, help="Compose JSON schema to validate against")
    args = parser.parse_args(argv)
    if not args.file.is_file():
        print(f"{args.file}: no such file", file=sys.stderr)
        return 2
    report = validate(args.file, args.schema)
    for note in report.notes:
        print(f"note: {note}")
    for error in report.errors:
        print(f"error: {error}", file=sys.stderr)
    if report.errors:
        print(f"{args.file}: {len(report.errors)} error(s)", file=sys.stderr)
        return 1
    services = sum(1 for _ in services_of(yaml.safe_load(args.file.read_text())))
    print(f"{args.file}: OK ({services} services)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
