#!/usr/bin/env python3
"""Write a realistic infra monorepo of N files with a known number of planted
synthetic credentials, for benchmarks. Seeded: the same arguments give the
same tree. usage: gen_tree.py OUT [--files N] [--planted K] [--seed S]"""
import argparse
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
import genkey  # noqa: E402

TF = '''resource "aws_s3_bucket" "b{i}" {{
  bucket = "acme-{env}-data-{i}"
  tags = {{
    Team        = "platform"
    Environment = "{env}"
  }}
}}

resource "aws_iam_role" "r{i}" {{
  name               = "svc-{i}"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}}
'''
K8S = '''apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc-{i}
  labels: {{app: svc-{i}, env: {env}}}
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: app
          image: registry.example.com/svc-{i}:1.{i}
          env:
            - name: LOG_LEVEL
              value: info
            - name: AWS_REGION
              value: eu-west-1
'''
WORKFLOW = '''on: [push]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make test-{i}
        env:
          AWS_ACCESS_KEY_ID: ${{{{ secrets.AWS_ACCESS_KEY_ID }}}}
'''
ENV = "APP_NAME=svc-{i}\nLOG_LEVEL=debug\nDATABASE_URL=postgres://db:5432/app{i}\n"
MD = "# Service {i}\n\nDeploy with `make deploy ENV={env}`. Credentials come from the role.\n\n" + "Lorem ipsum dolor sit amet. " * 20 + "\n"
PY = "import boto3\n\n\ndef handler{i}(event, context):\n    s3 = boto3.client('s3')\n    return s3.list_objects_v2(Bucket='acme-{env}-{i}')\n"
JSON = '{{"name": "svc-{i}", "version": "1.{i}.0", "dependencies": {{"left-pad": "^1.3.0"}}}}\n'
KINDS = [("tf", TF, "terraform/modules/m{d}/main{i}.tf"), ("k8s", K8S, "k8s/{env}/svc{i}.yaml"),
         ("wf", WORKFLOW, ".github/workflows/ci{i}.yml"), ("env", ENV, "services/s{d}/.env.{env}{i}"),
         ("md", MD, "docs/d{d}/page{i}.md"), ("py", PY, "src/pkg{d}/mod{i}.py"), ("json", JSON, "apps/a{d}/package{i}.json")]
PLANTS = [
    ("tf", 'provider "aws" {{\n  access_key = "{k}"\n  secret_key = "{s}"\n}}\n'),
    ("env", "AWS_ACCESS_KEY_ID={k}\nAWS_SECRET_ACCESS_KEY={s}\n"),
    ("k8s", "            - name: AWS_ACCESS_KEY_ID\n              value: {k}\n            - name: AWS_SECRET_ACCESS_KEY\n              value: {s}\n"),
    ("md", "\nOld key: `{k}` (rotated).\n"),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--files", type=int, default=50000)
    ap.add_argument("--planted", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    plant_at = set(rng.sample(range(a.files), min(a.planted, a.files)))
    planted_keys = []
    for i in range(a.files):
        env = rng.choice(["prod", "staging", "dev"])
        if i % 500 == 499:
            path = f"assets/img{i}.png"
            data = bytes(rng.getrandbits(8) for _ in range(4096))
        else:
            kind, tpl, ptpl = KINDS[i % len(KINDS)]
            path = ptpl.format(i=i, d=i % 97, env=env)
            text = tpl.format(i=i, env=env)
            if i in plant_at:
                pk, ptext = next((p for p in PLANTS if p[0] == kind), ("md", PLANTS[3][1]))
                k = genkey.key_id("AKIA", 123456789012, rng)
                s = genkey.secret(rng)
                text += ptext.format(k=k, s=s)
                planted_keys.append(k)
            data = text.encode()
        full = os.path.join(a.out, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
    with open(os.path.join(a.out, ".planted"), "w") as f:
        f.write("\n".join(planted_keys) + "\n")
    print(f"{a.files} files, {len(planted_keys)} planted keys in {a.out}")


if __name__ == "__main__":
    main()
