"""Typed config dataclasses from YAML mappings: unknown keys and wrong types are errors, never ignored."""

from __future__ import annotations

import math
import re
from dataclasses import fields
from typing import Any, Mapping

from tts_adapt.errors import UserError

LARGEST_WHOLE = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,10}")


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
        item = "int" if "int" in kind else "float" if "float" in kind else "str"
        if item == "int" and all(isinstance(v, str) for v in value):  # "2000, 4000" given as one string
            value = [int(v) if _DIGITS.fullmatch(v) else v for v in value]
        return tuple(_coerce(f"{name}[{i}]", v, item, source) for i, v in enumerate(value))
    if kind in ("str", "bool"):  # a name or a switch: taken only as what it is, never converted
        if type(value).__name__ != kind:
            raise UserError(f"{source}: {name} must be {'a name' if kind == 'str' else 'true or false'}, "
                            f"got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UserError(f"{source}: {name} must be a number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):  # YAML reads .inf and .nan as numbers
        raise UserError(f"{source}: {name} must be a finite number, got {value!r}")
    if kind == "int":
        if isinstance(value, float) and not value.is_integer():
            raise UserError(f"{source}: {name} must be a whole number, got {value!r}")
        if not 0 <= value <= LARGEST_WHOLE:  # TensorFlow holds counts, sizes and seeds in 32 bits
            shown = f"{value:.0f}" if abs(value) < 1e30 else "a larger number"
            raise UserError(f"{source}: {name} must be between 0 and {LARGEST_WHOLE}, got {shown}")
        return int(value)
    if isinstance(value, int) and abs(value) > 1e300:  # float() of it would overflow
        raise UserError(f"{source}: {name} must be a finite number, got a larger number")
    return float(value)
