"""The Helm chart's checks against what it rendered (JSON from the API server's dry run):
pod security settings and probes are there, and each ClusterRole's rules are exactly those of
deploy/rbac/ (which the Rust tests run Heimdall under).

    helm-check.py RENDERED.json RBAC_DIR RELEASE [SERVICEMONITOR.yaml]

The ServiceMonitor (serviceMonitor.enabled) is checked as rendered, not dry-run: the test API
server has no Prometheus Operator CRDs, and a stand-in CRD would accept anything.
"""
import glob
import json
import sys

import yaml

rendered, rbac_dir, release = sys.argv[1], sys.argv[2], sys.argv[3]
items = json.load(open(rendered))["items"]
problems = []


def expect(ok, what):
    if not ok:
        problems.append(what)


by_kind = {}
for item in items:
    by_kind.setdefault(item["kind"], []).append(item)

for kind in ["Deployment", "Service", "ServiceAccount", "ConfigMap", "PodDisruptionBudget", "Ingress"]:
    expect(kind in by_kind, f"the chart renders a {kind}")

deployment = by_kind["Deployment"][0]
pod = deployment["spec"]["template"]["spec"]
container = pod["containers"][0]
expect(pod.get("securityContext", {}).get("runAsNonRoot") is True, "the pod runs as non-root")
expect(pod.get("securityContext", {}).get("seccompProfile", {}).get("type") == "RuntimeDefault", "seccomp RuntimeDefault")
security = container.get("securityContext", {})
expect(security.get("readOnlyRootFilesystem") is True, "the root filesystem is read-only")
expect(security.get("allowPrivilegeEscalation") is False, "no privilege escalation")
expect(security.get("capabilities", {}).get("drop") == ["ALL"], "every capability dropped")
expect(container.get("livenessProbe", {}).get("httpGet", {}).get("path") == "/livez", "liveness on /livez")
expect(container.get("readinessProbe", {}).get("httpGet", {}).get("path") == "/readyz", "readiness on /readyz")
expect(bool(container.get("resources", {}).get("requests")), "resource requests")
expect(pod.get("serviceAccountName") == release, "the release's ServiceAccount")
expect(any("secretRef" in e for e in container.get("envFrom", [])), "secrets come from a Secret reference")
expect(deployment["spec"]["replicas"] >= 2, "several replicas by default")
config = by_kind["ConfigMap"][0].get("data", {})
expect(bool(config.get("HEIMDALL_SERVER__TRUSTED_PROXIES")), "the ingress's networks are trusted proxies (server.trusted_proxies)")

# The rules of each ClusterRole, by what follows "heimdall-" / "<release>-".
def rules(role):
    return sorted(json.dumps(r, sort_keys=True) for r in role.get("rules", []))


chart = {r["metadata"]["name"][len(release) + 1:]: rules(r) for r in by_kind.get("ClusterRole", [])}
manifests = {}
for path in glob.glob(f"{rbac_dir}/*.yaml"):
    for doc in yaml.safe_load_all(open(path)):
        if doc and doc["kind"] == "ClusterRole":
            manifests[doc["metadata"]["name"][len("heimdall-"):]] = rules(doc)
expect(sorted(chart) == sorted(manifests), f"the same ClusterRoles: chart {sorted(chart)}, deploy/rbac {sorted(manifests)}")
for name in chart:
    expect(chart[name] == manifests.get(name), f"ClusterRole {name}: the chart's rules are deploy/rbac's")
bindings = [b for b in by_kind.get("ClusterRoleBinding", []) + by_kind.get("RoleBinding", [])]
expect(len(bindings) == len(chart), f"one binding per role ({len(bindings)} for {len(chart)})")
for b in bindings:
    subject = b["subjects"][0]
    expect(subject["kind"] == "ServiceAccount" and subject["name"] == release, f"{b['metadata']['name']} binds the release's ServiceAccount")

if len(sys.argv) > 4:
    monitors = [d for d in yaml.safe_load_all(open(sys.argv[4])) if d and d.get("kind") == "ServiceMonitor"]
    expect(len(monitors) == 1, "serviceMonitor.enabled renders one ServiceMonitor")
    for monitor in monitors:
        endpoint = monitor["spec"]["endpoints"][0]
        expect(endpoint.get("path") == "/metrics" and endpoint.get("port") == "http", "it scrapes /metrics on the http port")
        credentials = endpoint.get("authorization", {}).get("credentials", {})
        expect(credentials.get("key") == "HEIMDALL_METRICS__TOKEN" and credentials.get("name") == "heimdall-secrets",
               "the scrape's bearer token is the metrics token from existingSecret")
        expect(monitor["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"],
               "it selects Heimdall's Service")

if problems:
    print("helm chart check failed:\n  " + "\n  ".join(problems))
    sys.exit(1)
print(f"helm chart: {len(items)} objects accepted by the API server; security settings, probes and RBAC as expected")
