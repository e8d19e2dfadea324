"""The promises of the docker_host role, checked on the server the scenario deployed."""
import json
import time

from vixtest.stack import changed_count, run_playbook


def docker_info(host):
    return json.loads(host.check_output("docker info --format '{{json .}}'"))


def test_engine_runs_under_systemd_and_starts_at_boot(host):
    docker = host.service("docker")
    assert docker.is_running
    assert docker.is_enabled
    assert host.check_output("ps -o comm= -p 1") == "systemd"


def test_daemon_json_is_in_effect(host):
    info = docker_info(host)
    assert info["LoggingDriver"] == "json-file"
    assert info["LiveRestoreEnabled"] is True
    config = json.loads(host.file("/etc/docker/daemon.json").content_string)
    assert config["log-opts"] == {"max-size": "10m", "max-file": "5"}
    # a network created from the configured address pool
    pool = config["default-address-pools"][0]["base"]
    subnet = host.check_output(
        "docker network inspect vixtract --format '{{range .IPAM.Config}}{{.Subnet}}{{end}}'"
    )
    assert subnet.split(".")[:2] == pool.split(".")[:2], (subnet, pool)


def test_stack_network_exists(host):
    assert host.run("docker network inspect vixtract").rc == 0


def stack_base(host):
    """The stack base image the current images are built FROM, tagged by a digest of its inputs (the newest: a
    server that was re-applied with other inputs keeps the earlier ones)."""
    tags = host.check_output("docker images vixtract/base --format '{{.CreatedAt}}|{{.Repository}}:{{.Tag}}'")
    assert tags, "no stack base image"
    return sorted(tags.splitlines())[-1].split("|")[1]


def test_base_image_is_in_the_servers_engine(host):
    assert host.run("docker image inspect debian:trixie-slim").rc == 0
    assert stack_base(host).startswith("vixtract/base:")


def pem_blocks(text):
    return {b.strip() for b in text.split("-----END CERTIFICATE-----") if "BEGIN CERTIFICATE" in b}


def test_stack_base_image_trusts_the_extra_ca(host):
    """Image builds trust vixtract_extra_ca_certificates (here: this machine's CA bundle, with its proxy CA)."""
    extra = pem_blocks(host.file("/usr/local/share/ca-certificates/vixtract/00-ca-certificates.crt").content_string)
    assert extra
    in_image = pem_blocks(host.check_output(
        f"docker run --rm {stack_base(host)} cat /etc/ssl/certs/ca-certificates.crt"))
    assert extra <= in_image


def test_host_trusts_the_extra_ca(host):
    extra = pem_blocks(host.file("/usr/local/share/ca-certificates/vixtract/00-ca-certificates.crt").content_string)
    assert extra <= pem_blocks(host.file("/etc/ssl/certs/ca-certificates.crt").content_string)


def image_tags(host, repository):
    return set(host.check_output(f"docker image ls {repository} --format '{{{{.Tag}}}}'").split())


def test_superseded_images_are_removed_keeping_the_newest_for_a_rollback(host):
    """Two superseded nginx images (made here, the older first) and a tag given by hand: a run keeps the current
    image, the newest superseded one (vixtract_image_keep: 1) and the hand-made tag, and removes the rest; the next
    run changes nothing; vixtract_image_keep: 0 removes the kept one too."""
    current = host.check_output("docker inspect -f '{{.Config.Image}}' vixtract-nginx")
    repository, current_tag = current.rsplit(":", 1)
    older, newer = "00000000000000a1", "00000000000000a2"
    for tag in (older, newer):
        host.check_output(f"printf 'FROM {current}\\nLABEL vixtract.test={tag}\\n' | docker build -q -t "
                          f"{repository}:{tag} -")
        time.sleep(1.1)
    host.check_output(f"docker tag {current} {repository}:by-hand")
    try:
        rc, out = run_playbook(tags=["nginx"])
        assert rc == 0, out[-3000:]
        assert image_tags(host, repository) == {current_tag, newer, "by-hand"}
        rc, out = run_playbook(tags=["nginx"])
        assert rc == 0 and changed_count(out) == 0, out[-3000:]
        rc, out = run_playbook({"vixtract_image_keep": 0}, tags=["nginx"])
        assert rc == 0, out[-3000:]
        assert image_tags(host, repository) == {current_tag, "by-hand"}
        assert host.check_output("docker inspect -f '{{.Config.Image}}' vixtract-nginx") == current
    finally:
        host.run(f"docker image rm {repository}:by-hand {repository}:{older} {repository}:{newer}")
