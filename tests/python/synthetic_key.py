"""Synthetic AWS access key IDs that decode to a chosen account (DESIGN.md).

Usage: python3 synthetic_key.py ACCOUNT [COUNT] [SEED]
Fixture keys are generated with this, never copied from anywhere.
"""
import base64
import random
import sys

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def key_id(account: int, rng: random.Random, prefix: str = "AKIA") -> str:
    head = base64.b32encode(((account // 2) + 549755813888).to_bytes(5, "big")).decode()
    c = rng.choice(ALPHABET[:16] if account % 2 == 0 else ALPHABET[16:])
    return prefix + head + c + "".join(rng.choice(ALPHABET) for _ in range(7))


def secret(rng: random.Random) -> str:
    chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    return "".join(rng.choice(chars) for _ in range(40))


if __name__ == "__main__":
    account = int(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 4)
    for _ in range(count):
        print(key_id(account, rng), secret(rng))
