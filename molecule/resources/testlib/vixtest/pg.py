"""SQL against the PostgreSQL container of the server."""
import json

CONTAINER = "vixtract-postgres"


def image(host):
    """The image the PostgreSQL container runs (tagged by a digest of its build inputs)."""
    return host.check_output(f"docker inspect -f '{{{{.Config.Image}}}}' {CONTAINER}")


def psql(host, user, password, sql, db="etl"):
    """psql on the stack network, as an app container connects (host vixtract-postgres)."""
    cmd = (f"docker run --rm --network vixtract --entrypoint psql -e PGPASSWORD={password} {image(host)} "
           f"-h {CONTAINER} -U {user} -d {db} -v ON_ERROR_STOP=1 -Atc {json.dumps(sql)}")
    return host.run(cmd)


def superuser(host, sql, db="etl"):
    """psql through the local socket as the postgres OS user (no password: how the role gets in)."""
    return host.run(f"docker exec -u postgres {CONTAINER} psql -d {db} -v ON_ERROR_STOP=1 -Atc {json.dumps(sql)}")
