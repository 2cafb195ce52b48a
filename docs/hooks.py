"""MkDocs hook: each study page (docs/studies/STUDY.md) shows its figure, results/STUDY.png, which is served from
results/ as it is (one copy of each figure in the repository, where `rnn-reproduce` writes it)."""
from pathlib import Path

from mkdocs.structure.files import File


def on_files(files, config):
    results = Path(config["config_file_path"]).parent / "results"
    for png in sorted(results.glob("*.png")):
        files.append(File.generated(config, f"studies/{png.name}", abs_src_path=str(png)))
    return files
