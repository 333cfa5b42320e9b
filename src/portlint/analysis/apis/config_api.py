"""Where programs keep their settings: paths (pathlib, os.path), configuration files in the
repository read as data (yaml, json), attribute dictionaries (EasyDict, SimpleNamespace), and
the pure string methods that pick a value out of them.

Nothing is executed: a file is read only when its path is known statically, it lies inside the
analysed side's folder (or the two folders above it, where imports are looked up too), it is a
regular file of at most MAX_DATA_BYTES with a data suffix, and it is parsed with `yaml.safe_load`
or `json.loads`, which build only plain data (a `yaml.load(..., Loader=...)` in the program is
read with the safe loader as well). Every file read is recorded (`interp.data_files`), so a
cached result is never served after the file changed.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from dataclasses import dataclass
from typing import Optional

from portlint.analysis.apis.common import Ctx, handles
from portlint.analysis.bounds import data_fits, str_call_fits
from portlint.analysis.values import UNKNOWN, ApiObject, Namespace
from portlint.filegate import read_regular

MAX_DATA_BYTES = 1_000_000
MAX_STRING = 100_000
DATA_SUFFIXES = (".yaml", ".yml", ".json", ".txt", ".cfg", ".names")


@dataclass(frozen=True)
class PathValue:
    """A pathlib.Path whose text is known."""

    text: str

    def __str__(self) -> str:
        return self.text


class AttrDict(dict):
    """An EasyDict / addict / OmegaConf-like mapping: keys are also attributes."""


@dataclass(eq=False)
class FileValue:
    """An open() file of known path, for reading."""

    path: str


def path_text(value) -> Optional[str]:
    if isinstance(value, PathValue):
        return value.text
    if isinstance(value, str):
        return value
    return None


# ------------------------------------------------------------------ pathlib

@handles("pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "pathlib.PurePosixPath")
def _path(ctx: Ctx):
    parts = [path_text(a) for a in ctx.args]
    if not parts:
        return PathValue(".")
    if None in parts:
        return UNKNOWN
    return PathValue(posixpath.join(*parts) if len(parts) > 1 else parts[0])


def path_attribute(p: PathValue, name: str):
    text = p.text
    if name == "name":
        return posixpath.basename(text)
    if name == "stem":
        base = posixpath.basename(text)
        return posixpath.splitext(base)[0] if "." in base[1:] else base
    if name == "suffix":
        base = posixpath.basename(text)
        return posixpath.splitext(base)[1] if "." in base[1:] else ""
    if name == "parent":
        return PathValue(posixpath.dirname(text) or ".")
    if name == "parents":
        out, cur = [], text
        while True:
            up = posixpath.dirname(cur)
            if not up or up == cur:
                break
            out.append(PathValue(up))
            cur = up
        return tuple(out)
    if name == "parts":
        return tuple(x for x in text.split("/") if x) if not text.startswith("/") else ("/",) + tuple(x for x in text.split("/") if x)
    return None


@handles("pathlib.Path.resolve", "pathlib.Path.absolute", "pathlib.Path.expanduser", "pathlib.Path.as_posix",
         "pathlib.Path.with_suffix", "pathlib.Path.with_name", "pathlib.Path.joinpath", "pathlib.Path.read_text",
         "pathlib.Path.__fspath__", "pathlib.Path.open")
def _path_method(ctx: Ctx):
    p = ctx.args[0]
    name = ctx.qname.rsplit(".", 1)[-1]
    args = [path_text(a) for a in ctx.args[1:]]
    if not isinstance(p, PathValue) or None in args:
        return UNKNOWN
    text = p.text
    if name in ("resolve", "absolute"):
        return PathValue(posixpath.normpath(text if posixpath.isabs(text) else posixpath.join(os.getcwd(), text)))
    if name == "expanduser":
        return p
    if name in ("as_posix", "__fspath__"):
        return text
    if name == "with_suffix" and args:
        return PathValue(posixpath.splitext(text)[0] + args[0])
    if name == "with_name" and args:
        return PathValue(posixpath.join(posixpath.dirname(text), args[0]))
    if name == "joinpath":
        return PathValue(posixpath.join(text, *args))
    if name == "read_text":
        return read_data(ctx.interp, text)
    if name == "open":
        return FileValue(text)
    return UNKNOWN


def path_join(left, right):
    """`path / "part"` (and `"part" / path` for a PurePath on the right)."""
    lt, rt = path_text(left), path_text(right)
    if lt is None or rt is None:
        return UNKNOWN
    return PathValue(posixpath.join(lt, rt))


# ------------------------------------------------------------------ os.path

@handles("os.path.join", "os.path.dirname", "os.path.basename", "os.path.splitext", "os.path.split",
         "os.path.abspath", "os.path.normpath", "os.path.realpath", "os.path.expanduser", "os.fspath")
def _os_path(ctx: Ctx):
    args = [path_text(a) for a in ctx.args]
    if not args or None in args:
        return UNKNOWN
    name = ctx.qname.rsplit(".", 1)[-1]
    if name == "join":
        return posixpath.join(*args)
    if name in ("abspath", "realpath"):
        return posixpath.normpath(args[0] if posixpath.isabs(args[0]) else posixpath.join(os.getcwd(), args[0]))
    if name == "fspath":
        return args[0]
    if name == "expanduser":
        return args[0]
    return getattr(posixpath, name)(args[0])


# ------------------------------------------------------------------ reading data files

def read_data(interp, path: str, suffixes: tuple = DATA_SUFFIXES):
    """The text of a data file the program reads, if it may be read (see the module docstring);
    `suffixes`: the file names it may have (mmcv configs are `.py` files read as data)."""
    if not path.endswith(suffixes):
        return UNKNOWN
    real = os.path.realpath(path if os.path.isabs(path) else os.path.join(str(interp.side.root), path))
    roots = [r for r in interp.import_roots if os.path.dirname(r) != r]  # never the file system's root
    if not any(real.startswith(r.rstrip("/") + "/") for r in roots):
        return UNKNOWN
    try:
        data = read_regular(real, MAX_DATA_BYTES)  # never a FIFO or a device, even one swapped in
    except OSError:
        return UNKNOWN
    interp.data_files[real] = data
    try:
        return data.decode("utf-8", errors="ignore")
    except Exception:
        return UNKNOWN


@handles("builtins.open", "io.open")
def _open(ctx: Ctx):
    path = path_text(ctx.arg(0, "file"))
    mode = ctx.arg(1, "mode", "r")
    if path is None or not isinstance(mode, str) or any(c in mode for c in "wax+"):
        return ApiObject("open")
    return FileValue(path)


@handles("portlint.File.read")
def _file_read(ctx: Ctx):
    return read_data(ctx.interp, ctx.args[0].path)


@handles("portlint.File.readlines")
def _file_readlines(ctx: Ctx):
    text = read_data(ctx.interp, ctx.args[0].path)
    return text.splitlines(keepends=True) if isinstance(text, str) else UNKNOWN


def _text_of(interp, value):
    if isinstance(value, FileValue):
        return read_data(interp, value.path)
    if isinstance(value, str):
        return value
    return UNKNOWN


@handles("yaml.safe_load", "yaml.load", "yaml.full_load", "yaml.unsafe_load")
def _yaml_load(ctx: Ctx):
    text = _text_of(ctx.interp, ctx.arg(0, "stream"))
    if not isinstance(text, str):
        return UNKNOWN
    try:
        import yaml

        value = yaml.safe_load(text)  # plain data only, whatever loader the program names
        return value if data_fits(value) else UNKNOWN  # aliases can make a small file a huge tree
    except Exception:
        return UNKNOWN


@handles("json.load", "json.loads")
def _json_load(ctx: Ctx):
    text = _text_of(ctx.interp, ctx.arg(0, "fp" if ctx.qname.endswith("load") else "s"))
    if not isinstance(text, str):
        return UNKNOWN
    try:
        return json.loads(text)
    except Exception:
        return UNKNOWN


# ------------------------------------------------------------------ attribute dictionaries

@handles("easydict.EasyDict", "addict.Dict", "attrdict.AttrDict", "munch.Munch", "ml_collections.ConfigDict")
def _easydict(ctx: Ctx):
    base = ctx.arg(0, "d", None)
    out = AttrDict()
    if isinstance(base, dict):
        out.update({k: _attr_dicts(v) for k, v in base.items()})
    elif base is not None:
        return UNKNOWN
    out.update({k: _attr_dicts(v) for k, v in ctx.kwargs.items() if not k.startswith("__")})
    return out


def _attr_dicts(value):
    if isinstance(value, dict) and not isinstance(value, AttrDict):
        return AttrDict({k: _attr_dicts(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_attr_dicts(v) for v in value]
    return value


@handles("types.SimpleNamespace", "argparse.Namespace")
def _namespace(ctx: Ctx):
    return Namespace(attrs={k: v for k, v in ctx.kwargs.items() if not k.startswith("__")})


@handles("types.SimpleNamespace.__init__")
def _namespace_init(ctx: Ctx):
    """A subclass of SimpleNamespace made with keywords keeps them as attributes."""
    attrs = getattr(ctx.args[0], "attrs", None)
    if isinstance(attrs, dict):
        attrs.update({k: v for k, v in ctx.kwargs.items() if not k.startswith("__")})
    return None


# ------------------------------------------------------------------ pure string methods

_STR_METHODS = (
    "isprintable", "isnumeric", "isdigit", "isdecimal", "isalpha", "isalnum", "isspace", "isupper", "islower",
    "istitle", "startswith", "endswith", "lower", "upper", "strip", "lstrip", "rstrip", "split", "rsplit",
    "partition", "rpartition", "replace", "count", "find", "rfind", "zfill", "title", "capitalize", "casefold",
    "removeprefix", "removesuffix", "splitlines", "center", "ljust", "rjust", "swapcase",
)


def _str_method(ctx: Ctx):
    s = ctx.args[0]
    name = ctx.qname.rsplit(".", 1)[-1]
    args = ctx.args[1:]
    if not all(isinstance(a, (str, int)) and not isinstance(a, bool) or (isinstance(a, tuple) and all(isinstance(x, str) for x in a))
               for a in args) or ctx.kwargs or not str_call_fits(name, s, args):
        return UNKNOWN
    try:
        result = getattr(s, name)(*args)
    except Exception:
        return UNKNOWN
    if isinstance(result, str) and len(result) > MAX_STRING:
        return UNKNOWN
    return result


for _name in _STR_METHODS:
    handles(f"str.{_name}")(_str_method)


# ------------------------------------------------------------------ regular expressions on known text

_UNSAFE_PATTERN = re.compile(r"\)[*+?{]|\\\d|\(\?[=!<]")  # nested quantifiers, backreferences, lookarounds


def _safe_pattern(pattern) -> bool:
    """A pattern that runs in time linear in the text (no nested quantifier or backreference):
    evaluating it on a known string cannot hang the analysis."""
    return isinstance(pattern, str) and len(pattern) < 500 and not _UNSAFE_PATTERN.search(pattern)


@handles("re.sub")
def _re_sub(ctx: Ctx):
    pattern, repl, string = ctx.arg(0, "pattern"), ctx.arg(1, "repl"), ctx.arg(2, "string")
    count = ctx.arg(3, "count", 0)
    if not (_safe_pattern(pattern) and isinstance(repl, str) and "\\" not in repl and isinstance(string, str)
            and len(string) <= MAX_DATA_BYTES and isinstance(count, int) and not ctx.arg(4, "flags", 0)):
        return UNKNOWN
    try:
        return re.sub(pattern, repl, string, count=count)
    except re.error:
        return UNKNOWN
