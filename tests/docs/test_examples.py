"""The docs' code examples run: every ```python block of the pages listed here is executed, each on its own, and
must finish without an error (the examples assert what they show, e.g. that the fused kernel and the textbook
equation agree)."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["docs/textbook.md"]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def blocks():
    for page in PAGES:
        text = (ROOT / page).read_text()
        for i, m in enumerate(BLOCK.finditer(text)):
            heading = [h for h in re.findall(r"^## (.+)$", text[: m.start()], re.M)][-1:] or ["top"]
            yield pytest.param(m.group(1), id=f"{Path(page).stem}-{i}-{heading[0][:30]}")


def test_pages_have_examples():
    assert sum(1 for _ in blocks()) >= 9  # one per idea of the textbook page at least


@pytest.mark.parametrize("code", list(blocks()))
def test_example_runs(code, capsys):
    exec(compile(code, "<docs example>", "exec"), {"__name__": "__docs_example__"})
    assert capsys.readouterr().out.strip(), "an example shows its result"
