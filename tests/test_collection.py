"""The collection builds, installs elsewhere and its site playbook resolves by its collection name."""
import os
import subprocess
import tarfile

from conftest import ROOT, tool


def test_build_install_and_syntax_check_elsewhere(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    built = subprocess.run([tool("ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path), str(ROOT)],
                           capture_output=True, text=True, env=env, cwd=tmp_path, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    [tarball] = tmp_path.glob("vixtract-stack-*.tar.gz")
    names = tarfile.open(tarball).getnames()
    assert "roles/docker_host/tasks/main.yml" in names
    assert "playbooks/site.yml" in names
    # nor the test logs and screenshots (artifacts/, written while this runs beside a scenario), nor tool caches
    assert not [n for n in names if n.split("/")[0] in {".collections", "molecule", "tests", ".venv", "artifacts",
                                                        ".ansible", ".pytest_cache", ".cache", "scripts", ".ci"}]
    assert not [n for n in names if "credentials" in n.split("/")]

    collections = tmp_path / "collections"
    installed = subprocess.run([tool("ansible-galaxy"), "collection", "install", "--offline", "--no-deps", "-p",
                                str(collections), str(tarball)], capture_output=True, text=True, env=env, cwd=tmp_path,
                               check=False)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    # the community collections come from the ansible package, as on any controller
    env["ANSIBLE_COLLECTIONS_PATH"] = str(collections)
    proc = subprocess.run([tool("ansible-playbook"), "vixtract.stack.site", "--syntax-check", "-i",
                           str(ROOT / "inventories/example")], capture_output=True, text=True, env=env,
                          cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"playbook: {collections}/ansible_collections/vixtract/stack/playbooks/site.yml" in proc.stdout
