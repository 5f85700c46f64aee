#!/usr/bin/env python3
"""Write a realistic infra monorepo of N files with a known number of planted
synthetic credentials, for benchmarks. Seeded: the same arguments give the
same tree.

The mix: Terraform modules and tfvars, Helm charts (values), Kubernetes
manifests (some multi-document, some Secrets), GitHub Actions workflows,
docker-compose files, `.env` files, AWS credentials (INI) files, JSON
(package manifests, CloudFormation), Markdown, source code (Python, Go, JS),
binaries (one in 500, some with a key-shaped string inside that nobody
should report), and large files (one in 1,000: Terraform state, lock files,
logs, minified JS of 0.5-4 MB; one file over the default 10 MiB
--max-file-size). About one file in eight mentions a credential keyword
without holding a credential (`secret_key = var.secret_key`), so the parse
path is exercised as in real repos.

Planted keys are listed in OUT/.planted as `kind<TAB>path<TAB>line<TAB>key_id`,
one per planted file; kinds say how the key is written (plain, base64 in a
Kubernetes Secret, temporary with a session token...), so recall can be
broken down by kind.

usage: gen_tree.py OUT [--files N] [--planted K] [--seed S]
"""
import argparse
import base64
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
import genkey  # noqa: E402

# Not one of AWS's documentation accounts: a key of those, alone in docs or a
# comment, is an example and not reported.
ACCOUNT = 730335469921

TF = '''resource "aws_s3_bucket" "b{i}_{r}" {{
  bucket = "acme-{env}-data-{i}-{r}"
  tags = {{
    Team        = "platform"
    Environment = "{env}"
  }}
}}

resource "aws_iam_role" "r{i}_{r}" {{
  name               = "svc-{i}-{r}"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}}

'''
TF_DECOY = '''provider "aws" {{
  region     = var.region
  access_key = var.access_key
  secret_key = var.secret_key
}}
'''
TFVARS = 'region = "eu-west-1"\ninstance_type = "t3.{size}"\nreplicas = {n}\nenvironment = "{env}"\n'
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
K8S_SVC = '''---
apiVersion: v1
kind: Service
metadata:
  name: svc-{i}
spec:
  selector: {{app: svc-{i}}}
  ports:
    - port: 80
      targetPort: 8080
'''
HELM = '''replicaCount: {n}
image:
  repository: registry.example.com/chart-{i}
  tag: "1.{i}.0"
resources:
  limits: {{cpu: 500m, memory: 512Mi}}
ingress:
  enabled: true
  hosts:
    - host: svc-{i}.{env}.example.com
      paths: ["/"]
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
          AWS_SECRET_ACCESS_KEY: ${{{{ secrets.AWS_SECRET_ACCESS_KEY }}}}
'''
COMPOSE = '''services:
  web{i}:
    image: nginx:1.27
    ports: ["80{n}:80"]
    environment:
      - LOG_LEVEL=info
  db{i}:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: example
'''
ENV = "APP_NAME=svc-{i}\nLOG_LEVEL=debug\nDATABASE_URL=postgres://db:5432/app{i}\n"
INI = "[default]\nregion = eu-west-1\noutput = json\n\n[profile {env}]\nrole_arn = arn:aws:iam::123456789012:role/deploy\nsource_profile = default\n"
MD = "# Service {i}\n\nDeploy with `make deploy ENV={env}`. Credentials come from the role.\n\n" + "Lorem ipsum dolor sit amet. " * 20 + "\n"
PY = "import boto3\n\n\ndef handler{i}(event, context):\n    s3 = boto3.client('s3')\n    return s3.list_objects_v2(Bucket='acme-{env}-{i}')\n"
GO = "package svc{i}\n\nimport \"fmt\"\n\nfunc Run{i}() {{\n\tfmt.Println(\"svc-{i} {env}\")\n}}\n"
JS = "const {{ S3Client }} = require('@aws-sdk/client-s3');\nmodule.exports = () => new S3Client({{ region: 'eu-west-1' }}); // {i}\n"
JSON = '{{"name": "svc-{i}", "version": "1.{i}.0", "dependencies": {{"left-pad": "^1.3.0"}}}}\n'
CFN = '{{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {{"Bucket{i}": {{"Type": "AWS::S3::Bucket", "Properties": {{"BucketName": "acme-{env}-{i}"}}}}}}}}\n'

# (kind, template, path template, repeat range): `repeat` copies of the
# template (with a running `r`) make file sizes vary the way real ones do.
KINDS = [
    ("tf", TF, "terraform/modules/m{d}/main{i}.tf", (1, 8)),
    ("tfvars", TFVARS, "terraform/envs/{env}/s{d}/app{i}.tfvars", (1, 1)),
    ("k8s", K8S, "k8s/{env}/svc{i}.yaml", (1, 1)),
    ("helm", HELM, "charts/c{d}/values-{env}{i}.yaml", (1, 1)),
    ("wf", WORKFLOW, ".github/workflows/ci{i}.yml", (1, 1)),
    ("compose", COMPOSE, "services/s{d}/docker-compose.{env}{i}.yml", (1, 1)),
    ("env", ENV, "services/s{d}/.env.{env}{i}", (1, 1)),
    ("ini", INI, "home/u{d}/.aws/config{i}", (1, 1)),
    ("md", MD, "docs/d{d}/page{i}.md", (1, 6)),
    ("py", PY, "src/pkg{d}/mod{i}.py", (1, 10)),
    ("go", GO, "cmd/c{d}/svc{i}.go", (1, 10)),
    ("js", JS, "web/w{d}/index{i}.js", (1, 10)),
    ("json", JSON, "apps/a{d}/package{i}.json", (1, 1)),
    ("cfn", CFN, "cloudformation/{env}/stack{i}.json", (1, 1)),
]

# How a key is planted in a file of each kind: (plant kind, text appended,
# line offset of the key ID within the appended text).
PLANTS = {
    "tf": [("tf-provider", 'provider "aws" {{\n  alias      = "p{i}"\n  access_key = "{k}"\n  secret_key = "{s}"\n}}\n', 2)],
    "tfvars": [("tfvars", 'aws_access_key = "{k}"\naws_secret_key = "{s}"\n', 0)],
    "k8s": [
        ("k8s-env", "            - name: AWS_ACCESS_KEY_ID\n              value: {k}\n            - name: AWS_SECRET_ACCESS_KEY\n              value: {s}\n", 1),
        ("k8s-secret-base64", "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: aws-{i}\ndata:\n  AWS_ACCESS_KEY_ID: {k64}\n  AWS_SECRET_ACCESS_KEY: {s64}\n", 6),
    ],
    "helm": [("helm-values", "aws:\n  accessKeyId: {k}\n  secretAccessKey: {s}\n", 1)],
    "wf": [("workflow-env", "      - run: aws s3 ls\n        env:\n          AWS_ACCESS_KEY_ID: {k}\n          AWS_SECRET_ACCESS_KEY: {s}\n", 2)],
    "compose": [("compose-env", "  worker{i}:\n    image: worker:1\n    environment:\n      AWS_ACCESS_KEY_ID: {k}\n      AWS_SECRET_ACCESS_KEY: {s}\n", 3)],
    "env": [
        ("dotenv", "AWS_ACCESS_KEY_ID={k}\nAWS_SECRET_ACCESS_KEY={s}\n", 0),
        ("dotenv-temporary", "AWS_ACCESS_KEY_ID={t}\nAWS_SECRET_ACCESS_KEY={s}\nAWS_SESSION_TOKEN={tok}\n", 0),
    ],
    "ini": [("aws-credentials", "\n[profile leaked{i}]\naws_access_key_id = {k}\naws_secret_access_key = {s}\n", 2)],
    "md": [("markdown", "\nOld key: `{k}` (rotated).\n", 1)],
    "py": [("python", "\nAWS_KEY = '{k}'\nAWS_SECRET = '{s}'\n", 1)],
    "go": [("go", "\nconst awsKey = \"{k}\"\n", 1)],
    "js": [("js", "\nconst creds = {{ accessKeyId: '{k}', secretAccessKey: '{s}' }};\n", 1)],
    "json": [("json", '{{"aws": {{"access_key_id": "{k}", "secret_access_key": "{s}"}}}}\n', 0)],
    "cfn": [("cfn-json", '{{"Parameters": {{"AccessKey": {{"Type": "String", "Default": "{k}"}}}}}}\n', 0)],
}
DECOYS = {
    "tf": TF_DECOY,
    "k8s": "            - name: AWS_SECRET_ACCESS_KEY\n              valueFrom: {{secretKeyRef: {{name: aws, key: secret_key}}}}\n",
    "py": "\nsecret_key = os.environ['AWS_SECRET_ACCESS_KEY']\n",
    "md": "\nThe example key `AKIAIOSFODNN7EXAMPLE` from the AWS docs is not a leak.\n",
}


def session_token(rng):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+"
    return "IQoJb3JpZ2luX2Vj" + "".join(rng.choice(alphabet) for _ in range(300))


def large_file(rng, i, env):
    """A 0.5-4 MB file of one of the kinds that really are big in repos."""
    kind = rng.choice(["tfstate", "lock", "log", "minjs"])
    target = rng.randint(512 * 1024, 4 * 1024 * 1024)
    if kind == "tfstate":
        unit = ('    {{"mode": "managed", "type": "aws_s3_bucket", "name": "b{n}", '
                '"instances": [{{"attributes": {{"bucket": "acme-{env}-{n}", "arn": '
                '"arn:aws:s3:::acme-{env}-{n}"}}}}]}},\n')
        body = "".join(unit.format(n=n, env=env) for n in range(target // len(unit)))
        return f"state/{env}/s{i}/terraform.tfstate", '{"version": 4, "resources": [\n' + body + '    {}\n]}\n'
    if kind == "lock":
        unit = '"node_modules/pkg-{n}": {{"version": "1.{n}.0", "resolved": "https://registry.example.com/pkg-{n}-1.{n}.0.tgz", "integrity": "sha512-{h}"}},\n'
        h = base64.b64encode(rng.randbytes(48)).decode()
        body = "".join(unit.format(n=n, h=h) for n in range(target // len(unit)))
        return f"apps/a{i % 97}/package-lock{i}.json", '{"packages": {\n' + body + '"": {}}}\n'
    if kind == "log":
        unit = "2026-11-28T12:00:{s:02d}Z INFO request id={n} path=/api/v1/items status=200 ms={ms}\n"
        body = "".join(unit.format(s=n % 60, n=n, ms=n % 997) for n in range(target // len(unit)))
        return f"logs/{env}/app{i}.log", body
    unit = "function f{n}(a,b){{return a+b*{n}}};"
    body = "".join(unit.format(n=n) for n in range(target // len(unit)))
    return f"web/dist/bundle{i}.min.js", body + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--files", type=int, default=50000)
    ap.add_argument("--planted", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    oversized_at = a.files // 2 + 3 if a.files >= 2000 else -1
    special = lambda i: i % 500 == 499 or i % 1000 == 250 or i == oversized_at  # noqa: E731
    candidates = [i for i in range(a.files) if not special(i)]
    plant_at = set(rng.sample(candidates, min(a.planted, len(candidates))))
    planted = []
    total = 0
    for i in range(a.files):
        env = rng.choice(["prod", "staging", "dev"])
        if i == oversized_at:
            # Over the default --max-file-size: skipped with a note.
            path = "data/dump/export.csv"
            row = "id,name,region,created\n" + "".join(f"{n},item-{n},eu-west-1,2026-01-01\n" for n in range(1000))
            data = (row * (11 * 1024 * 1024 // len(row) + 1)).encode()
        elif i % 500 == 499:
            path = f"assets/a{i % 97}/img{i}.png"
            data = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + rng.randbytes(4096)
            if i % 1000 == 999:
                # Binary with a key-shaped string: skipped as binary by
                # keyward and git; rg skips it too by default.
                data += genkey.key_id("AKIA", ACCOUNT, rng).encode()
        elif i % 1000 == 250:
            path, text = large_file(rng, i, env)
            data = text.encode()
        else:
            kind, tpl, ptpl, (lo, hi) = KINDS[i % len(KINDS)]
            path = ptpl.format(i=i, d=i % 97, env=env)
            n = rng.randint(1, 9)
            size = rng.choice(["micro", "small", "medium"])
            text = "".join(tpl.format(i=i, env=env, r=r, n=n, size=size) for r in range(rng.randint(lo, hi)))
            if i in plant_at:
                if kind in ("json", "cfn"):
                    # Kept valid JSON: the plant is the whole document.
                    text = ""

                pkind, ptext, line_off = rng.choice(PLANTS[kind])
                k = genkey.key_id("AKIA", ACCOUNT, rng)
                t = genkey.key_id("ASIA", ACCOUNT, rng)
                s = genkey.secret(rng)
                key = t if pkind == "dotenv-temporary" else k
                fields = dict(i=i, k=k, t=t, s=s, tok=session_token(rng),
                              k64=base64.b64encode(k.encode()).decode(),
                              s64=base64.b64encode(s.encode()).decode())
                line = text.count("\n") + 1 + line_off
                text += ptext.format(**fields)
                planted.append((pkind, path, line, key))
            elif kind in DECOYS and rng.random() < 0.35:
                text += DECOYS[kind].format(i=i)
            if kind == "k8s" and rng.random() < 0.3:
                text += K8S_SVC.format(i=i)
            data = text.encode()
        full = os.path.join(a.out, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
        total += len(data)
    with open(os.path.join(a.out, ".planted"), "w") as f:
        for p in planted:
            f.write("\t".join(map(str, p)) + "\n")
    # .planted holds the answers; no tool should read it.
    with open(os.path.join(a.out, ".ignore"), "w") as f:
        f.write(".planted\n.ignore\n")
    print(f"{a.files} files ({total / 1e6:.0f} MB), {len(planted)} planted keys in {a.out}")


if __name__ == "__main__":
    main()
