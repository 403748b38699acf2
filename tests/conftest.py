"""Shared fixtures: real checkpoints made by TensorFlow itself (TF1 Saver, TF2 Checkpoint)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
from tts_adapt.testing import tiny_tacotron as tiny

from tests.cli_testing import NEW_SYMBOLS, N_SPEAKERS, OLD_SYMBOLS, write_table


@pytest.fixture(scope="session")
def tables(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tables")
    return {"old": write_table(root / "old.txt", OLD_SYMBOLS), "new": write_table(root / "new.txt", NEW_SYMBOLS)}


@pytest.fixture(scope="session")
def tf1_source(tmp_path_factory) -> Path:
    """A TF1 multi-speaker checkpoint, trained 2 Adam steps, saved by a Saver."""
    root = tmp_path_factory.mktemp("tf1")
    tiny.make_tf1_checkpoint(root, len(OLD_SYMBOLS), N_SPEAKERS)
    return root


@pytest.fixture(scope="session")
def tf1_sharded_source(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tf1_sharded")
    tiny.make_tf1_checkpoint(root, len(OLD_SYMBOLS), N_SPEAKERS, sharded=True)
    return root


@pytest.fixture(scope="session")
def tf2_source(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tf2")
    tiny.make_tf2_checkpoint(root, len(OLD_SYMBOLS), N_SPEAKERS)
    return root


@pytest.fixture(scope="session")
def layouts(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("layouts")
    out = {}
    for name, tf2 in (("tf1", False), ("tf2", True)):
        out[name] = root / f"{name}.yaml"
        out[name].write_text(yaml.safe_dump(tiny.layout_dict(tf2=tf2)), encoding="utf-8")
    return out


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """exp/<voice> of a whole voice recipe made by the real commands on a tiny model (tests/tiny_run.py)."""
    from tests.tiny_run import make_tiny_run

    return make_tiny_run(tmp_path_factory.mktemp("tiny_run"))
