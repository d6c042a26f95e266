#!/usr/bin/env python3
"""Validates custom resources against the OpenAPI schemas of their CRDs, strictly.

Usage: validate_crs.py CRD_DIR [--stored-only] FILE... [--rules FILE...]

Every document of every FILE must be a custom resource whose CRD (group, version, kind) is in
CRD_DIR (.ci/crds/, see its README.md); a resource without a stored CRD is an error, not a
skip (with --stored-only, documents of other kinds are left alone: for files that mix core
objects and custom resources, such as the lint fixtures). Files after --rules are Prometheus rule files (`groups:`), checked as the `spec` of a
PrometheusRule, which is how the rendered README tells Prometheus Operator users to load them.

The CRD's `openAPIV3Schema` becomes a JSON Schema the way the API server reads it:
- an object schema with `properties` rejects any other field (what `kubectl apply
  --validate=strict` does), unless it has `additionalProperties` or
  `x-kubernetes-preserve-unknown-fields: true`;
- `x-kubernetes-int-or-string: true` takes an integer or a string;
- `nullable: true` also takes null;
- `metadata` takes the fields of an ObjectMeta a manifest may set.
CEL rules (`x-kubernetes-validations`) are not evaluated. Uses the `jsonschema` and `PyYAML`
packages (kubernetes-validate depends on both).
"""

import copy
import os
import sys

import jsonschema
import yaml

# libyaml's loader when PyYAML was built with it (the LeaderWorkerSet CRD is 1.3 MB).
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# ObjectMeta fields a manifest may write (k8s.io/apimachinery ObjectMeta; the others are set
# by the server).
OBJECT_META = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "generateName": {"type": "string"},
        "namespace": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        "finalizers": {"type": "array", "items": {"type": "string"}},
        "ownerReferences": {"type": "array"},
    },
}


def strict(schema):
    """The JSON Schema of an OpenAPI v3 structural schema, closed where Kubernetes closes it."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in ("properties", "patternProperties", "definitions"):
            out[key] = {k: strict(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties", "not"):
            out[key] = strict(value) if isinstance(value, (dict, list)) else value
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [strict(s) for s in value]
        elif key.startswith("x-kubernetes-") or key in ("nullable", "format", "default"):
            continue
        else:
            out[key] = value
    if schema.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if schema.get("nullable") and "type" in out:
        t = out["type"]
        out["type"] = (t if isinstance(t, list) else [t]) + ["null"]
    preserve = schema.get("x-kubernetes-preserve-unknown-fields") is True
    if "properties" in schema and "additionalProperties" not in schema and not preserve:
        out["additionalProperties"] = False
    return out


def load_crds(directory):
    """{(group, version, kind): JSON Schema} of every served version of every CRD in directory."""
    crds = {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".yaml"):
            continue
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            for crd in yaml.load_all(f, Loader=LOADER):
                if not crd or crd.get("kind") != "CustomResourceDefinition":
                    continue
                spec = crd["spec"]
                for v in spec["versions"]:
                    if not v.get("served", False):
                        continue
                    schema = strict(v["schema"]["openAPIV3Schema"])
                    schema.setdefault("properties", {})["metadata"] = OBJECT_META
                    schema["required"] = sorted(
                        set(schema.get("required", [])) | {"apiVersion", "kind", "metadata"})
                    crds[(spec["group"], v["name"], spec["names"]["kind"])] = schema
    return crds


def check(schema, doc, where):
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    for e in errors:
        path = ".".join(str(p) for p in e.absolute_path) or "(root)"
        print(f"{where}: {path}: {e.message}", file=sys.stderr)
    return not errors


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    crds = load_crds(argv[0])
    files, rules, into = [], [], None
    stored_only = False
    for a in argv[1:]:
        if a == "--stored-only":
            stored_only = True
        elif a == "--rules":
            into = rules
        else:
            (into if into is not None else files).append(a)
    ok = True
    checked = 0
    for path in files:
        try:
            with open(path, encoding="utf-8") as f:
                docs = [d for d in yaml.load_all(f, Loader=LOADER) if d is not None]
        except (OSError, yaml.YAMLError) as e:
            print(f"{path}: {e}", file=sys.stderr)
            ok = False
            continue
        for i, doc in enumerate(docs):
            where = f"{path} (document {i + 1})"
            group, _, version = doc.get("apiVersion", "").rpartition("/")
            key = (group, version, doc.get("kind"))
            if key not in crds and stored_only:
                continue
            if key not in crds:
                print(f"{where}: no stored CRD for {doc.get('apiVersion')} "
                      f"{doc.get('kind')} in {argv[0]}", file=sys.stderr)
                ok = False
                continue
            ok = check(crds[key], doc, where) and ok
            checked += 1
    rule_schema = crds.get(("monitoring.coreos.com", "v1", "PrometheusRule"))
    for path in rules:
        if rule_schema is None:
            print(f"{path}: no stored PrometheusRule CRD in {argv[0]}", file=sys.stderr)
            ok = False
            continue
        try:
            with open(path, encoding="utf-8") as f:
                spec = yaml.load(f, Loader=LOADER)
        except (OSError, yaml.YAMLError) as e:
            print(f"{path}: {e}", file=sys.stderr)
            ok = False
            continue
        name = os.path.basename(os.path.dirname(os.path.abspath(path))) or "rules"
        doc = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
               "metadata": {"name": name}, "spec": copy.deepcopy(spec)}
        ok = check(rule_schema, doc, f"{path} (as a PrometheusRule's spec)") and ok
        checked += 1
    if ok:
        print(f"crd check: {checked} custom resources match their CRD schemas")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
