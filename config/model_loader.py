"""Load scoring-model YAML files into compiled `ScoringModel`s, reporting every problem located."""

from __future__ import annotations

import dataclasses
from io import StringIO
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from config.errors import Problem, ProblemsError
from config.model_conditions import MAX_NESTING
from config.model_parse import ModelParser
from config.yaml_depth import MAX_DEPTH, refuse_too_deep
from config.yamlpos import Ctx, Node
from scoring.model import ScoringModel, compile_model


def load_model(path: str | Path, *, scored_only: bool = False) -> ScoringModel:
    """Read and compile the model file at `path`; `ProblemsError` lists every problem found.

    With `scored_only` (what `validate` asks), a model for a kind no CRM connection scores yet
    is a problem too, located at its `object` (`config.kinds`: the configuration's answer).
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProblemsError([Problem(source, None, None, "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ProblemsError([Problem(source, None, None, "", f"cannot read: {reason}")]) from None
    return dataclasses.replace(parse_model(text, source, scored_only=scored_only), source=source)


def parse_model(text: str, source: str = "<model>", *, scored_only: bool = False) -> ScoringModel:
    """Compile a model from YAML text; `source` names the file in problem messages."""
    tree = load_yaml(text, source)
    ctx = Ctx(source)
    spec = ModelParser(ctx, scored_only=scored_only).parse(Node(tree, "", 1, 1))
    if ctx.problems or spec is None:
        problems = ctx.problems or [Problem(source, None, None, "", "invalid model")]
        raise ProblemsError(sorted(problems, key=lambda p: (p.line or 0, p.column or 0)))
    return compile_model(spec)


def load_yaml(text: str, source: str) -> object:
    """The round-trip YAML tree of `text` (positions kept); `ProblemsError` when unreadable."""
    yaml = YAML(typ="rt")
    try:
        refuse_too_deep(
            text,
            source,
            f"YAML nested more than {MAX_DEPTH} levels deep (conditions nest at most "
            f"{MAX_NESTING} all/any/not): flatten it",
        )
        tree = yaml.load(StringIO(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(str(m) for m in (exc.context, exc.problem) if m)
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        raise ProblemsError(
            [Problem(source, line, column, "", f"YAML syntax error: {message or exc}")]
        ) from None
    except YAMLError as exc:
        raise ProblemsError([Problem(source, None, None, "", f"YAML error: {exc}")]) from None
    if tree is None:
        raise ProblemsError(
            [Problem(source, 1, 1, "", "the file is empty; a model needs name, object and rules")]
        )
    return tree
