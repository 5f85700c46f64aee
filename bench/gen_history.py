#!/usr/bin/env python3
"""Write a `git fast-import` stream of a repo with N small commits over a
few hundred infra files, with K synthetic keys planted along the way (some
later removed, some left in place). Seeded: the same arguments give the same
history. The planted key IDs go to PLANTED (one per line) for recall.
usage: gen_history.py PLANTED [--commits N] [--files F] [--planted K] [--seed S] > stream"""
import argparse
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
import genkey  # noqa: E402

TF = '''resource "aws_s3_bucket" "b{i}" {{
  bucket = "acme-{env}-data-{i}-v{v}"
  tags = {{
    Team        = "platform"
    Environment = "{env}"
  }}
}}
'''
K8S = '''apiVersion: v1
kind: ConfigMap
metadata:
  name: svc-{i}
data:
  LOG_LEVEL: info
  REVISION: "{v}"
'''
ENV = "APP_NAME=svc-{i}\nREGION=eu-west-1\nREVISION={v}\n"
KINDS = [("tf", TF, "terraform/{env}/s{i}.tf"), ("yaml", K8S, "k8s/{env}/svc-{i}.yaml"),
         ("env", ENV, "apps/svc-{i}/{env}.env")]
ENVS = ["prod", "staging", "dev"]


def body(kind, i, v, env, key):
    text = kind[1].format(i=i, v=v, env=env)
    if key:
        kid, sec = key
        if kind[0] == "tf":
            text += f'\nprovider "aws" {{\n  access_key = "{kid}"\n  secret_key = "{sec}"\n}}\n'
        elif kind[0] == "yaml":
            text += f"  AWS_ACCESS_KEY_ID: {kid}\n  AWS_SECRET_ACCESS_KEY: {sec}\n"
        else:
            text += f"AWS_ACCESS_KEY_ID={kid}\nAWS_SECRET_ACCESS_KEY={sec}\n"
    return text.encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("planted")
    ap.add_argument("--commits", type=int, default=5000)
    ap.add_argument("--files", type=int, default=300)
    ap.add_argument("--planted-keys", dest="keys", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    files = []
    for i in range(a.files):
        kind = KINDS[i % len(KINDS)]
        env = ENVS[i % len(ENVS)]
        files.append([kind, i, env, kind[2].format(i=i, env=env), 0, None])
    plant_at = set(rng.sample(range(1, a.commits), a.keys))
    planted = []
    out = sys.stdout.buffer
    t = 1_700_000_000
    for c in range(a.commits):
        touched = rng.sample(range(len(files)), 1 if c else len(files))
        key = None
        if c in plant_at:
            kid = genkey.key_id("AKIA", 123456789012, rng)
            key = (kid, genkey.secret(rng))
            planted.append(kid)
        out.write(b"commit refs/heads/main\n")
        who = f"Dev {c % 7} <dev{c % 7}@example.com> {t + c * 60} +0000\n".encode()
        out.write(b"author " + who + b"committer " + who)
        msg = f"change {c}\n".encode()
        out.write(b"data %d\n%s" % (len(msg), msg))
        for j, n in enumerate(touched):
            f = files[n]
            f[4] += 1
            if key and j == 0:
                f[5] = key
            elif f[5] and rng.random() < 0.3:
                f[5] = None  # the key is removed from the file again
            data = body(f[0], f[1], f[4], f[2], f[5])
            out.write(b"M 100644 inline " + f[3].encode() + b"\n")
            out.write(b"data %d\n" % len(data) + data + b"\n")
    with open(a.planted, "w") as p:
        p.write("\n".join(planted) + "\n")


if __name__ == "__main__":
    main()
