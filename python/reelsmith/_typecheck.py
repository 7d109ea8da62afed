"""A run-time check of a value against the generated spec types (``reelsmith.types.check``):
what a type checker would say of a dict literal, with the spec's JSON paths."""

from __future__ import annotations

import typing
from typing import Any, Dict, ForwardRef, List, Union

NoneType = type(None)


def check(value: Any, tp: Any, ns: Dict[str, Any]) -> List[str]:
    """Problems of ``value`` as ``tp`` (names resolved in ``ns``): ``"path: problem"`` lines."""
    out: List[str] = []
    _walk(value, tp, "", ns, out)
    return out


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _is_typed_dict(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__required_keys__")


def _resolve(tp: Any, ns: Dict[str, Any]) -> Any:
    if isinstance(tp, str):
        return ns[tp]
    if isinstance(tp, ForwardRef):
        return ns[tp.__forward_arg__]
    return tp


def _name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _walk(v: Any, tp: Any, path: str, ns: Dict[str, Any], out: List[str]) -> None:
    tp = _resolve(tp, ns)
    where = path or "$"
    if tp is Any:
        return
    if tp is NoneType:
        if v is not None:
            out.append(f"{where}: expected null, found {v!r}")
        return
    if _is_typed_dict(tp):
        if not isinstance(v, dict):
            out.append(f"{where}: expected an object ({_name(tp)}), found {type(v).__name__}")
            return
        hints = typing.get_type_hints(tp, ns)
        for key in sorted(tp.__required_keys__):
            if key not in v:
                out.append(f"{_join(path, key)}: missing (required by {_name(tp)})")
        for key, item in v.items():
            if key not in hints:
                out.append(f"{_join(path, key)}: unknown field of {_name(tp)}")
            else:
                _walk(item, hints[key], _join(path, key), ns, out)
        return
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Union:
        _union(v, args, path, ns, out)
    elif origin is typing.Literal:
        if not any(v == a and type(v) is type(a) for a in args):
            out.append(f"{where}: {v!r} is not one of {', '.join(repr(a) for a in args)}")
    elif origin is list:
        if not isinstance(v, list):
            out.append(f"{where}: expected a list, found {type(v).__name__}")
            return
        for i, item in enumerate(v):
            _walk(item, args[0], f"{path}[{i}]", ns, out)
    elif origin is dict:
        if not isinstance(v, dict):
            out.append(f"{where}: expected an object, found {type(v).__name__}")
            return
        for key, item in v.items():
            _walk(item, args[1], _join(path, str(key)), ns, out)
    elif tp is float:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            out.append(f"{where}: expected a number, found {v!r}")
    elif tp is int:
        if isinstance(v, bool) or not isinstance(v, int):
            out.append(f"{where}: expected an integer, found {v!r}")
    elif tp in (str, bool):
        if not isinstance(v, tp):
            out.append(f"{where}: expected {tp.__name__}, found {v!r}")
    else:
        out.append(f"{where}: cannot check against {_name(tp)}")


def _union(v: Any, members: Any, path: str, ns: Dict[str, Any], out: List[str]) -> None:
    tried = []
    for m in members:
        found: List[str] = []
        _walk(v, m, path, ns, found)
        if not found:
            return
        tried.append((_resolve(m, ns), found))
    # A tagged object: report against the member whose `type` tag it names.
    if isinstance(v, dict):
        for m, found in tried:
            if _is_typed_dict(m):
                tag = typing.get_type_hints(m, ns).get("type")
                if tag is not None and v.get("type") in typing.get_args(tag):
                    out.extend(found)
                    return
    names = ", ".join(_name(m) for m, _ in tried)
    out.append(f"{path or '$'}: {v!r} matches none of {names}")
