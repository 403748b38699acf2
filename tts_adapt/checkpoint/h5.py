"""Keras HDF5 weight files, read one array at a time and written back in the same format.

Two formats, both loaded *by position*, never by weight name:

* Keras 2's legacy ``save_weights`` file (TensorFlowTTS's ``model-<steps>.h5``): the root's
  ``layer_names`` lists a group per top-level layer (``top_level_model_weights`` holds the
  model's own); each group's ``weight_names`` lists its weights in the order ``load_weights``
  assigns them, each stored at ``<layer>/<weight name>``. A weight is shown under its name
  without ``:0`` (``tacotron2/encoder/embeddings/character_embeddings/weight``).
* Keras 3's ``.weights.h5``: a group per object, its variables at ``<object>/vars/<i>`` in the
  object's order. A weight is shown under that path (``encoder/embeddings/vars/0``).

A weight deleted by the surgery leaves the lists (Keras 2) or the numbering (Keras 3) the way
Keras would have written the model without it, so the framework's own loader accepts the result.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from tts_adapt.checkpoint.dialects import TensorEntry
from tts_adapt.errors import UserError

H5Format = Literal["keras2", "keras3"]
KERAS2_MODEL_GROUP = "top_level_model_weights"  # the model's own weights: a group not in layer_names
_KERAS3_VARS = re.compile(r"(^|/)vars/(\d+)$")
SUFFIXES = (".h5", ".hdf5")


@dataclass(frozen=True)
class H5Weight:
    name: str  # as inspect and layouts name it
    path: str  # the dataset inside the file
    group: str  # Keras 2: its layer group; Keras 3: its vars group
    entry: TensorEntry


@dataclass(frozen=True)
class H5Contents:
    path: Path
    format: H5Format
    weights: tuple[H5Weight, ...]  # in file order: the order Keras assigns them

    def by_name(self) -> dict[str, H5Weight]:
        return {w.name: w for w in self.weights}


def looks_like_h5(path: str | os.PathLike) -> bool:
    """A file named like Keras weights, or any file starting with the HDF5 signature."""
    p = Path(path)
    if not p.is_file():
        return False
    if p.name.endswith(SUFFIXES):
        return True
    with open(p, "rb") as handle:
        return handle.read(8) == b"\x89HDF\r\n\x1a\n"


def open_file(path: str | os.PathLike):
    import h5py

    if not h5py.is_hdf5(str(path)):
        raise UserError(f"{path}: not an HDF5 file (expected Keras weights saved with save_weights)")
    try:
        return h5py.File(str(path), "r")
    except OSError as exc:
        raise UserError(f"{path}: cannot open the HDF5 file ({_first_line(exc)}); it is truncated or corrupt") from None


def read_contents(path: str | os.PathLike) -> H5Contents:
    """What the file holds, checked: every listed weight exists, names are unique."""
    with open_file(path) as handle:
        try:
            if "layer_names" in handle.attrs:
                return H5Contents(Path(path), "keras2", tuple(_keras2_weights(handle, path)))
            weights = _keras3_weights(handle)
        except (OSError, KeyError, ValueError) as exc:
            raise UserError(f"{path}: unreadable HDF5 structure ({_first_line(exc)}); it is truncated or corrupt") from None
        if not weights:
            what = "a whole saved model (model.save): save its weights with save_weights" if "model_weights" in handle \
                else "no 'layer_names' attribute (Keras 2) and no 'vars' groups (Keras 3)"
            raise UserError(f"{path}: HDF5 but not Keras weights ({what})")
    return H5Contents(Path(path), "keras3", tuple(weights))


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _keras2_weights(handle, path) -> list[H5Weight]:
    import h5py

    groups = [_text(n) for n in handle.attrs["layer_names"]]
    if KERAS2_MODEL_GROUP in handle and KERAS2_MODEL_GROUP not in groups:
        groups.append(KERAS2_MODEL_GROUP)
    weights: list[H5Weight] = []
    seen: dict[str, str] = {}
    for group_name in groups:
        group = handle.get(group_name)
        if not isinstance(group, h5py.Group):
            raise UserError(f"{path}: layer_names lists {group_name!r}, which the file does not hold")
        if "weight_names" not in group.attrs:
            raise UserError(f"{path}: layer {group_name!r} has no 'weight_names' attribute; not Keras weights")
        for weight_name in (_text(n) for n in group.attrs["weight_names"]):
            dataset = group.get(weight_name)
            if not isinstance(dataset, h5py.Dataset):
                raise UserError(f"{path}: layer {group_name!r} lists weight {weight_name!r}, which the file does not hold")
            name = weight_name[: -len(":0")] if weight_name.endswith(":0") else weight_name
            if name in seen:
                raise UserError(f"{path}: two weights are named {name!r} (layers {seen[name]!r} and {group_name!r})")
            seen[name] = group_name
            entry = TensorEntry(name, tuple(int(d) for d in dataset.shape), dataset.dtype.name)
            weights.append(H5Weight(name, f"{group_name}/{weight_name}", group_name, entry))
    return weights


def _keras3_weights(handle) -> list[H5Weight]:
    import h5py

    found: list[tuple[list, H5Weight]] = []

    def visit(name: str, obj) -> None:
        match = _KERAS3_VARS.search(name)
        if isinstance(obj, h5py.Dataset) and match:
            entry = TensorEntry(name, tuple(int(d) for d in obj.shape), obj.dtype.name)
            order = [int(p) if p.isdigit() else p for p in name.split("/")]
            found.append((order, H5Weight(name, name, name[: match.start(2) - 1], entry)))

    handle.visititems(visit)
    return [weight for _, weight in sorted(found, key=lambda item: [(isinstance(p, str), p) for p in item[0]])]


def read_array(contents: H5Contents, handle, weight: H5Weight) -> np.ndarray:
    try:
        return np.asarray(handle[weight.path][()])
    except (OSError, KeyError, ValueError) as exc:
        raise UserError(f"{contents.path}: cannot read {weight.name!r} ({_first_line(exc)}); "
                        "the file is truncated or corrupt") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class H5WeightsWriter:
    """Write ``source``'s structure into a new file at ``path``, without the ``deleted`` weights.

    Groups and attributes are copied; each kept weight is written by :meth:`add` (any order, one
    array at a time); :meth:`finish` rewrites Keras 2's ``weight_names``/``layer_names`` lists
    without the deleted names. Keras 3 variables after a deleted one move down a number, and so do
    the objects after a deleted one in a list (Keras 3 names those by class: ``dense``, ``dense_1``).
    """

    def __init__(self, source: H5Contents, path: str | os.PathLike, deleted: set[str]) -> None:
        import h5py

        self.source, self.deleted = source, deleted
        kept = [w for w in source.weights if w.name not in deleted]
        emptied = _emptied_groups(source, deleted)
        with open_file(source.path) as src:
            groups: list[str] = []
            src.visititems(lambda name, obj: groups.append(name) if isinstance(obj, h5py.Group) else None)
            self._rename = _Renamer(_keras3_renames(groups, emptied) if source.format == "keras3" else {})
            self._targets = {w.name: w.path for w in kept} if source.format == "keras2" else \
                {name: self._rename(target) for name, target in _renumbered(kept).items()}
            self._written: set[str] = set()
            self._file = h5py.File(str(path), "w")
            _copy_attrs(src, self._file)
            for name in groups:
                if not any(name == g or name.startswith(g + "/") for g in emptied):
                    _copy_attrs(src[name], self._file.require_group(self._rename(name)))

    def add(self, name: str, value: np.ndarray) -> None:
        if name not in self._targets or name in self._written:
            raise ValueError(f"weight {name!r} is not to be written, or written twice")
        dataset = self._file.create_dataset(self._targets[name], shape=value.shape, dtype=value.dtype)
        dataset[()] = value
        self._written.add(name)

    def finish(self) -> None:
        missing = set(self._targets) - self._written
        if missing:
            raise ValueError(f"weights never written: {sorted(missing)[:3]}")
        if self.source.format == "keras2":
            self._rewrite_keras2_lists()
        self._file.close()

    def _rewrite_keras2_lists(self) -> None:
        with open_file(self.source.path) as src:
            kept_layers = []
            for group_name in [_text(n) for n in src.attrs["layer_names"]]:
                names = src[group_name].attrs["weight_names"]
                keep = np.array([_strip(_text(n)) not in self.deleted for n in names], bool)
                if len(names) and not keep.any():
                    continue  # every weight of the layer went: the model without it has no such layer
                kept_layers.append(group_name)
                if not keep.all():
                    _rewrite_attr(src[group_name].attrs, self._file[group_name].attrs, "weight_names", keep)
            if KERAS2_MODEL_GROUP in src and KERAS2_MODEL_GROUP in self._file:
                names = src[KERAS2_MODEL_GROUP].attrs["weight_names"]
                keep = np.array([_strip(_text(n)) not in self.deleted for n in names], bool)
                if not keep.all():
                    _rewrite_attr(src[KERAS2_MODEL_GROUP].attrs, self._file[KERAS2_MODEL_GROUP].attrs,
                                  "weight_names", keep)
            all_layers = [_text(n) for n in src.attrs["layer_names"]]
            if kept_layers != all_layers:
                keep = np.array([n in kept_layers for n in all_layers], bool)
                _rewrite_attr(src.attrs, self._file.attrs, "layer_names", keep)

    def close(self) -> None:
        """Give the file up (after a failure: the caller removes it)."""
        if self._file.id.valid:
            self._file.close()


def _strip(weight_name: str) -> str:
    return weight_name[: -len(":0")] if weight_name.endswith(":0") else weight_name


def _renumbered(kept: list[H5Weight]) -> dict[str, str]:
    """Keras 3: each vars group's kept variables numbered 0, 1, ... in their old order."""
    out: dict[str, str] = {}
    count: dict[str, int] = {}
    for weight in kept:
        index = count.get(weight.group, 0)
        out[weight.name] = f"{weight.group}/{index}"
        count[weight.group] = index + 1
    return out


def _emptied_groups(source: H5Contents, deleted: set[str]) -> set[str]:
    """The highest groups that held weights and hold none once ``deleted`` go: they are not written
    (a Keras 2 layer whose weights all went is a layer the model without them does not have)."""
    emptied: set[str] = set()
    for weight in source.weights:
        if weight.name not in deleted:
            continue
        parts = weight.path.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            group = "/".join(parts[:depth])
            if all(w.name in deleted for w in source.weights if w.path.startswith(group + "/")):
                emptied.add(group)
                break
    return emptied


class _Renamer:
    """Applies group renames (old path -> new last component) to any path inside the file."""

    def __init__(self, renames: dict[str, str]) -> None:
        self.renames = renames

    def __call__(self, path: str) -> str:
        parts = path.split("/")
        out = list(parts)
        for depth in range(len(parts)):
            new = self.renames.get("/".join(parts[: depth + 1]))
            if new is not None:
                out[depth] = new
        return "/".join(out)


_NUMBERED = re.compile(r"^(.*?)(?:_(\d+))?$")


def _keras3_renames(groups: list[str], emptied: set[str]) -> dict[str, str]:
    """Keras 3 saves a list of objects as ``<class>``, ``<class>_1``, ... in a group with no ``vars``:
    once some go, the rest of each class are numbered again from 0 in their old order."""
    present = set(groups)
    renames: dict[str, str] = {}
    for parent in {g.rpartition("/")[0] for g in emptied}:
        if (f"{parent}/vars" if parent else "vars") in present:
            continue  # an object's attributes keep their names
        children = [g for g in groups if g.rpartition("/")[0] == parent and g not in emptied]
        by_class: dict[str, list[tuple[int, str]]] = {}
        for child in children:
            base, number = _NUMBERED.match(child.rpartition("/")[2]).groups()
            by_class.setdefault(base, []).append((int(number or 0), child))
        for base, numbered in by_class.items():
            for index, (_, child) in enumerate(sorted(numbered)):
                renames[child] = base if index == 0 else f"{base}_{index}"
    return renames


def _copy_attrs(src, dst) -> None:
    for key in src.attrs:
        dst.attrs.create(key, src.attrs[key], dtype=src.attrs.get_id(key).dtype)


def _rewrite_attr(src_attrs, dst_attrs, key: str, keep: np.ndarray) -> None:
    """The attribute list without the dropped entries, in the source's own string type."""
    values = np.asarray(src_attrs[key])
    dst_attrs.create(key, values[keep], dtype=src_attrs.get_id(key).dtype)
