"""Write MyClothes' secret settings for systemd: runs as root before every start of the service.

Non-secret inputs come from /etc/myclothes/sources.env (written by the instance's user data);
passwords come from Secrets Manager at start time, so they never sit in the launch template;
zone and instance name come from the instance metadata service (IMDSv2).
Output: /run/myclothes/secrets.env (tmpfs, mode 0600), read by systemd's EnvironmentFile=.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.parse
import urllib.request

SOURCES_FILE = "/etc/myclothes/sources.env"
OUTPUT_DIR = "/run/myclothes"
METADATA = "http://169.254.169.254/latest"


def read_sources() -> dict[str, str]:
    with open(SOURCES_FILE, encoding="utf-8") as handle:
        pairs = (line.split("=", 1) for line in handle.read().splitlines() if "=" in line)
        return {key: value for key, value in pairs}


def secret_string(region: str, secret_id: str) -> str:
    command = [
        "aws",
        "secretsmanager",
        "get-secret-value",
        "--region",
        region,
        "--secret-id",
        secret_id,
        "--query",
        "SecretString",
        "--output",
        "text",
    ]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


def instance_metadata(path: str) -> str:
    token_request = urllib.request.Request(
        f"{METADATA}/api/token", method="PUT", headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"}
    )
    with urllib.request.urlopen(token_request, timeout=2) as response:
        token = response.read().decode()
    request = urllib.request.Request(f"{METADATA}/meta-data/{path}", headers={"X-aws-ec2-metadata-token": token})
    with urllib.request.urlopen(request, timeout=2) as response:
        return response.read().decode()


def settings_from(sources: dict[str, str]) -> dict[str, str]:
    region = sources["AWS_REGION"]
    database = json.loads(secret_string(region, sources["DATABASE_SECRET_ARN"]))
    login = f"{urllib.parse.quote(database['username'], safe='')}:{urllib.parse.quote(database['password'], safe='')}"

    def postgres_url(host: str) -> str:
        return f"postgresql+asyncpg://{login}@{host}:{sources['DATABASE_PORT']}/{sources['DATABASE_NAME']}"

    replica_hosts = [host for host in sources.get("DATABASE_REPLICA_HOSTS", "").split(",") if host]
    settings = {
        "MYCLOTHES_DATABASE_URL": postgres_url(sources["DATABASE_HOST"]),
        "MYCLOTHES_DATABASE_REPLICA_URLS": ",".join(postgres_url(host) for host in replica_hosts),
        "MYCLOTHES_SECRET_KEYS": secret_string(region, sources["SECRET_KEYS_SECRET_ARN"]),
        "MYCLOTHES_ZONE": instance_metadata("placement/availability-zone"),
        "MYCLOTHES_INSTANCE": instance_metadata("instance-id"),
    }
    if sources.get("REDIS_HOST"):
        token = urllib.parse.quote(secret_string(region, sources["REDIS_TOKEN_SECRET_ARN"]), safe="")
        settings["MYCLOTHES_REDIS_URL"] = f"rediss://:{token}@{sources['REDIS_HOST']}:{sources['REDIS_PORT']}/0"
    return settings


def main() -> None:
    settings = settings_from(read_sources())
    os.makedirs(OUTPUT_DIR, mode=0o700, exist_ok=True)
    partial = os.path.join(OUTPUT_DIR, "secrets.env.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write("".join(f"{name}={value}\n" for name, value in settings.items()))
    os.replace(partial, os.path.join(OUTPUT_DIR, "secrets.env"))


if __name__ == "__main__":
    main()
