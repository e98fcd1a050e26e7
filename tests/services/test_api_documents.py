"""The committed OpenAPI and AsyncAPI documents in docs/api are what the apps generate."""

from scripts.export_api_docs import DOCS, documents


def test_committed_api_documents_match_the_apps() -> None:
    stale = [
        name
        for name, content in documents().items()
        if not (DOCS / name).exists() or (DOCS / name).read_text() != content
    ]
    assert not stale, f"run `make docs`: {stale} differ from what the apps generate"
