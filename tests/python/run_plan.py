"""Carries out `keyward plan --format json` with boto3, step by step, as a
script that trusts the plan would: the test of the plan's JSON contract.

Usage: python3 run_plan.py PLAN.json
The endpoint and credentials come from the environment (AWS_ENDPOINT_URL,
AWS_ACCESS_KEY_ID, ...). `update-references` is the repository's side
(`keyward fix`) and is only printed. A failing step stops the run (exit 1).
"""
import json
import sys

import boto3


def main(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        plan = json.load(f)
    iam = boto3.client("iam")
    sm = boto3.client("secretsmanager")
    made = {}
    for user_plan in plan["users"]:
        for step in user_plan["steps"]:
            action, user, key = step["action"], step["user"], step.get("key")
            store = (step.get("store") or "").split(":", 1)[-1]
            try:
                if action == "delete":
                    iam.delete_access_key(UserName=user, AccessKeyId=key)
                elif action == "deactivate":
                    iam.update_access_key(UserName=user, AccessKeyId=key, Status="Inactive")
                elif action == "create-key":
                    k = iam.create_access_key(UserName=user)["AccessKey"]
                    made[user] = (k["AccessKeyId"], k["SecretAccessKey"])
                elif action == "store-secret":
                    key_id, secret = made[user]
                    sm.create_secret(
                        Name=store,
                        SecretString=json.dumps(
                            {"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret}
                        ),
                    )
                elif action == "verify":
                    pair = json.loads(sm.get_secret_value(SecretId=store)["SecretString"])
                    sts = boto3.client(
                        "sts",
                        aws_access_key_id=pair["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=pair["AWS_SECRET_ACCESS_KEY"],
                    )
                    sts.get_caller_identity()
                elif action == "wait-unused":
                    iam.get_access_key_last_used(AccessKeyId=key)
                elif action != "update-references":
                    print(f"unknown action {action}", file=sys.stderr)
                    return 1
            except Exception as e:  # the step's own words, then stop
                print(f"FAILED {action} {user} {key or ''}: {e}", file=sys.stderr)
                return 1
            print(action, user, key or "")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
