// Offline validation of the objects `kubectl kustomize deploy` renders.
//
//   node validate.mjs validate RENDERED.yaml   schema + unknown fields + deployment policy
//   node validate.mjs compare A.yaml B.yaml    same objects (by kind/namespace/name, deep-equal)
//   node validate.mjs rules RENDERED.yaml      print the PrometheusRule's spec as JSON
//   node validate.mjs yaml2json FILE           print a YAML file as JSON
//
// Schemas: the npm packages kubernetes-models (Kubernetes API types with precompiled JSON-schema
// validators) and @kubernetes-models/prometheus-operator (ServiceMonitor/PrometheusRule CRDs).
// Their validators check types, required fields, enums and patterns but, like the OpenAPI schemas they
// come from, accept unknown fields; the API server rejects those (kubectl's default
// --validate=strict), so this script also walks every object along the packages' TypeScript
// declarations and reports any field they do not declare (a typo such as `securityContex`).
// Must run from a directory whose node_modules holds those packages (tests/deploy/lib.sh copies it
// next to them).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import YAML from "yaml";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const NM = path.join(HERE, "node_modules");

// apiVersion -> [package dir, sub-path]
function modelLocation(apiVersion) {
  if (apiVersion === "monitoring.coreos.com/v1") return ["@kubernetes-models/prometheus-operator", "monitoring.coreos.com/v1"];
  if (!apiVersion.includes("/")) return ["kubernetes-models", apiVersion];
  const [group, version] = apiVersion.split("/");
  if (!group.includes(".") || group.endsWith(".k8s.io")) return ["kubernetes-models", `${group}/${version}`];
  return null;
}

function readDocs(file) {
  const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
  const out = [];
  for (const d of docs) {
    if (d.errors.length) throw new Error(`${file}: YAML error: ${d.errors[0].message}`);
    const o = d.toJSON();
    if (o !== null && o !== undefined) out.push(o);
  }
  return out;
}

const id = (o) => `${o?.kind}/${o?.metadata?.namespace ? o.metadata.namespace + "/" : ""}${o?.metadata?.name}`;

// ------------------------------------------------------------------ TypeScript declaration walker
function tokenize(src) {
  src = src.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/\/\/[^\n]*/g, " ");
  const re = /\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[A-Za-z_$][\w$]*|-?\d+(?:\.\d+)?|=>|[{}<>()[\];:?|,=&.])/gy;
  const toks = [];
  let m;
  while ((m = re.exec(src)) !== null) toks.push(m[1]);
  return toks;
}

class Parser {
  constructor(toks, i = 0) { this.t = toks; this.i = i; }
  peek() { return this.t[this.i]; }
  next() { return this.t[this.i++]; }
  eat(x) { if (this.t[this.i] !== x) throw new Error(`expected ${x} got ${this.t[this.i]}`); this.i++; }
  type() {
    const members = [this.postfix()];
    while (this.peek() === "|" || this.peek() === "&") { this.next(); members.push(this.postfix()); }
    return members.length === 1 ? members[0] : { k: "union", of: members };
  }
  postfix() {
    let t = this.primary();
    while (this.peek() === "[" && this.t[this.i + 1] === "]") { this.i += 2; t = { k: "array", of: t }; }
    return t;
  }
  primary() {
    const tok = this.next();
    if (tok === "{") return this.objectBody();
    if (tok === "(") { const t = this.type(); this.eat(")"); return t; }
    if (/^["'\d-]/.test(tok)) return { k: "prim" };
    if (["string", "number", "boolean", "any", "unknown", "object", "null", "undefined", "never"].includes(tok)) return { k: "prim" };
    let name = tok;
    while (this.peek() === ".") { this.next(); name += "." + this.next(); }
    if (this.peek() === "<") {
      this.next();
      const args = [this.type()];
      while (this.peek() === ",") { this.next(); args.push(this.type()); }
      this.eat(">");
      if (name === "Array" || name === "ReadonlyArray") return { k: "array", of: args[0] };
      if (name === "Record") return { k: "object", props: new Map(), index: args[1] };
      return { k: "prim" };
    }
    return { k: "ref", name };
  }
  objectBody() {
    const props = new Map();
    let index = null;
    while (this.peek() !== "}") {
      if (this.peek() === "[") {
        this.next(); this.next(); this.eat(":"); this.type(); this.eat("]"); this.eat(":");
        index = this.type();
      } else {
        let name = this.next();
        if (/^["']/.test(name)) name = JSON.parse(name.startsWith("'") ? `"${name.slice(1, -1)}"` : name);
        if (this.peek() === "?") this.next();
        this.eat(":");
        props.set(name, this.type());
      }
      if (this.peek() === ";" || this.peek() === ",") this.next();
    }
    this.eat("}");
    return { k: "object", props, index };
  }
}

class Declarations {
  constructor() { this.files = new Map(); this.unresolved = new Set(); }
  file(p) {
    if (this.files.has(p)) return this.files.get(p);
    const toks = tokenize(fs.readFileSync(p, "utf8"));
    const f = { path: p, toks, imports: new Map(), decls: new Map(), aliases: new Map() };
    for (let i = 0; i < toks.length; i++) {
      if (toks[i] === "import" && toks[i + 1] === "{") {
        let j = i + 2;
        const names = [];
        while (toks[j] !== "}") {
          if (toks[j + 1] === "as") { names.push([toks[j + 2], toks[j]]); j += 3; } else { names.push([toks[j], toks[j]]); j += 1; }
          if (toks[j] === ",") j++;
        }
        const from = JSON.parse(toks[j + 2]);
        for (const [local, orig] of names) f.imports.set(local, { from, orig });
      } else if (toks[i] === "export" && toks[i + 1] === "{") {
        let j = i + 2;
        while (toks[j] !== "}") {
          if (toks[j + 1] === "as") { f.aliases.set(toks[j + 2], toks[j]); j += 3; } else j += 1;
          if (toks[j] === ",") j++;
        }
      } else if (toks[i] === "interface") {
        const name = toks[i + 1];
        let j = i + 2;
        const ext = [];
        if (toks[j] === "<") { let d = 1; j++; while (d) { if (toks[j] === "<") d++; if (toks[j] === ">") d--; j++; } }
        if (toks[j] === "extends") { j++; while (toks[j] !== "{") { if (/^[A-Za-z_]/.test(toks[j])) ext.push(toks[j]); j++; } }
        f.decls.set(name, { at: j, ext });
      } else if (toks[i] === "type" && toks[i - 1] === "export" && toks[i + 2] === "=") {
        f.decls.set(toks[i + 1], { at: i + 3, alias: true });
      }
    }
    this.files.set(p, f);
    return f;
  }
  resolveModule(from, spec) {
    if (spec.startsWith(".")) return path.resolve(path.dirname(from), spec) + ".d.ts";
    const parts = spec.split("/");
    const pkgLen = spec.startsWith("@") ? 2 : 1;
    const pkg = parts.slice(0, pkgLen).join("/");
    const rest = parts.slice(pkgLen).join("/");
    for (let dir = path.dirname(from); ; dir = path.dirname(dir)) {
      const cand = path.join(dir, "node_modules", pkg);
      if (fs.existsSync(cand)) {
        for (const c of [path.join(cand, rest + ".d.ts"), path.join(cand, rest, "index.d.ts"), path.join(cand, "dist", rest + ".d.ts")]) {
          if (fs.existsSync(c)) return c;
        }
        return null;
      }
      if (dir === path.dirname(dir)) return null;
    }
  }
  // The type named `name` as seen from file `p`, or null.
  lookup(p, name, depth = 0) {
    if (depth > 10) return null;
    const f = this.file(p);
    const local = f.aliases.get(name) || name;
    const d = f.decls.get(local);
    if (d) {
      if (!d.type) {
        const parser = new Parser(f.toks, d.at);
        d.type = { k: "prim" };  // recursion guard
        let t = d.alias ? parser.type() : (parser.eat("{"), parser.objectBody());
        for (const e of d.ext || []) {
          const base = this.resolve(p, { k: "ref", name: e });
          if (base?.k === "object") t = { k: "object", props: new Map([...base.props, ...t.props]), index: t.index || base.index };
        }
        d.type = t;
      }
      return { type: d.type, file: p };
    }
    const imp = f.imports.get(local);
    if (imp) {
      const target = this.resolveModule(p, imp.from);
      if (target) return this.lookup(target, imp.orig, depth + 1);
    }
    return null;
  }
  resolve(p, t) {
    let file = p;
    for (let n = 0; t && t.k === "ref" && n < 10; n++) {
      const r = this.lookup(file, t.name);
      if (!r) { this.unresolved.add(t.name); return null; }
      t = r.type; file = r.file;
      t = { ...t, file };
    }
    return t ? { ...t, file: t.file || file } : null;
  }
  check(value, t, file, where, errors) {
    const r = this.resolve(file, t);
    if (!r || value === null || typeof value !== "object") return;
    if (r.k === "array") {
      if (Array.isArray(value)) value.forEach((v, i) => this.check(v, r.of, r.file, `${where}[${i}]`, errors));
    } else if (r.k === "union") {
      const objs = r.of.map((m) => this.resolve(r.file, m)).filter((m) => m && (m.k === "object" || m.k === "array"));
      if (objs.length === 1) this.check(value, objs[0], objs[0].file, where, errors);
    } else if (r.k === "object" && !Array.isArray(value)) {
      for (const [key, v] of Object.entries(value)) {
        if (r.props.has(key)) this.check(v, r.props.get(key), r.file, `${where}.${key}`, errors);
        else if (r.index) this.check(v, r.index, r.file, `${where}.${key}`, errors);
        else errors.push(`${where}.${key}: unknown field (not in the schema)`);
      }
    }
  }
}

// ------------------------------------------------------------------ deployment policy
// The security and wiring properties deploy/README.md promises; a manifest edit that breaks one fails.
function policy(objs) {
  const errs = [];
  const byKind = (k) => objs.filter((o) => o.kind === k);
  const need = (cond, msg) => { if (!cond) errs.push(msg); };
  for (const k of ["Namespace", "ServiceAccount", "DaemonSet", "Service", "ServiceMonitor", "PrometheusRule"]) {
    need(byKind(k).length === 1, `exactly one ${k} expected, found ${byKind(k).length}`);
  }
  const ds = byKind("DaemonSet")[0];
  if (ds && !ds.spec?.template?.spec?.containers) errs.push("DaemonSet: no pod template with containers");
  else if (ds) {
    const pod = ds.spec.template.spec;
    need(!pod.hostPID && !pod.hostNetwork && !pod.hostIPC, "DaemonSet: host PID/network/IPC namespaces must stay off");
    need((pod.tolerations || []).some((t) => t.operator === "Exists" && !t.key && !t.effect), "DaemonSet: a toleration {operator: Exists} is needed to run on every node");
    need(pod.automountServiceAccountToken === false, "DaemonSet: automountServiceAccountToken must be false");
    const mounts = new Map((pod.volumes || []).map((v) => [v.name, v.hostPath?.path]));
    for (const c of pod.containers) {
      const sc = c.securityContext || {};
      need(sc.privileged === false, `${c.name}: privileged must be false`);
      need(sc.allowPrivilegeEscalation === false, `${c.name}: allowPrivilegeEscalation must be false`);
      need(sc.readOnlyRootFilesystem === true, `${c.name}: readOnlyRootFilesystem must be true`);
      need(JSON.stringify(sc.capabilities?.drop) === '["ALL"]', `${c.name}: capabilities.drop must be [ALL]`);
      const allowed = new Set(["BPF", "PERFMON", "SYS_RESOURCE", "DAC_READ_SEARCH"]);
      for (const cap of sc.capabilities?.add || []) need(allowed.has(cap), `${c.name}: capability ${cap} is not allowed`);
      need(c.resources?.requests && c.resources?.limits?.memory, `${c.name}: resource requests and a memory limit are required`);
      need(c.livenessProbe?.httpGet?.path === "/healthz", `${c.name}: livenessProbe on /healthz required`);
      need(c.readinessProbe?.httpGet, `${c.name}: readinessProbe required`);
      for (const m of c.volumeMounts || []) {
        const host = mounts.get(m.name);
        if (host && host !== "/sys/fs/bpf") need(m.readOnly === true, `${c.name}: host mount ${host} must be readOnly`);
      }
    }
    const allowedHost = new Set(["/sys/kernel/btf", "/sys/kernel/tracing", "/sys/fs/bpf", "/sys/fs/cgroup", "/sys/kernel/security"]);
    for (const [name, host] of mounts) if (host) need(allowedHost.has(host), `volume ${name}: host path ${host} is not in the allowed list`);
  }
  const svc = byKind("Service")[0];
  if (svc) need(svc.spec.clusterIP === "None" && svc.spec.ports?.some((p) => p.name === "metrics"), "Service: must be headless with a 'metrics' port");
  const sm = byKind("ServiceMonitor")[0];
  if (sm && svc) {
    const sel = sm.spec.selector?.matchLabels || {};
    need(Object.entries(sel).every(([k, v]) => svc.metadata.labels?.[k] === v), "ServiceMonitor selector does not match the Service labels");
    need(sm.spec.endpoints?.some((e) => e.port === "metrics"), "ServiceMonitor must scrape the 'metrics' port");
  }
  if (ds?.spec?.template && svc) {
    const labels = ds.spec.template.metadata.labels || {};
    need(Object.entries(svc.spec.selector || {}).every(([k, v]) => labels[k] === v), "Service selector does not match the DaemonSet pod labels");
  }
  const dashboards = byKind("ConfigMap").filter((c) => c.metadata.labels?.grafana_dashboard === "1");
  need(dashboards.length === 3, `3 dashboard ConfigMaps labelled grafana_dashboard: "1" expected, found ${dashboards.length}`);
  for (const c of dashboards) {
    for (const [k, v] of Object.entries(c.data || {})) {
      try { const d = JSON.parse(v); need(d.uid && d.panels, `${c.metadata.name}/${k}: not a dashboard`); } catch (e) { errs.push(`${c.metadata.name}/${k}: invalid JSON (${e.message})`); }
    }
  }
  return errs;
}

// ------------------------------------------------------------------ commands
async function validate(file) {
  const objs = readDocs(file);
  const decls = new Declarations();
  let failed = 0, passed = 0;
  const report = (ok, what, details = []) => {
    if (ok) { passed++; console.log(`  ok    ${what}`); } else { failed++; console.log(`  FAIL  ${what}`); for (const d of details) console.log(`        ${d}`); }
  };
  for (const o of objs) {
    const loc = o && typeof o === "object" && o.apiVersion && o.kind ? modelLocation(o.apiVersion) : null;
    if (!loc) { report(false, `${id(o)}: no schema for apiVersion ${o?.apiVersion}`); continue; }
    const [pkg, sub] = loc;
    const modFile = path.join(NM, pkg, sub, "index.mjs");
    const dts = path.join(NM, pkg, sub, `${o.kind}.d.ts`);
    let Model;
    try { Model = (await import(pathToFileURL(modFile)))[o.kind]; } catch (e) { /* reported below */ }
    if (!Model || !fs.existsSync(dts)) { report(false, `${id(o)}: no schema for ${o.apiVersion} ${o.kind}`); continue; }
    try {
      new Model(o).validate();
      report(true, `${id(o)}: schema (${pkg} ${sub})`);
    } catch (e) {
      report(false, `${id(o)}: schema (${pkg} ${sub})`, String(e.message).split(/,\s*(?=data\/)/));
    }
    const errors = [];
    decls.check(o, { k: "ref", name: `I${o.kind}` }, dts, o.kind, errors);
    report(errors.length === 0, `${id(o)}: no unknown fields`, errors);
  }
  const perrs = policy(objs);
  report(perrs.length === 0, `deployment policy (security context, mounts, probes, wiring)`, perrs);
  if (decls.unresolved.size) console.log(`  note  types not followed for unknown-field checks: ${[...decls.unresolved].join(", ")}`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

function compare(a, b) {
  const norm = (file) => new Map(readDocs(file).map((o) => [id(o), JSON.stringify(sortKeys(o))]));
  const A = norm(a), B = norm(b);
  let diff = 0;
  for (const k of new Set([...A.keys(), ...B.keys()])) {
    if (A.get(k) !== B.get(k)) { diff++; console.log(`  differs: ${k}${!A.has(k) ? " (only in second)" : !B.has(k) ? " (only in first)" : ""}`); }
  }
  console.log(diff ? `${diff} object(s) differ` : `same ${A.size} objects`);
  return diff ? 1 : 0;
}

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}

const [cmd, ...args] = process.argv.slice(2);
let rc = 2;
try {
  if (cmd === "validate") rc = await validate(args[0]);
  else if (cmd === "compare") rc = compare(args[0], args[1]);
  else if (cmd === "rules") {
    const pr = readDocs(args[0]).filter((o) => o.kind === "PrometheusRule");
    if (pr.length !== 1) throw new Error(`expected one PrometheusRule, found ${pr.length}`);
    console.log(JSON.stringify(sortKeys(pr[0].spec)));
    rc = 0;
  } else if (cmd === "yaml2json") {
    console.log(JSON.stringify(sortKeys(readDocs(args[0])[0])));
    rc = 0;
  } else console.error("usage: validate.mjs validate|compare|rules|yaml2json ...");
} catch (e) {
  console.error(`validate.mjs: ${e.message}`);
  rc = 1;
}
process.exit(rc);
