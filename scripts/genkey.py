#!/usr/bin/env python3
"""Generate synthetic AWS-shaped credentials for fixtures.

Key IDs follow AWS's new format, so the account decodes offline:
prefix + base32(((account // 2) + 2**39).to_bytes(5, "big")) + c + 7 random
base32 characters, with c in A-P for an even account and Q-Z, 2-7 for an odd
one. Secrets are 40 random characters of [A-Za-z0-9/+]. Nothing here is, or
was ever, a real credential.

usage: genkey.py [--prefix AKIA] [--account 123456789012] [--count N] [--seed S] [--secret]
"""
import argparse
import base64
import random
import string

B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
SECRET_ALPHABET = string.ascii_letters + string.digits + "/+"


def key_id(prefix: str, account: int, rng: random.Random) -> str:
    head = base64.b32encode(((account // 2) + 549755813888).to_bytes(5, "big")).decode()
    c = rng.choice(B32[:16] if account % 2 == 0 else B32[16:])
    return prefix + head + c + "".join(rng.choice(B32) for _ in range(7))


def decode_account(kid: str) -> str:
    raw = base64.b32decode(kid[4:])
    z = int.from_bytes(raw[:6], "big")
    return "%012d" % ((z & 0x7FFFFFFFFF80) >> 7)


def secret(rng: random.Random) -> str:
    while True:
        s = "".join(rng.choice(SECRET_ALPHABET) for _ in range(40))
        if any(ch.isupper() for ch in s) and any(ch.islower() for ch in s) and any(ch.isdigit() for ch in s):
            return s


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prefix", default="AKIA")
    ap.add_argument("--account", type=int, default=123456789012)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--secret", action="store_true", help="also print a secret per key")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    for _ in range(a.count):
        k = key_id(a.prefix, a.account, rng)
        assert decode_account(k) == "%012d" % a.account, k
        print(k, secret(rng) if a.secret else "")


if __name__ == "__main__":
    main()
