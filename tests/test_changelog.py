"""The changelog is antsibull-changelog's: its fragments and changelogs/changelog.yaml pass its lint, and CHANGELOG.md
is what it generates from changelog.yaml (a hand edit there would be lost at the next release)."""
import subprocess

from conftest import ROOT, tool


def changelog(*args):
    return subprocess.run([tool("antsibull-changelog"), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)


def test_fragments_and_changelog_yaml_pass_lint():
    proc = changelog("lint")
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr
    proc = changelog("lint-changelog-yaml", "changelogs/changelog.yaml")
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_changelog_md_is_generated_from_changelog_yaml(tmp_path):
    proc = changelog("generate", "--output", str(tmp_path / "CHANGELOG.md"), "--output-format", "md")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "CHANGELOG.md").read_text() == (ROOT / "CHANGELOG.md").read_text(), \
        "CHANGELOG.md differs from what `antsibull-changelog generate` writes"
