"""The docs site builds with MkDocs in strict mode: any warning (a broken link or anchor, a page missing from the
nav, a nav entry without a page) fails the build, and so this test."""
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def build(root, site):
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                          cwd=root, capture_output=True, text=True, timeout=300)


def test_site_builds_strict(tmp_path):
    r = build(ROOT, tmp_path / "site")
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / "site/textbook/index.html").is_file()
    assert (tmp_path / "site/studies/vanishing.png").is_file()   # the hook serves results/STUDY.png
    assert not (tmp_path / "site/_src").exists()


def test_a_broken_link_fails_the_build(tmp_path):
    for rel in ("docs", "results"):
        shutil.copytree(ROOT / rel, tmp_path / rel, ignore=shutil.ignore_patterns("runs"))
    shutil.copy(ROOT / "mkdocs.yml", tmp_path)
    with open(tmp_path / "docs/sweeps.md", "a") as f:
        f.write("\nSee [the missing page](nowhere.md) and [a missing anchor](textbook.md#no-such-heading).\n")
    r = build(tmp_path, tmp_path / "site")
    assert r.returncode != 0
    assert "nowhere.md" in r.stderr and "no-such-heading" in r.stderr
