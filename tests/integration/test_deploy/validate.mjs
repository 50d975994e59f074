// Validates Kubernetes manifests (YAML, several documents per file) against the schemas of
// their apiVersion/kind: the Kubernetes API's OpenAPI schemas and prometheus-operator's CRDs as
// packaged by kubernetes-models (compiled ajv validators). Prints one JSON line per object:
// {"file","kind","name","errors":[...]} ; an unknown kind is an error too.
// usage: node validate.mjs FILE...
import fs from "fs";
import YAML from "yaml";
import { ConfigMap, Secret, Service, Namespace } from "kubernetes-models/v1";
import { DaemonSet } from "kubernetes-models/apps/v1";
import { PodMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";

const models = {
  "v1/ConfigMap": ConfigMap, "v1/Secret": Secret, "v1/Service": Service, "v1/Namespace": Namespace,
  "apps/v1/DaemonSet": DaemonSet, "monitoring.coreos.com/v1/PodMonitor": PodMonitor,
};

for (const file of process.argv.slice(2)) {
  for (const doc of YAML.parseAllDocuments(fs.readFileSync(file, "utf8"))) {
    const obj = doc.toJS();
    if (!obj) continue;
    const key = `${obj.apiVersion}/${obj.kind}`;
    const out = { file, kind: obj.kind, name: obj.metadata && obj.metadata.name, errors: [] };
    if (doc.errors.length) out.errors.push(...doc.errors.map(String));
    const M = models[key];
    if (!M) {
      out.errors.push(`no schema for ${key}`);
    } else {
      try {
        new M(obj).validate();
      } catch (e) {
        out.errors.push(String(e.message || e));
      }
    }
    process.stdout.write(JSON.stringify(out) + "\n");
  }
}
