"""SQL against the PostgreSQL container of the server."""
import shlex

CONTAINER = "vixtract-postgres"


def image(host):
    """The image the PostgreSQL container runs (tagged by a digest of its build inputs)."""
    return host.check_output(f"docker inspect -f '{{{{.Config.Image}}}}' {CONTAINER}")


def psql(host, user, password, sql, db="etl"):
    """psql on the stack network, as an app container connects (host vixtract-postgres)."""
    cmd = (f"docker run --rm --network vixtract --entrypoint psql -e PGPASSWORD={password} {image(host)} "
           f"-h {CONTAINER} -U {user} -d {db} -v ON_ERROR_STOP=1 -Atc {shlex.quote(sql)}")
    return host.run(cmd)


def superuser(host, sql, db="etl"):
    """psql through the local socket as the postgres OS user (no password: how the role gets in)."""
    return host.run(f"docker exec -u postgres {CONTAINER} psql -d {db} -v ON_ERROR_STOP=1 -Atc {shlex.quote(sql)}")


def superuser_with_password(host, password, sql, db="etl"):
    """The superuser with its password, from inside the PostgreSQL container (127.0.0.1): the only place pg_hba
    takes it; from any network it is refused."""
    cmd = (f"docker exec -e PGPASSWORD={password} {CONTAINER} psql -h 127.0.0.1 -U postgres -d {db} "
           f"-v ON_ERROR_STOP=1 -Atc {shlex.quote(sql)}")
    return host.run(cmd)
