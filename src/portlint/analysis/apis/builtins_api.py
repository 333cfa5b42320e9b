"""Python builtins, containers, str, argparse and eval, evaluated only on known values."""

from __future__ import annotations

import math
from typing import Optional

from portlint.analysis.apis.argv_parse import OptionSpec, parse_words
from portlint.analysis.apis.common import Ctx, handles
from portlint.analysis.bounds import str_call_fits
from portlint.analysis.events import ArgparseDefault, CommandLineValue, ListOf, OutputsView
from portlint.analysis.image import Img
from portlint.analysis.values import UNKNOWN, ApiObject, ApiRef, Namespace, Seq, Sym, numeric_op

B = "builtins."


def _known(*vals) -> bool:
    return all(v is not UNKNOWN and not isinstance(v, (Sym, Seq, Img, ApiObject)) for v in vals)


@handles(B + "len")
def _len(ctx: Ctx):
    v = ctx.arg(0)
    if isinstance(v, (list, tuple, str, dict)):
        return len(v)
    return UNKNOWN


@handles(B + "range")
def _range(ctx: Ctx):
    args = ctx.args
    if all(isinstance(a, int) and not isinstance(a, bool) for a in args) and args:
        r = range(*args)
        return list(r) if len(r) <= 4096 else Seq(UNKNOWN)
    return Seq(UNKNOWN)


@handles(B + "zip")
def _zip(ctx: Ctx):
    star = ctx.kwargs.get("__star_seq__")
    if star is not None and len(ctx.args) == 1:
        # `im, label, path, shapes = zip(*batch)` in a collate_fn: the columns of a list of samples
        if isinstance(star.elem, (tuple, list)):
            return tuple(Seq(x) for x in star.elem)
        return UNKNOWN
    if ctx.args and all(isinstance(a, (list, tuple)) for a in ctx.args):
        return list(zip(*ctx.args))
    return Seq(tuple(ctx.interp.element_of(a, ctx.site) for a in ctx.args))


@handles(B + "enumerate")
def _enumerate(ctx: Ctx):
    v = ctx.arg(0)
    if isinstance(v, (list, tuple)):
        return list(enumerate(v))
    if isinstance(v, Seq):
        return Seq((UNKNOWN, v.elem))
    return Seq((UNKNOWN, ctx.interp.element_of(v, ctx.site)))


def _num_fn(op):
    def fn(ctx: Ctx):
        v = ctx.arg(0)
        if op == "round" and len(ctx.args) > 1:
            return numeric_op("round", v, ctx.args[1])
        if isinstance(v, str) and op in ("int", "float"):
            try:
                return int(v) if op == "int" else float(v)
            except ValueError:
                return UNKNOWN
        if isinstance(v, (int, float, Sym)) and not isinstance(v, bool):
            return numeric_op(op, v)
        if isinstance(v, bool) and op == "int":
            return int(v)
        return UNKNOWN
    return fn


for _op in ("int", "float", "round", "abs"):
    handles(B + _op)(_num_fn(_op))


@handles(B + "min", B + "max")
def _minmax(ctx: Ctx):
    vals = list(ctx.args)
    if len(vals) == 1 and isinstance(vals[0], (list, tuple)):
        vals = list(vals[0])
    if vals and all(isinstance(v, (int, float, Sym)) and not isinstance(v, bool) for v in vals):
        op = ctx.qname.rsplit(".", 1)[-1]
        if all(isinstance(v, (int, float)) for v in vals):
            return min(vals) if op == "min" else max(vals)
        return Sym(op, tuple(vals))
    return UNKNOWN


@handles(B + "sum")
def _sum(ctx: Ctx):
    v = ctx.arg(0)
    if isinstance(v, (list, tuple)) and all(isinstance(x, (int, float)) for x in v):
        return sum(v)
    return UNKNOWN


@handles(B + "list", B + "tuple", B + "sorted", B + "reversed", B + "set")
def _seq(ctx: Ctx):
    v = ctx.arg(0, None, [])
    kind = ctx.qname.rsplit(".", 1)[-1]
    if isinstance(v, (list, tuple, str)):
        if kind == "sorted":
            try:
                return sorted(v)
            except TypeError:
                return UNKNOWN
        if kind == "reversed":
            return list(reversed(v))
        return list(v) if kind == "list" else (tuple(v) if kind == "tuple" else UNKNOWN)
    if isinstance(v, dict):
        return list(v.keys()) if kind == "list" else (tuple(v.keys()) if kind == "tuple" else UNKNOWN)
    if isinstance(v, Seq):
        if kind in ("list", "tuple"):
            ctx.interp.record(ListOf(v, ctx.site))
        return Seq(v.elem, kind=v.kind)
    if isinstance(v, Img) and kind in ("list", "tuple") and (v.state.layout or "").startswith("N"):
        return Seq(ctx.interp.element_of(v, ctx.site), kind="list")  # list(frames): the batch's images
    return UNKNOWN


@handles(B + "dict")
def _dict(ctx: Ctx):
    v = ctx.arg(0, None, None)
    if v is None:
        return dict({k: val for k, val in ctx.kwargs.items() if not k.startswith("__")})
    if isinstance(v, dict):
        return dict(v)
    return UNKNOWN


@handles(B + "str", B + "repr", B + "format")
def _str(ctx: Ctx):
    from portlint.analysis.apis.config_api import PathValue

    v = ctx.arg(0, None, "")
    if isinstance(v, PathValue) and ctx.qname == B + "str":
        return v.text
    return str(v) if isinstance(v, (int, float, str, bool)) else UNKNOWN


@handles(B + "bool")
def _bool(ctx: Ctx):
    v = ctx.arg(0)
    t = ctx.interp.truth(v)
    return UNKNOWN if t is None else t


@handles(B + "print", B + "exit", B + "quit")
def _none(ctx: Ctx):
    return None


@handles("copy.deepcopy", "copy.copy")
def _copy(ctx: Ctx):
    """A copy holds the same values: an image stays the image (lists and dicts are copied)."""
    v = ctx.arg(0, "x")
    if isinstance(v, list):
        return list(v)
    if isinstance(v, dict):
        return dict(v)
    return v


@handles(B + "next")
def _next(ctx: Ctx):
    """`next(it)` / `next(iter(loader))`: one element of the iterator."""
    from portlint.analysis.protocols import next_of

    return next_of(ctx.interp, ctx.arg(0), ctx.site) if ctx.args else UNKNOWN


@handles(B + "iter")
def _iter(ctx: Ctx):
    from portlint.analysis.protocols import iter_of

    return iter_of(ctx.interp, ctx.arg(0), ctx.site) if ctx.args else UNKNOWN


@handles(B + "super")
def _super(ctx: Ctx):
    """`super()` in a method, or `super(Cls, self)`: the bases of the method's class."""
    from portlint.analysis.objects import ClassVal
    from portlint.analysis.protocols import SuperRef

    if len(ctx.args) == 2 and isinstance(ctx.args[0], ClassVal):
        return SuperRef(ctx.args[0], ctx.args[1])
    func = getattr(ctx.frame, "func", None)
    if func is not None and func.owner is not None and func.self_obj is not None:
        return SuperRef(func.owner, func.self_obj)
    return UNKNOWN


@handles(B + "hasattr", B + "callable", B + "type", B + "id", B + "hash",
         B + "open", B + "input", B + "any", B + "all", B + "map", B + "filter",
         B + "globals", B + "locals", B + "object", B + "Exception", B + "ValueError", B + "RuntimeError")
def _unknown(ctx: Ctx):
    if ctx.qname == B + "open":
        return ApiObject("open")
    return UNKNOWN


@handles(B + "getattr")
def _getattr(ctx: Ctx):
    obj, name = ctx.arg(0), ctx.arg(1)
    if isinstance(name, str):
        value = ctx.interp.getattr(obj, name, ctx.site)
        if value is UNKNOWN and len(ctx.args) > 2:
            return ctx.args[2]
        return value
    return UNKNOWN


_PY_TYPES = {B + "int": int, B + "float": float, B + "str": str, B + "bool": bool, B + "list": list,
             B + "tuple": tuple, B + "dict": dict}


@handles(B + "isinstance")
def _isinstance(ctx: Ctx):
    """On a known Python value: `isinstance(new_shape, int)` in letterbox helpers picks one branch."""
    from portlint.analysis.objects import ClassVal, Instance

    v, t = ctx.arg(0), ctx.arg(1)
    types = t if isinstance(t, tuple) else (t,)
    program = [x for x in types if isinstance(x, ClassVal)]
    types = tuple(x for x in types if isinstance(x, ApiRef))
    if not (program or types) or len(program) + len(types) != len(t if isinstance(t, tuple) else (t,)):
        return UNKNOWN
    if isinstance(v, Instance):  # the program's own object: its classes, then its library bases
        if any(_subclass_of(v.cls, c) for c in program):
            return True
        if types and {x.qname for x in types} & v.cls.api_bases():
            return True
        if types and all(x.qname in _PY_TYPES for x in types) and _plain_class(v.cls):
            return False  # a class of the program's own with no library base is no dict or list
        return False if not types else UNKNOWN
    if program and _library_types(v) is None and not _is_python_value(v):
        return UNKNOWN  # an unknown value may be an object of that class
    if not types:  # an image, a path or a literal is no object of the program's classes
        return False
    library = _library_types(v)
    if library is not None:  # an image, a path: `isinstance(im, torch.Tensor)` in a preprocess
        names = {x.qname for x in types}
        if names & library:
            return True
        return False if names <= _KNOWN_TYPES else UNKNOWN
    if not (v is None or isinstance(v, (bool, int, float, str, tuple, list, dict))):
        return UNKNOWN
    return any(isinstance(v, _PY_TYPES[x.qname]) for x in types if x.qname in _PY_TYPES)


def _plain_class(cls, depth: int = 0) -> bool:
    """The class and all its bases are the program's own (or `object`): the mmseg `Compose`
    test `isinstance(transform, dict)` on a `LoadImage()` instance is False."""
    from portlint.analysis.objects import ClassVal

    return depth < 16 and all(
        (isinstance(b, ClassVal) and _plain_class(b, depth + 1)) or (isinstance(b, ApiRef) and b.qname == B + "object")
        for b in cls.bases)


def _subclass_of(cls, target, depth: int = 0) -> bool:
    from portlint.analysis.objects import ClassVal

    if cls is target:
        return True
    return depth < 16 and any(isinstance(b, ClassVal) and _subclass_of(b, target, depth + 1) for b in cls.bases)


def _is_python_value(v) -> bool:
    return v is None or isinstance(v, (bool, int, float, str, tuple, list, dict))


_IMAGE_TYPES = {"ndarray": {"numpy.ndarray"}, "tensor": {"torch.Tensor"}, "pil": {"PIL.Image.Image"},
                "bmimage": {"sophon.sail.BMImage"}}
_PATH_TYPES = {"pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "pathlib.PurePosixPath", "os.PathLike"}
# types whose instances the analyser always recognises, so "not one of them" is known
_KNOWN_TYPES = set(_PY_TYPES) | _PATH_TYPES | {"numpy.ndarray", "torch.Tensor", "PIL.Image.Image", "sophon.sail.BMImage"}


def _library_types(v):
    from portlint.analysis.apis.config_api import AttrDict, PathValue
    from portlint.analysis.image import Img

    if isinstance(v, Img):
        return _IMAGE_TYPES.get(v.state.kind)
    if isinstance(v, PathValue):
        return _PATH_TYPES
    if isinstance(v, AttrDict):
        return {B + "dict"}
    if isinstance(v, Sym) and _int_valued(v):
        return {B + "int"}  # `isinstance(int(s), torch.Tensor)`, `isinstance(check_img_size(...), int)`
    return None


# Syms whose value is a Python int whatever their variables are: int(), math.ceil/floor (numpy's
# ceil gives no Sym), round() with one argument; and integer arithmetic over such values
_INT_RESULT = ("int", "ceil", "floor")
_INT_PRESERVING = ("add", "sub", "mul", "floordiv", "mod", "max", "min", "neg", "abs")


def _int_valued(v, depth: int = 0) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return True
    if not isinstance(v, Sym) or depth > 32:
        return False
    if v.op in _INT_RESULT or (v.op == "round" and len(v.args) == 1):
        return True
    return v.op in _INT_PRESERVING and all(_int_valued(a, depth + 1) for a in v.args)


@handles(B + "vars")
def _vars(ctx: Ctx):
    """`run(**vars(opt))` (the yolov5 scripts) passes the argparse values as keywords; on the
    program's own objects (a Config class) it is their live attribute dictionary."""
    from portlint.analysis.objects import Instance

    v = ctx.arg(0)
    if isinstance(v, Namespace):
        return dict(v.attrs)
    if isinstance(v, Instance):
        return v.attrs
    return UNKNOWN


@handles(B + "setattr", B + "object.__setattr__")
def _setattr(ctx: Ctx):
    """`setattr(obj, key, value)` / `self.__setattr__(key, val)` with a known name."""
    obj, name, value = ctx.arg(0), ctx.arg(1), ctx.arg(2)
    if isinstance(name, str) and not ctx.kwargs.get("__splat__"):
        ctx.interp.set_attribute(obj, name, value)
    return None


@handles(B + "eval")
def _eval(ctx: Ctx):
    """Never executes: resolves the sophon-demo idiom eval('sail.BMImageArray{}D'.format(n)) and known texts (eval_api)."""
    node = ctx.node
    import libcst as cst
    if node is not None and node.args:
        expr = node.args[0].value
        if type(expr) is cst.Call and type(expr.func) is cst.Attribute and expr.func.attr.value == "format":
            template = expr.func.value
            if type(template) is cst.SimpleString and "BMImageArray" in template.evaluated_value:
                return ApiRef("sophon.sail.BMImageArray")
    text = ctx.arg(0)
    if isinstance(text, str) and len(ctx.args) == 1 and not ctx.kwargs:
        from portlint.analysis.apis.eval_api import eval_text

        return eval_text(text, ctx.frame)  # a literal's value, a certain raise, or UNKNOWN
    return UNKNOWN


# ----------------------------------------------------------------- containers
@handles("list.append")
def _append(ctx: Ctx):
    lst, value = ctx.args[0], ctx.arg(1)
    if len(lst) < 10_000:
        lst.append(value)
    return None


@handles("list.extend")
def _extend(ctx: Ctx):
    lst, value = ctx.args[0], ctx.arg(1)
    if isinstance(value, (list, tuple)):
        lst.extend(value)
    else:
        lst.append(value.elem if isinstance(value, Seq) else UNKNOWN)
    return None


@handles("list.insert")
def _insert(ctx: Ctx):
    lst = ctx.args[0]
    lst.append(ctx.arg(2))
    return None


@handles("list.pop")
def _pop(ctx: Ctx):
    lst = ctx.args[0]
    return lst.pop() if lst and len(ctx.args) == 1 else UNKNOWN


@handles("list.copy", "dict.copy")
def _copy(ctx: Ctx):
    return ctx.args[0].copy()


@handles("list.index", "list.count", "tuple.index", "tuple.count", "list.sort", "list.reverse", "list.clear")
def _list_misc(ctx: Ctx):
    return UNKNOWN


@handles("seq.append")
def _seq_append(ctx: Ctx):
    return None


@handles("dict.values", "dict.keys", "dict.items")
def _dict_views(ctx: Ctx):
    d = ctx.args[0]
    kind = ctx.qname.rsplit(".", 1)[-1]
    return list(d.values()) if kind == "values" else (list(d.keys()) if kind == "keys" else list(d.items()))


@handles("dict.get")
def _dict_get(ctx: Ctx):
    d, key = ctx.args[0], ctx.arg(1)
    try:
        if key in d:
            return d[key]
    except TypeError:
        return UNKNOWN
    return ctx.arg(2, None, None) if _known(key) else UNKNOWN


@handles("dict.update", "dict.setdefault", "dict.pop")
def _dict_update(ctx: Ctx):
    d = ctx.args[0]
    if ctx.qname.endswith("update"):
        if isinstance(ctx.arg(1), dict):
            d.update(ctx.arg(1))
        return None
    key = ctx.arg(1)
    if ctx.kwargs or not _known(key) or not _hashable(key):
        return UNKNOWN
    if ctx.qname.endswith("pop"):  # `task = overrides.pop("task", None)` (ultralytics' entrypoint)
        if key in d:
            return d.pop(key)
        return ctx.args[2] if len(ctx.args) > 2 else UNKNOWN  # no default: KeyError, not followed
    if key not in d:  # setdefault
        d[key] = ctx.args[2] if len(ctx.args) > 2 else None
    return d[key]


def _hashable(value) -> bool:
    try:
        hash(value)
        return True
    except TypeError:
        return False


@handles("str.format", "str.join", "str.split", "str.strip", "str.lower", "str.upper", "str.replace", "str.rstrip",
         "str.lstrip", "str.startswith", "str.endswith", "str.encode")
def _str_method(ctx: Ctx):
    s = ctx.args[0]
    name = ctx.qname.rsplit(".", 1)[-1]
    args = ctx.args[1:]
    if name == "format" or not all(isinstance(a, str) for a in args) or not str_call_fits(name, s, args):
        return UNKNOWN
    try:
        return getattr(s, name)(*args)
    except Exception:
        return UNKNOWN


# ----------------------------------------------------------------- argparse
@handles("argparse.ArgumentParser")
def _parser(ctx: Ctx):
    return ApiObject("argparse.ArgumentParser", attrs={"__defaults__": {}}, site=ctx.site)


@handles("argparse.ArgumentParser.add_argument", "argparse.ArgumentParser.add_argument_group.add_argument")
def _add_argument(ctx: Ctx):
    parser = ctx.args[0]
    names = [a for a in ctx.args[1:] if isinstance(a, str)]
    dest = ctx.kwargs.get("dest")
    if not isinstance(dest, str):
        longs = [n for n in names if n.startswith("--")]
        pick = longs[0] if longs else (names[0] if names else None)
        if pick is None:
            return None
        dest = pick.lstrip("-").replace("-", "_")
    action = ctx.kwargs.get("action")
    if "default" in ctx.kwargs:
        default = ctx.kwargs["default"]
    elif action == "store_true":
        default = False
    elif action == "store_false":
        default = True
    else:
        default = None
    typ = ctx.kwargs.get("type")
    if isinstance(default, str) and isinstance(typ, ApiRef) and typ.qname in ("builtins.int", "builtins.float"):
        try:
            default = int(default) if typ.qname.endswith("int") else float(default)
        except ValueError:
            default = UNKNOWN
    parser.attrs["__defaults__"][dest] = default
    parser.attrs.setdefault("__options__", []).append(OptionSpec(
        tuple(names) or (dest,), dest, action, ctx.kwargs.get("nargs"), typ, ctx.kwargs.get("const")))
    ctx.interp.record(ArgparseDefault(dest, default, ctx.site))
    return None


@handles("argparse.ArgumentParser.add_argument_group", "argparse.ArgumentParser.add_mutually_exclusive_group")
def _group(ctx: Ctx):
    return ctx.args[0]


@handles("argparse.ArgumentParser.set_defaults")
def _set_defaults(ctx: Ctx):
    ctx.args[0].attrs["__defaults__"].update({k: v for k, v in ctx.kwargs.items() if not k.startswith("__")})
    return None


def _command_line(ctx: Ctx) -> Optional[tuple[dict, list]]:
    """The parser's values for the words it is given (`parse_args(['--a', '1'])`) or, in a program
    the user said how to run, for its sys.argv[1:]; None: the defaults (the command is unknown)."""
    words = ctx.arg(1, "args", None)
    if not (isinstance(words, (list, tuple)) and all(isinstance(w, str) for w in words)):
        argv = ctx.interp.argv
        if words is not None or argv is None:
            return None
        words = argv[1:]
    parser = ctx.args[0]
    given: set = set()
    values, rest = parse_words(parser.attrs.get("__options__", []), parser.attrs["__defaults__"], list(words), given)
    for dest in sorted(given):
        ctx.interp.record(CommandLineValue(dest, values.get(dest), ctx.site))
    return values, rest


@handles("argparse.ArgumentParser.parse_args")
def _parse_args(ctx: Ctx):
    parsed = _command_line(ctx)
    return Namespace(dict(ctx.args[0].attrs["__defaults__"]) if parsed is None else parsed[0])


@handles("argparse.ArgumentParser.parse_known_args")
def _parse_known(ctx: Ctx):
    parsed = _command_line(ctx)
    if parsed is None:
        return (Namespace(dict(ctx.args[0].attrs["__defaults__"])), [])
    return (Namespace(parsed[0]), parsed[1])


@handles("argparse.Namespace")
def _namespace(ctx: Ctx):
    return Namespace({k: v for k, v in ctx.kwargs.items() if not k.startswith("__")})


@handles("math.ceil", "math.floor")
def _math(ctx: Ctx):
    v = ctx.arg(0)
    op = ctx.qname.rsplit(".", 1)[-1]
    if isinstance(v, (int, float)):
        return getattr(math, op)(v)
    if isinstance(v, Sym):
        return Sym(op, (v,))
    return UNKNOWN


@handles("portlint.ModelOutputs.values", "portlint.ModelOutputs.keys", "portlint.ModelOutputs.items")
def _outputs_view(ctx: Ctx):
    outputs = ctx.args[0]
    kind = ctx.qname.rsplit(".", 1)[-1]
    view = Seq(ApiObject("portlint.ModelOutput", attrs={"outputs": outputs}), kind=f"outputs.{kind}")
    ctx.interp.record(OutputsView(outputs, kind, view, ctx.site))
    return view


@handles("random.choice")
def _random_choice(ctx: Ctx):
    """`random.choice(seq)` of a sequence holding one value (however many times) is that value
    whatever the draw: test-time transforms reuse the training class with one size,
    `RandomResize([800], max_size=1333)`. A real choice between values stays unknown."""
    seq = ctx.arg(0, "seq")
    if isinstance(seq, (list, tuple)) and seq:
        first = seq[0]
        if isinstance(first, (int, float, str)) and not isinstance(first, bool) and \
                all(type(x) is type(first) and x == first for x in seq):
            return first
    return UNKNOWN


@handles("functools.partial")
def _partial(ctx: Ctx):
    """`functools.partial(f, *args, **kw)`: calling it calls f with those arguments first
    (keywords given at the call override the frozen ones, as functools does)."""
    func = ctx.arg(0, "func")
    if func is UNKNOWN:
        return UNKNOWN
    return ApiObject("functools.partial", tuple(ctx.args[1:]), dict(ctx.kwargs), attrs={"func": func}, site=ctx.site)


@handles("functools.partial.__call__")
def _partial_call(ctx: Ctx):
    frozen = ctx.args[0]
    return ctx.interp.call(frozen.attrs["func"], [*frozen.args, *ctx.args[1:]], {**frozen.kwargs, **ctx.kwargs}, ctx.site)


@handles("fire.Fire")
def _fire(ctx: Ctx):
    """`fire.Fire(main)`: python-fire turns main's parameters into command-line flags and calls
    it; run without flags, every parameter has its default."""
    component = ctx.arg(0, "component")
    if component is UNKNOWN or component is None or isinstance(component, (ApiRef, ApiObject)):
        return UNKNOWN
    return ctx.interp.call(component, [], {}, ctx.site)


@handles("portlint.model_stride.max", "portlint.model_stride.item")
def _model_stride_max(ctx: Ctx):
    """`model.stride.max()`: yolov5-style models keep one stride per detection level (8, 16, 32) and
    the code reads the largest; the symbol for the unknown stride (analysis/unknowns.py) already is
    that largest stride, the one sizes are made multiples of."""
    return ctx.arg(0)
