// Minimal kustomize renderer, used by tests/deploy when neither kubectl nor kustomize is installed
// (a fresh Debian machine has neither; Debian's kubernetes-client 1.20 embeds kustomize 2.0.3, which
// does not accept directories under `resources:`).
//
// It supports exactly the kustomization features this repository uses, and refuses any other field,
// so it can never silently render something different:
//   resources (files and kustomization directories), namespace, images (name/newName/newTag/digest),
//   configMapGenerator (files, KEY=PATH), generatorOptions (labels, annotations,
//   disableNameSuffixHash: true).
// When kubectl is present, tests/deploy/validate.sh renders both ways and requires the same objects.
//
// Usage: node render.mjs DIR  > rendered.yaml
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";

const SUPPORTED = new Set(["apiVersion", "kind", "namespace", "resources", "images",
  "configMapGenerator", "generatorOptions"]);
// Kinds without a namespace (cluster-scoped) that may appear here.
const CLUSTER_SCOPED = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding",
  "CustomResourceDefinition", "PriorityClass", "StorageClass"]);

function fail(msg) {
  process.stderr.write(`render.mjs: ${msg}\n`);
  process.exit(1);
}

function findKustomization(dir) {
  for (const n of ["kustomization.yaml", "kustomization.yml", "Kustomization"]) {
    const p = path.join(dir, n);
    if (fs.existsSync(p)) return p;
  }
  fail(`no kustomization file in ${dir}`);
}

function inside(root, p) {
  const rel = path.relative(fs.realpathSync(root), fs.realpathSync(p));
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel);
}

function build(dir) {
  const kfile = findKustomization(dir);
  const k = YAML.parse(fs.readFileSync(kfile, "utf8")) || {};
  for (const key of Object.keys(k)) {
    if (!SUPPORTED.has(key)) fail(`${kfile}: field '${key}' is not supported by this renderer`);
  }
  let objects = [];
  for (const res of k.resources || []) {
    const p = path.resolve(dir, res);
    if (fs.statSync(p).isDirectory()) {
      objects.push(...build(p));
    } else {
      if (!inside(dir, p)) fail(`${kfile}: resource file ${res} is outside the kustomization root`);
      for (const doc of YAML.parseAllDocuments(fs.readFileSync(p, "utf8"))) {
        if (doc.errors.length) fail(`${p}: ${doc.errors[0].message}`);
        const o = doc.toJSON();
        if (o) objects.push(o);
      }
    }
  }
  const opts = k.generatorOptions || {};
  for (const key of Object.keys(opts)) {
    if (!["labels", "annotations", "disableNameSuffixHash"].includes(key)) fail(`generatorOptions.${key} unsupported`);
  }
  if (k.configMapGenerator && opts.disableNameSuffixHash !== true) {
    fail(`${kfile}: configMapGenerator needs generatorOptions.disableNameSuffixHash: true here (no hash support)`);
  }
  for (const g of k.configMapGenerator || []) {
    for (const key of Object.keys(g)) {
      if (!["name", "files"].includes(key)) fail(`configMapGenerator.${key} unsupported`);
    }
    const data = {};
    for (const f of g.files || []) {
      const [key, rel] = f.includes("=") ? f.split("=", 2) : [path.basename(f), f];
      const p = path.resolve(dir, rel);
      if (!inside(dir, p)) fail(`${kfile}: ${rel} is outside the kustomization root`);
      data[key] = fs.readFileSync(p, "utf8");
    }
    const metadata = { name: g.name };
    if (opts.annotations) metadata.annotations = { ...opts.annotations };
    if (opts.labels) metadata.labels = { ...opts.labels };
    objects.push({ apiVersion: "v1", kind: "ConfigMap", metadata, data });
  }
  for (const img of k.images || []) {
    for (const o of objects) {
      const spec = o.spec?.template?.spec;
      if (!spec) continue;
      for (const c of [...(spec.containers || []), ...(spec.initContainers || [])]) {
        const m = /^([^@:]+(?::\d+\/[^@:]+)?)(?::([^@]+))?(?:@(.+))?$/.exec(c.image);
        if (!m || m[1] !== img.name) continue;
        let out = img.newName || m[1];
        if (img.digest) out += `@${img.digest}`;
        else if (img.newTag) out += `:${img.newTag}`;
        else if (m[2]) out += `:${m[2]}`;
        c.image = out;
      }
    }
  }
  if (k.namespace) {
    for (const o of objects) {
      if (!CLUSTER_SCOPED.has(o.kind)) o.metadata = { ...o.metadata, namespace: k.namespace };
    }
  }
  return objects;
}

const dir = process.argv[2];
if (!dir) fail("usage: node render.mjs DIR");
const objects = build(path.resolve(dir));
process.stdout.write(objects.map((o) => YAML.stringify(o, { lineWidth: 0 })).join("---\n"));
