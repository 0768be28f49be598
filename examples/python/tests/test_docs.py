"""docs/clients.md shows the example's code: every Python block of its
"Python example client" section must be copied verbatim from the example file,
so the tested code and the documented code cannot drift apart."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "python" / "jimbot_client_example.py"
TS_EXAMPLE = ROOT / "examples" / "ts" / "src" / "subscribe.ts"
DOC = ROOT / "docs" / "clients.md"


def section(heading: str) -> str:
    doc = DOC.read_text()
    start = doc.index(f"## {heading}\n")
    end = doc.find("\n## ", start + 1)
    return doc[start : end if end != -1 else len(doc)]


def example_section() -> str:
    return section("Python example client")


def test_every_python_block_of_the_doc_section_is_in_the_example():
    source = EXAMPLE.read_text()
    blocks = re.findall(r"^```python\n(.*?)^```$", example_section(), re.S | re.M)
    # The section shows the session filter, events, commands and both lease paths.
    assert len(blocks) == 8
    for block in blocks:
        assert block.strip("\n") in source, f"not in {EXAMPLE.name}:\n{block}"


def test_the_doc_shows_every_public_function_of_the_example():
    section = example_section()
    public = re.findall(r"^(?:async )?def ([a-z]\w*)\(", EXAMPLE.read_text(), re.M)
    missing = [name for name in public if f"def {name}(" not in section and name != "main"]
    assert missing == []


def test_every_typescript_block_of_the_doc_is_in_the_typescript_example():
    source = TS_EXAMPLE.read_text()
    blocks = re.findall(r"^```ts\n(.*?)^```$", section("TypeScript"), re.S | re.M)
    # The imports and the subscription loop.
    assert len(blocks) == 2
    for block in blocks:
        assert block.strip("\n") in source, f"not in {TS_EXAMPLE.name}:\n{block}"
