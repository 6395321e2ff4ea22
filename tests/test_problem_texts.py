"""Every problem the code raises says what went wrong in English and Traditional Chinese.

A problem built from a bare string (``NotFound(f"no engagement {id}")``) would answer a Chinese reader in English,
and such strings are where ids and keys slipped into the texts; so the sources are read, and every problem, every
record rule's refusal and every field error is found built from a ``LocalizedText``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import okr_rollout
from okr_rollout import errors
from okr_rollout.texts import LocalizedText, listed

SOURCES = Path(okr_rollout.__file__).parent
PROBLEMS = {name for name, value in vars(errors).items()
            if isinstance(value, type) and issubclass(value, errors.ProblemError)} | {"SecretShownOnce", "KeyTaken"}
# Helpers that build a problem, and the position of the text they take.
TEXT_ARGUMENT = {**dict.fromkeys(PROBLEMS, 0), "invalid": 1, "_invalid": 1, "field_error": 1}


def _bare_strings() -> list[str]:
    found = []
    for path in sorted(SOURCES.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            position = TEXT_ARGUMENT.get(name or "")
            if position is None or len(node.args) <= position:
                continue
            text = node.args[position]
            if isinstance(text, ast.Constant | ast.JoinedStr | ast.BinOp) or (
                    isinstance(text, ast.Call) and getattr(text.func, "id", None) == "str"):
                found.append(f"{path.relative_to(SOURCES)}:{node.lineno} {name}(...) is given a bare string")
    return found


def test_every_problem_is_built_from_a_bilingual_text() -> None:
    assert _bare_strings() == []


def test_a_problem_is_written_in_the_language_asked_for() -> None:
    problem = errors.Unprocessable(
        LocalizedText("Invalid input: body.name", "輸入無效:body.name"),
        errors=[errors.field_error("body.name", LocalizedText("required", "必填"), "missing")],
        extra={"readiness": {"criteria": [{"reason": LocalizedText("No coach.", "沒有教練。")}]}},
    )
    assert problem.body("/x", locale="zh-TW") == {
        "type": "/problems/validation-error", "title": "無法處理的內容", "status": 422, "detail": "輸入無效:body.name",
        "instance": "/x", "errors": [{"field": "body.name", "message": "必填", "type": "missing"}],
        "readiness": {"criteria": [{"reason": "沒有教練。"}]},
    }
    assert problem.body()["detail"] == problem.detail == "Invalid input: body.name"
    assert errors.not_found(LocalizedText("quarter", "季度")).text("zh-TW") == "找不到此季度,或您沒有檢視權限。"


def test_a_list_of_names_reads_as_a_sentence_in_each_language() -> None:
    names = [LocalizedText(n, n) for n in ("Ada", "Ben", "Chen", "Dai", "Eve", "Fay", "Gus")]
    assert listed(names[:1]).en == "Ada"
    assert (listed(names[:3]).en, listed(names[:3]).zh_tw) == ("Ada, Ben and Chen", "Ada、Ben、Chen")
    assert (listed(names).en, listed(names).zh_tw) == ("Ada, Ben, Chen, Dai, Eve and 2 more",
                                                       "Ada、Ben、Chen、Dai、Eve 等 7 項")


def test_every_kind_of_problem_has_a_title_in_both_languages() -> None:
    import okr_rollout.app  # noqa: F401  (every module that defines a problem is loaded)

    def kinds(cls: type[errors.ProblemError]) -> list[type[errors.ProblemError]]:
        return [cls] + [k for sub in cls.__subclasses__() for k in kinds(sub)]

    untitled = [k.__name__ for k in kinds(errors.ProblemError) if not isinstance(k.title, LocalizedText)]
    assert len(kinds(errors.ProblemError)) > 10 and untitled == []
