"""Typed config dataclasses from YAML mappings: unknown keys and wrong types are errors, never ignored."""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Any, Mapping

from tts_adapt.errors import UserError


def config_values(cls: type, data: Mapping[str, Any], source: str) -> dict[str, Any]:
    """The values of ``data`` coerced to the types of ``cls``'s fields (numbers, str, bool, tuples of int/str)."""
    known = {f.name: f for f in fields(cls)}
    odd = [key for key in data if not isinstance(key, str)]
    if odd:
        raise UserError(f"{source}: keys must be names, got {odd[0]!r}")
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise UserError(f"{source}: unknown keys {', '.join(unknown)} (known: {', '.join(known)})")
    return {name: _coerce(name, value, known[name].type, source) for name, value in data.items()}


def _coerce(name: str, value: Any, kind: Any, source: str) -> Any:
    kind = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    if kind.startswith("tuple"):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise UserError(f"{source}: {name} must be a list")
        item = int if "int" in kind else float if "float" in kind else str
        try:
            return tuple(item(v) for v in value)
        except (TypeError, ValueError):
            raise UserError(f"{source}: {name} must be a list of {item.__name__}s") from None
    if kind in ("str", "bool"):  # a name or a switch: taken only as what it is, never converted
        if type(value).__name__ != kind:
            raise UserError(f"{source}: {name} must be {'a name' if kind == 'str' else 'true or false'}, "
                            f"got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UserError(f"{source}: {name} must be a number, got {value!r}")
    if not math.isfinite(value):  # YAML reads .inf and .nan as numbers
        raise UserError(f"{source}: {name} must be a finite number, got {value!r}")
    if kind == "int":
        if float(value) != int(value):
            raise UserError(f"{source}: {name} must be a whole number, got {value!r}")
        return int(value)
    return float(value)
