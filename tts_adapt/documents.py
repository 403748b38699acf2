"""Run documents: the JSON one command writes and another reads, as typed dataclasses.

A document crosses a seam (a command's ``--format json``, a file a recipe keeps, the report that
reads it), so a field renamed on one side must fail on the other, once, naming the file and the
field, rather than show as a blank. Each document is a dataclass deriving from :class:`Document`,
owned by the module that writes it; ``from_json`` checks every field against its type hint
(numbers, text, booleans, None, tuples, string-keyed mappings, nested dataclasses, named tuples)
and ``to_json`` writes the same shape back, headed by the document's kind and schema version.

A field's JSON key is its name unless ``field(metadata={"json": KEY})`` says otherwise; its metadata
may also give ``"check": (WORDS, PREDICATE)``, a condition beyond the type (WORDS say what the value
must be), and ``"absent": VALUE``, what a file without the key means when that differs from what a
new instance gets. A class's ``DERIVED`` names properties or methods written for readers (a display
form, a summary) and ignored on read. A document older than this module (the checkpoint manifest)
keeps its own shape through class settings: its header keys, nulls written as nothing, and unknown
keys kept verbatim in one mapping field rather than refused.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from tts_adapt.errors import UserError

D = TypeVar("D", bound="Document")


class Document:
    """Base of every run document: its kind, its schema version, the checks on read."""

    KIND: ClassVar[str]
    VERSION: ClassVar[int] = 1
    KIND_KEY: ClassVar[str] = "schema"
    VERSION_KEY: ClassVar[str] = "schema_version"
    KIND_REQUIRED: ClassVar[bool] = False  # documents typed later than their first release may lack the kind
    NULL_IS_ABSENT: ClassVar[bool] = False  # a None field is not written, a null is read as the key's absence
    EXTRA: ClassVar[str | None] = None  # a mapping field that keeps unknown keys (read and written back)

    def to_json(self) -> dict[str, Any]:
        body = encode(self)
        extra = body.pop(self.EXTRA) if self.EXTRA else {}
        if self.NULL_IS_ABSENT:
            body = {key: value for key, value in body.items() if value is not None}
        return {**extra, self.KIND_KEY: self.KIND, self.VERSION_KEY: self.VERSION, **body}

    def to_text(self) -> str:
        """The JSON as a file holds it and ``--format json`` prints it."""
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls: type[D], data: Any, source: str) -> D:
        if not isinstance(data, dict):
            raise UserError(f"{source}: not a {cls.KIND} document (expected a JSON object)")
        kind = data.get(cls.KIND_KEY)
        if kind != cls.KIND and (kind is not None or cls.KIND_REQUIRED):
            raise UserError(f"{source}: not a {cls.KIND} document ({cls.KIND_KEY} is {kind!r})")
        version = data.get(cls.VERSION_KEY, 1)
        if not _whole(version) or version < 1:
            raise UserError(f"{source}: {cls.VERSION_KEY} must be a whole number from 1, got {version!r}")
        if version > cls.VERSION:
            raise UserError(f"{source}: written by a newer tts-adapt ({cls.KIND} schema version {version}; "
                            f"this one reads up to {cls.VERSION})")
        body = {key: value for key, value in data.items() if key not in (cls.KIND_KEY, cls.VERSION_KEY)}
        if cls.EXTRA:
            known = {_key(f) for f in dataclasses.fields(cls) if f.init and f.name != cls.EXTRA}
            body = {**{key: value for key, value in body.items() if key in known},
                    cls.EXTRA: {key: value for key, value in body.items() if key not in known}}
        if cls.NULL_IS_ABSENT:
            body = {key: value for key, value in body.items() if value is not None}
        return decode(cls, body, source)

    @classmethod
    def read(cls: type[D], path: str | os.PathLike) -> D:
        """The document in ``path``; a missing, unreadable or malformed file is a UserError naming it."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UserError(f"{path}: no such file") from None
        except (OSError, ValueError, RecursionError) as exc:  # ValueError: bad UTF-8, bad JSON, 4300+ digits
            raise UserError(f"{path}: not a readable {cls.KIND} document ({str(exc)[:80]})") from None
        return cls.from_json(data, str(path))


def encode(value: Any) -> Any:
    """A dataclass (and what it holds) as JSON-ready values, keys as ``decode`` expects them."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {_key(f): encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
        for name in getattr(value, "DERIVED", ()):
            derived = getattr(value, name)
            out[name] = encode(derived() if callable(derived) else derived)
        return out
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a named tuple: its fields by name
        return {name: encode(item) for name, item in zip(value._fields, value)}
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): encode(item) for key, item in value.items()}
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


def decode(cls: type, data: Any, source: str, where: str = "") -> Any:
    """``data`` as an instance of the dataclass ``cls``, every field checked against its type hint."""
    if not isinstance(data, dict):
        raise UserError(f"{source}: {where or 'the document'} must be a mapping, got {_shown(data)}")
    hints = typing.get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if f.init]
    keys = {_key(f) for f in fields}
    unknown = sorted(set(data) - keys - set(getattr(cls, "DERIVED", ())))
    if unknown:
        raise UserError(f"{source}: unknown key {_join(where, unknown[0])} (known: {', '.join(sorted(keys))})")
    values = {}
    for f in fields:
        key = _key(f)
        if key not in data:
            if "absent" in f.metadata:
                values[f.name] = f.metadata["absent"]
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise UserError(f"{source}: missing {_join(where, key)}")
            continue
        values[f.name] = _convert(data[key], hints[f.name], source, _join(where, key))
        words, holds = f.metadata.get("check", ("", None))
        if holds is not None and values[f.name] is not None and not holds(values[f.name]):
            raise _wrong(source, _join(where, key), words, data[key])
    try:
        return cls(**values)
    except UserError as exc:  # a class's own check of its values (__post_init__): name the file too
        raise UserError(f"{source}: {where + ': ' if where else ''}{exc}") from None


def _convert(value: Any, hint: Any, source: str, where: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return value
    if origin is typing.Literal:
        if value not in args:
            raise _wrong(source, where, "one of " + ", ".join(map(str, args)), value)
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [arg for arg in args if arg is not type(None)]
        for option in options[:-1]:
            try:
                return _convert(value, option, source, where)
            except UserError:
                continue
        return _convert(value, options[-1], source, where)
    if origin is list:
        if not isinstance(value, list):
            raise _wrong(source, where, "a list", value)
        return [_convert(item, args[0], source, f"{where}[{i}]") for i, item in enumerate(value)]
    if origin is tuple:
        if not isinstance(value, list):
            raise _wrong(source, where, "a list", value)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(item, args[0], source, f"{where}[{i}]") for i, item in enumerate(value))
        if len(value) != len(args):
            raise _wrong(source, where, f"a list of {len(args)}", value)
        return tuple(_convert(item, arg, source, f"{where}[{i}]") for i, (item, arg) in enumerate(zip(value, args)))
    if origin in (dict, Mapping) or hint is dict:
        if not isinstance(value, dict):
            raise _wrong(source, where, "a mapping", value)
        item_hint = args[1] if args else Any
        return {key: _convert(item, item_hint, source, f"{where}.{key}") for key, item in value.items()}
    if dataclasses.is_dataclass(hint):
        return decode(hint, value, source, where)
    if isinstance(hint, type) and issubclass(hint, tuple) and hasattr(hint, "_fields"):
        if not isinstance(value, dict) or set(value) != set(hint._fields):
            raise _wrong(source, where, f"a mapping of {', '.join(hint._fields)}", value)
        item_hints = typing.get_type_hints(hint)
        return hint(**{name: _convert(value[name], item_hints[name], source, f"{where}.{name}")
                       for name in hint._fields})
    if hasattr(hint, "from_dict"):
        try:
            return hint.from_dict(value)
        except UserError as exc:
            raise UserError(f"{source}: {where}: {exc}") from None
    return _scalar(value, hint, source, where)


def _scalar(value: Any, hint: Any, source: str, where: str) -> Any:
    if hint is bool:
        if not isinstance(value, bool):
            raise _wrong(source, where, "true or false", value)
        return value
    if hint is str:
        if not isinstance(value, str):
            raise _wrong(source, where, "text", value)
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _wrong(source, where, "a whole number", value)
        return value
    if hint is float:  # NaN stands for "not measured" (an empty set of sentences): JSON's NaN is kept
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isinf(value):
            raise _wrong(source, where, "a number", value)
        return float(value)
    raise TypeError(f"documents cannot hold {hint!r} ({where})")


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _key(f: dataclasses.Field) -> str:
    return f.metadata.get("json", f.name)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _shown(value: Any) -> str:
    shown = json.dumps(value, ensure_ascii=False)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _wrong(source: str, where: str, expected: str, value: Any) -> UserError:
    return UserError(f"{source}: {where} must be {expected}, got {_shown(value)}")
