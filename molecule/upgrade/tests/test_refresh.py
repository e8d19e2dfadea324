"""A refresh brings the updates a re-apply does not (playbooks/refresh.yml, docs/operations.md "Refresh").

A test apt repository on the server stands for Debian's mirror publishing a fix: the base image is made to hold its
package `vixtract-probe` 1.0 (the scenario's base image, plus that repository and the package), and site.yml
rebuilds every image from it. Version 2.0 is published: a re-apply builds nothing and changes nothing;
refresh.yml rebuilds every image, each container runs 2.0, the containers were replaced in order, the data and
people's work are there and usable, the older tags are pruned down to the kept one, and the next re-apply changes
nothing. The refresh and the re-applies build on the server (no image cache): the refresh must really run apt,
nothing may be loaded. The images with 1.0 are the same on every run (the base image with 1.0 is kept as an
archive, so its ID and every digest after it stay the same): they come from an image cache of their own,
VIXTRACT_TEST_PROBE_CACHE, which a machine's first run fills (like the previous release's, see molecule.yml).
This module runs first (conftest.py's order) and changes nothing the others check; at its end the scenario's own
base image is back under its name and the server has no refresh stamp."""
import json
import os
import shlex
import time
from pathlib import Path

import pytest

from vixtest.cronicle import schedule
from vixtest.health import server_line
from vixtest.hub import can_log_in, session
from vixtest.pg import psql
from vixtest.stack import changed_count, credential, outer_docker, server_container, stack_vars

VARS = stack_vars()
BASE = VARS.get("vixtract_base_image", "debian:trixie-slim")
# in the order site.yml replaces them
CONTAINERS = {"vixtract-postgres": "vixtract/postgres", "vixtract-jupyterhub": "vixtract/jupyterhub",
              "vixtract-cronicle": "vixtract/cronicle", "vixtract-nginx": "vixtract/nginx"}
REPOSITORIES = ["vixtract/base", *CONTAINERS.values()]
PACKAGE = "vixtract-probe"
REPO_DIR = "/srv/vixtract-probe-repo"
REPO_UNIT = "vixtract-probe-repo"
PORT = 8765
# build on the server: a refresh that loaded images from a cache would not show that apt ran
NO_CACHE = {"vixtract_image_cache_dir": ""}
# the images with 1.0: built on a machine's first run, loaded on the next ones
PROBE_CACHE = Path(os.environ.get("VIXTRACT_TEST_PROBE_CACHE", "/var/cache/vixtract/refresh-probe-images"))
ANALYST = "anna.k"

PUBLISH = r"""set -eu
cd {repo}
rm -f ./*.deb
d=$(mktemp -d)
mkdir -p "$d/DEBIAN" "$d/usr/share/{package}"
printf 'Package: {package}\nVersion: {version}\nArchitecture: all\n' > "$d/DEBIAN/control"
printf 'Maintainer: vixtract tests <tests@vixtract.invalid>\nDescription: stands for a package update in the refresh test\n' \
  >> "$d/DEBIAN/control"
echo {version} > "$d/usr/share/{package}/version"
dpkg-deb --root-owner-group --build "$d" {package}_{version}_all.deb >/dev/null
rm -rf "$d"
for f in ./*.deb; do
  dpkg-deb -f "$f"; echo "Filename: $f"; echo "Size: $(stat -c %s "$f")"
  echo "SHA256: $(sha256sum "$f" | cut -d' ' -f1)"; echo
done > Packages
printf 'Origin: vixtract-test\nLabel: vixtract-test\nDate: %s\nSHA256:\n %s %s Packages\n' \
  "$(date -Ru)" "$(sha256sum Packages | cut -d' ' -f1)" "$(stat -c %s Packages)" > Release
"""


def sh(host, script):
    result = host.run(f"bash -c {shlex.quote(script)}")
    assert result.rc == 0, f"{script[:200]}\nrc={result.rc}\n{result.stdout}\n{result.stderr}"
    return result.stdout.strip()


class ProbeRepository:
    def __init__(self, host):
        self.host = host

    def publish(self, version):
        sh(self.host, PUBLISH.format(repo=REPO_DIR, package=PACKAGE, version=version))


@pytest.fixture(scope="module")
def probe_repo(host):
    """The test repository served on the server's address on its engine's bridge (where builds run), with 1.0
    published, and the scenario's base image replaced by one that holds it. Undone at the end."""
    gateway = sh(host, "docker network inspect bridge -f '{{(index .IPAM.Config 0).Gateway}}'")
    original = sh(host, f"docker image inspect -f '{{{{.Id}}}}' {BASE}")
    sh(host, f"mkdir -p {REPO_DIR} /tmp/probe-base")
    repo = ProbeRepository(host)
    repo.publish("1.0")
    sh(host, f"systemd-run --unit {REPO_UNIT} python3 -m http.server {PORT} --bind {gateway} --directory {REPO_DIR}")
    sh(host, f"for i in $(seq 30); do python3 -c \"import urllib.request; urllib.request.urlopen("
             f"'http://{gateway}:{PORT}/Packages')\" 2>/dev/null && exit 0; sleep 1; done; exit 1")
    dockerfile = (f"FROM {BASE}\n"
                  f"RUN echo 'deb [trusted=yes] http://{gateway}:{PORT}/ ./' > /etc/apt/sources.list.d/probe.list"
                  f" && apt-get update && apt-get install -y --no-install-recommends {PACKAGE}"
                  " && rm -rf /var/lib/apt/lists/*\n")
    # kept as an archive named by what it is made of, so that the images built from it keep their digests
    archive = PROBE_CACHE / f"probe-base-{original.split(':')[-1][:16]}-{gateway}.tar"
    PROBE_CACHE.mkdir(parents=True, exist_ok=True)
    for stale in PROBE_CACHE.glob("probe-base-*.tar"):
        if stale != archive:
            stale.unlink()
    if archive.exists():
        outer_docker("cp", str(archive), f"{server_container(host)}:/tmp/probe-base/image.tar")
        sh(host, "docker load -q -i /tmp/probe-base/image.tar && rm /tmp/probe-base/image.tar")
    else:
        sh(host, f"printf %s {shlex.quote(dockerfile)} > /tmp/probe-base/Dockerfile"
                 " && docker build -q -t vixtract-test/probe-base /tmp/probe-base"
                 " && docker save -o /tmp/probe-base/image.tar vixtract-test/probe-base")
        outer_docker("cp", f"{server_container(host)}:/tmp/probe-base/image.tar", f"{archive}.part", timeout=600)
        os.replace(f"{archive}.part", archive)
    sh(host, f"docker tag vixtract-test/probe-base {BASE}")
    yield repo
    # the scenario as it was: its own base image and no refresh stamp (the next run builds the images it had)
    host.run(f"docker tag {original} {BASE}; docker rmi vixtract-test/probe-base; systemctl stop {REPO_UNIT};"
             f" rm -rf {REPO_DIR} /tmp/probe-base /opt/vixtract/image-refresh")


def versions(host):
    """The probe package's version in each component's container."""
    return {name: host.check_output(f"docker exec {name} dpkg-query -W -f '${{Version}}' {PACKAGE}")
            for name in CONTAINERS}


def inspect(host, name, fmt):
    return host.check_output(f"docker inspect -f {shlex.quote(fmt)} {name}")


def digest_tags(host, repository):
    return {tag for tag in host.check_output(f"docker image ls --format '{{{{.Tag}}}}' {repository}").split()
            if len(tag) == 16}


def running_refs(host):
    return {name: inspect(host, name, "{{.Config.Image}}") for name in CONTAINERS}


def test_a_refresh_brings_a_package_update_that_a_re_apply_does_not(host, converge, probe_repo):
    before = {repository: digest_tags(host, repository) for repository in REPOSITORIES}
    events = {title: event["id"] for title, event in schedule(host).items()}
    rows = "SELECT count(*) FROM upgrade_sales"
    rows_before = psql(host, "bi_reader", credential("postgres/bi_reader"), rows).stdout.strip()

    # the base image changed (it holds 1.0 now): every image is replaced by one built from it
    rc, out = converge({"vixtract_image_cache_dir": str(PROBE_CACHE)})
    assert rc == 0, out[-3000:]
    assert set(versions(host).values()) == {"1.0"}
    with_one = running_refs(host)
    assert not {ref.split(":")[1] for ref in with_one.values()} & set().union(*before.values()), with_one
    base_with_one = digest_tags(host, "vixtract/base") - set().union(*before.values())
    # archives of images no longer made (the stack's inputs changed since) go
    keep = {f"{ref.replace('/', '_').replace(':', '-')}.tar" for ref in with_one.values()}
    keep |= {f"vixtract_base-{tag}.tar" for tag in base_with_one}
    for old in PROBE_CACHE.glob("vixtract_*.tar"):
        if old.name not in keep:
            old.unlink()

    # 2.0 is published: a re-apply neither builds nor replaces anything
    probe_repo.publish("2.0")
    rc, out = converge(NO_CACHE)
    assert rc == 0 and changed_count(out) == 0, out[-3000:]
    assert set(versions(host).values()) == {"1.0"}
    assert running_refs(host) == with_one
    assert digest_tags(host, "vixtract/base") - set().union(*before.values()) == base_with_one

    # a preview names the new stamp in the base image's Dockerfile and changes nothing
    kept = host.run("cat /opt/vixtract/image-refresh").stdout
    rc, out = converge(dict(NO_CACHE, vixtract_image_refresh_stamp="preview-1"), playbook="playbooks/refresh.yml",
                       check=True, diff=True)
    assert rc == 0, out[-3000:]
    assert "+RUN echo preview-1 > /etc/vixtract-image-refresh" in out, out[-3000:]
    assert running_refs(host) == with_one and set(versions(host).values()) == {"1.0"}
    assert host.run("cat /opt/vixtract/image-refresh").stdout == kept

    started = time.time()
    rc, out = converge(NO_CACHE, playbook="playbooks/refresh.yml")
    assert rc == 0, out[-3000:]
    assert versions(host) == {name: "2.0" for name in CONTAINERS}, out[-3000:]
    refreshed = running_refs(host)
    assert all(refreshed[name] != with_one[name] for name in CONTAINERS), (with_one, refreshed)

    # replaced one at a time in site.yml's order, each healthy or answering before the next started
    starts = [inspect(host, name, "{{.State.StartedAt}}") for name in CONTAINERS]
    assert starts == sorted(starts), dict(zip(CONTAINERS, starts))
    epoch = [float(host.check_output(f"date -d {shlex.quote(s)} +%s.%N")) for s in starts]
    assert min(epoch) > started - 5, dict(zip(CONTAINERS, starts))
    assert inspect(host, "vixtract-postgres", "{{.State.Health.Status}}") == "healthy"
    assert inspect(host, "vixtract-jupyterhub", "{{.State.Health.Status}}") == "healthy"

    # the stamp the images carry is the one the server keeps for the next runs
    stamp = host.file("/opt/vixtract/image-refresh").content_string.strip()
    refreshed_base = digest_tags(host, "vixtract/base") - base_with_one - before["vixtract/base"]
    assert len(refreshed_base) == 1, (refreshed_base, base_with_one)
    labels = json.loads(host.check_output(
        f"docker image inspect -f '{{{{json .Config.Labels}}}}' vixtract/base:{refreshed_base.pop()}"))
    assert labels.get("org.vixtract.image-refresh") == stamp and len(stamp) >= 20, (stamp, labels)

    # health.yml tells when the images were refreshed last
    rc, out = converge(playbook="playbooks/health.yml")
    assert server_line(out, "vixtract-upgrade", "images refreshed: ") == stamp, out[-3000:]

    # the tags before the test are pruned; the one with 1.0 is kept for a rollback (vixtract_image_keep: 1)
    for name, repository in CONTAINERS.items():
        tags = digest_tags(host, repository)
        assert tags == {refreshed[name].split(":")[1], with_one[name].split(":")[1]}, (repository, tags)
    assert len(digest_tags(host, "vixtract/base")) == 2 and base_with_one <= digest_tags(host, "vixtract/base")

    # the data and people's work are there and usable
    assert psql(host, "bi_reader", credential("postgres/bi_reader"), rows).stdout.strip() == rows_before
    assert {title: event["id"] for title, event in schedule(host).items()} == events
    assert can_log_in(host, ANALYST, credential(f"users/{ANALYST}"))
    ran = session(host, "run", ANALYST, credential(f"users/{ANALYST}"),
                  "import petl, psycopg, upgrade_helper; print(upgrade_helper.GREETING)")
    assert ran["ok"] and ran["error"] is None and ran["stdout"].strip() == "with the shared library", ran

    # between refreshes a re-apply changes nothing
    rc, out = converge(NO_CACHE)
    assert rc == 0 and changed_count(out) == 0, out[-3000:]
