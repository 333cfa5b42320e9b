"""Values for the analysed program's own functions, classes, instances and modules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass(eq=False)
class FunctionVal:
    node: Any  # cst.FunctionDef or cst.Lambda
    file: Any
    globals: dict
    defaults: dict
    self_obj: Any = None
    closure: Optional[dict] = None
    owner: Any = None  # ClassVal for methods

    @property
    def name(self) -> str:
        return getattr(getattr(self.node, "name", None), "value", "<lambda>")

    def bind(self, obj) -> "FunctionVal":
        return FunctionVal(self.node, self.file, self.globals, self.defaults, obj, self.closure, self.owner)


@dataclass(eq=False)
class ClassVal:
    node: Any
    file: Any
    name: str
    bases: list
    attrs: dict = field(default_factory=dict)

    def lookup(self, name: str, seen=None):
        if name in self.attrs:
            return self.attrs[name]
        seen = seen or set()
        for base in self.bases:
            if isinstance(base, ClassVal) and id(base) not in seen:
                seen.add(id(base))
                found = base.lookup(name, seen)
                if found is not None:
                    return found
        return None

    def api_bases(self) -> set[str]:
        from portlint.analysis.values import ApiRef

        out = set()
        for base in self.bases:
            if isinstance(base, ApiRef):
                out.add(base.qname)
            elif isinstance(base, ClassVal):
                out |= base.api_bases()
        return out


@dataclass(eq=False)
class Instance:
    cls: ClassVal
    attrs: dict = field(default_factory=dict)


@dataclass(eq=False)
class LocalModule:
    file: Any
    env: dict
