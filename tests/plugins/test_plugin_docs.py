"""docs/plugins.md documents every hook with the exact signature of its hookspec."""

import inspect
from typing import Any, Mapping  # noqa: F401  (named by the string annotations below)
import re
from pathlib import Path

from harness import hookspecs

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def signature_text(function) -> str:
    """``def name(param: Annotation, ...) -> Return`` as written in hookspecs.py (annotations are strings)."""
    signature = inspect.signature(function)
    params = ", ".join(f"{p.name}: {_text(p.annotation)}" for p in signature.parameters.values())
    return f"def {function.__name__}({params}) -> {_text(signature.return_annotation)}"


def _text(annotation) -> str:
    return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)


def documented() -> dict[str, str]:
    reference = DOCS.read_text().split("## Hook reference", 1)[1]
    return {m.group(1): m.group(0) for m in re.finditer(r"^def (harness_\w+)\(.*$", reference, re.M)}


def hooks() -> dict[str, object]:
    return {name: getattr(hookspecs, name) for name in dir(hookspecs) if name.startswith("harness_")}


def test_every_hook_is_documented_with_its_exact_signature():
    docs = documented()
    undocumented = sorted(set(hooks()) - set(docs))
    assert not undocumented, f"docs/plugins.md does not document: {undocumented}"
    wrong = {name: (docs[name], signature_text(fn)) for name, fn in hooks().items() if docs[name] != signature_text(fn)}
    assert not wrong, f"documented signature differs from the hookspec: {wrong}"


def test_docs_name_no_hook_that_does_not_exist():
    assert sorted(set(documented()) - set(hooks())) == []


def test_signature_text_catches_a_changed_signature():
    def harness_after_run(config: "Any", metrics: "Mapping[str, float]") -> "None":
        pass

    assert signature_text(harness_after_run) != documented()["harness_after_run"]
