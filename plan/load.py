"""Read a catalog file and validate it, with errors naming the place in the file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from plan.schema import Plan


class CatalogError(ValueError):
    """A catalog that cannot be used; ``problems`` lists every (path, message)."""

    def __init__(self, file: Path | str, problems: list[tuple[str, str]]):
        self.file = str(file)
        self.problems = problems
        lines = "\n".join(f"  {where}: {msg}" for where, msg in problems)
        super().__init__(f"{self.file}: {len(problems)} problem(s) in the plan catalog\n{lines}")


def readable_location(doc: Any, loc: tuple[int | str, ...], labels: tuple[str, ...] = ("key", "number", "name")) -> str:
    """Render a pydantic location as a readable path, naming list items by the first of ``labels``."""
    parts: list[str] = []
    node = doc
    for p in loc:
        if isinstance(p, int) and isinstance(node, list) and p < len(node):
            node = node[p]
            label = None
            if isinstance(node, dict):
                label = next((node[k] for k in labels if node.get(k) is not None), None)
            parts.append(f"[{p}]" + (f"({label})" if label is not None else ""))
        else:
            parts.append(("." if parts else "") + str(p))
            node = node.get(p) if isinstance(node, dict) else None
    return "".join(parts) or "(top)"


def parse_plan(text: str, source: Path | str = "<catalog>") -> Plan:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(parse)"
        raise CatalogError(source, [(where, f"not valid YAML: {getattr(exc, 'problem', exc)}")]) from None
    if not isinstance(doc, dict):
        raise CatalogError(source, [("(top)", "the catalog must be a YAML mapping")])
    try:
        return Plan.model_validate(doc)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and x.startswith("function-")))
            msg = err["msg"].removeprefix("Value error, ")
            got = err.get("input")
            if isinstance(got, str | int | float | bool) and err["type"] not in ("value_error", "extra_forbidden"):
                msg = f"{msg} (got {got!r})"
            problems.append((readable_location(doc, loc), msg))
        raise CatalogError(source, problems) from None


def load_plan_file(path: Path | str) -> tuple[Plan, str]:
    """Parse and validate a catalog file; return the plan and the hash of its canonical content."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError(p, [("(file)", f"not UTF-8 at byte {exc.start}")]) from None
    except OSError as exc:
        raise CatalogError(p, [("(file)", exc.strerror or str(exc))]) from None
    plan = parse_plan(text, p)
    return plan, plan_hash(plan)


def plan_hash(plan: Plan) -> str:
    canonical = json.dumps(plan.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def resolve(plan_file: Path | str, relative: str) -> Path:
    return (Path(plan_file).parent / relative).resolve()
