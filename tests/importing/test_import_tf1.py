"""tts-adapt import: TF1 Tacotron-2 checkpoints made by TensorFlow itself become the same network.

The reference is ``tts_adapt/testing/tf1_tacotron2.py``: the sources' variable names, their forward pass
written in a ``tf.compat.v1`` graph from their semantics, run in a Session; never the toolkit's model.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from tts_adapt.manifest import read_manifest
from tts_adapt.testing import tf1_tacotron2 as tf1
from tests.cli_testing import run_cli, write_table

OUTPUTS = ("mel", "mel_post", "stop_logits", "alignment")
TOLERANCE = 1e-4  # max |difference| / max |TF1 output|, per output
RTVC = tf1.Dims()
RAYHANE = tf1.RAYHANE_SMALL


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    root = tmp_path_factory.mktemp("tf1_sources")
    return {"rtvc": tf1.make_checkpoint(root / "rtvc", RTVC, seed=1),
            "rayhane": tf1.make_checkpoint(root / "rayhane", RAYHANE, seed=2)}


def import_cli(capsys, source, out, architecture, *extra):
    return run_cli(["import", source, "--architecture", architecture, "--output", out, *extra], capsys)


def imported(capsys, tmp_path, source, architecture, *extra):
    out = tmp_path / f"imported_{architecture}"
    code, stdout, stderr = import_cli(capsys, source, out, architecture, *extra)
    assert code == 0, stderr
    return out, stdout


def toolkit_outputs(checkpoint, data: tf1.Inputs) -> dict[str, np.ndarray]:
    from tts_adapt.model.loading import load_model

    batch = {"text": data.text, "text_len": data.text_len, "mel": data.mel}
    if data.speaker is not None:
        batch["speaker_vector"] = data.speaker
    return {k: v.numpy() for k, v in load_model(checkpoint).model(batch, training=False).items()}


def relative_differences(reference: dict, got: dict) -> dict[str, float]:
    return {k: float(np.abs(got[k] - reference[k]).max() / np.abs(reference[k]).max()) for k in OUTPUTS}


RAYHANE_FLAGS = ("--clip-outputs=-1.1,1", "--drop-linear-postnet")  # the fixture's clip_outputs range is narrow


@pytest.mark.parametrize("architecture, dims, flags", [("rtvc", RTVC, ()), ("rayhane", RAYHANE, RAYHANE_FLAGS)])
def test_the_imported_model_computes_what_the_tf1_network_computed(tmp_path, capsys, sources, architecture, dims,
                                                                   flags):
    out, stdout = imported(capsys, tmp_path, sources[architecture], architecture, *flags)
    assert "split LSTM kernel" in stdout and "wrote" in stdout  # the plan is shown before the work
    data = tf1.make_inputs(dims, seed=5)
    reference = tf1.reference_outputs(sources[architecture], dims, data)
    got = toolkit_outputs(out, data)
    differences = relative_differences(reference, got)
    assert max(differences.values()) <= TOLERANCE, differences
    for name in OUTPUTS:
        assert got[name].shape == reference[name].shape
        assert np.abs(reference[name]).max() > 0.05, name  # not a comparison of zeros
    if dims.clip:
        assert (reference["mel_post"] == dims.clip[1]).any() and (reference["mel_post"] > dims.clip[0]).any()


def test_a_misread_convention_would_show(tmp_path, capsys, sources):
    """The comparison is sharp: the same network with batch norm after the activation is far off."""
    out, _ = imported(capsys, tmp_path, sources["rtvc"], "rtvc", "--batch-norm", "after")
    data = tf1.make_inputs(RTVC, seed=5)
    differences = relative_differences(tf1.reference_outputs(sources["rtvc"], RTVC, data), toolkit_outputs(out, data))
    assert differences["mel"] > 1e-2


def test_every_tensor_is_accounted_for_and_adam_follows_its_weight(tmp_path, capsys, sources):
    from tts_adapt.checkpoint.own import adam_slots, restore_checkpoint
    from tts_adapt.importing.tensors import keras_gate_order
    from tts_adapt.model.loading import load_model

    out, _ = imported(capsys, tmp_path, sources["rtvc"], "rtvc")
    manifest = read_manifest(out)
    reader = tf.train.load_checkpoint(sources["rtvc"])
    source_keys = set(reader.get_variable_to_shape_map())
    record = manifest.extra["imported"]  # the import's own section, kept as the manifest's extra keys
    assert {t["key"] for t in record["tensors"]} == source_keys and len(record["tensors"]) == len(source_keys)
    assert record["architecture"] == "rtvc" and record["source_step"] == 2
    source_dir = Path(sources["rtvc"]).parent
    assert len(record["source"]["files"]) == 2  # the index and one data file
    for name, digest in record["source"]["files"].items():
        assert hashlib.sha256((source_dir / name).read_bytes()).hexdigest() == digest
    assert list(manifest.symbols) == tf1.RTVC_SYMBOLS and manifest.speakers == ()
    assert manifest.model["speaker_input"] == "vector" and manifest.model["reduction"] == RTVC.r
    assert len(manifest.layout["sites"]) == 4 and manifest.layout["speaker_dim"] == RTVC.speaker

    import keras

    model = load_model(out).model
    optimizer = keras.optimizers.Adam()
    assert restore_checkpoint(out, model, optimizer).optimizer_restored
    assert int(optimizer.iterations.numpy()) == 2
    cell = f"{tf1.SCOPE}/decoder/decoder_LSTM/multi_rnn_cell/cell_0/decoder_LSTM_1"
    variables = {v.path: v for v in model.variables}
    kernel, bias = variables["tacotron/decoder/lstm_0/kernel"], variables["tacotron/decoder/lstm_0/bias"]
    rows = kernel.shape[0]
    np.testing.assert_array_equal(adam_slots(optimizer, kernel)["m"].numpy(),
                                  keras_gate_order(reader.get_tensor(f"{cell}/kernel/Adam")[:rows]))
    np.testing.assert_array_equal(adam_slots(optimizer, bias)["v"].numpy(),
                                  keras_gate_order(reader.get_tensor(f"{cell}/bias/Adam_1")))  # no forget bias
    units = bias.shape[0] // 4
    np.testing.assert_allclose(bias.numpy()[units:2 * units],
                               np.split(reader.get_tensor(f"{cell}/bias"), 4)[2] + 1.0, rtol=1e-6)


def test_optimizer_reset_writes_weights_only(tmp_path, capsys, sources):
    out, stdout = imported(capsys, tmp_path, sources["rayhane"], "rayhane", "--optimizer", "reset", *RAYHANE_FLAGS,
                           "--format", "json")
    keys = tf.train.load_checkpoint(str(out)).get_variable_to_shape_map()
    assert not [k for k in keys if "OPTIMIZER_SLOT" in k or k.startswith("optimizer/")]
    actions = {t["action"] for t in read_manifest(out).extra["imported"]["tensors"]}
    assert "dropped" in actions and "Adam slot" not in actions
    report = read_report(stdout)
    assert not report.dry_run and report.checkpoint == str(out / "ckpt-0") and report.seconds > 0
    assert report.summary == report.plan.summary and report.summary.by_action["dropped"] > 0


def test_dry_run_writes_nothing_and_its_json_plan_lists_every_tensor(tmp_path, capsys, sources):
    code, stdout, _ = import_cli(capsys, sources["rtvc"], tmp_path / "out", "rtvc", "--dry-run", "--format", "json")
    assert code == 0 and not (tmp_path / "out").exists()
    report = read_report(stdout)
    assert report.dry_run and report.checkpoint is None and report.summary is None
    assert "checkpoint" not in json.loads(stdout)  # a dry run writes none: the key is left out, as before
    plan = report.plan
    keys = set(tf.train.load_checkpoint(sources["rtvc"]).get_variable_to_shape_map())
    assert {t.key for t in plan.tensors} == keys and plan.summary.source_tensors == len(keys)
    assert [n.variable for n in plan.new] == ["tacotron/decoder/context_bias"]


def read_report(stdout: str):
    """``import --format json`` as a script reads it: through its one reader, every key checked."""
    from tts_adapt.importing.convert import ImportReport

    report = ImportReport.from_json(json.loads(stdout), "import --format json")
    assert report.to_json() == json.loads(stdout)  # nothing printed that the reader drops
    return report


def rewritten(source: str, directory, drop: str | None = None, change: dict | None = None) -> str:
    """A copy of a TF1 checkpoint without the variable ``drop`` (and its slots) and with ``change``
    (key -> array), written by SaveV2."""
    reader = tf.train.load_checkpoint(source)
    dropped = {drop, f"{drop}/Adam", f"{drop}/Adam_1"}
    tensors = {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map() if k not in dropped}
    tensors.update(change or {})
    directory.mkdir()
    prefix = str(directory / "model.ckpt-1")
    keys = sorted(tensors)
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=keys, shape_and_slices=[""] * len(keys),
                      tensors=[tf.constant(tensors[k]) for k in keys])
    return prefix


ATTENTION_BIAS = f"{tf1.SCOPE}/decoder/Location_Sensitive_Attention/attention_bias"


@pytest.mark.parametrize("case, expected", [
    ("other_architecture", "not a single-speaker rayhane checkpoint"),
    ("missing", "lacks"),
    ("wrong_shape", "wrong shape"),
    ("stray_variable", "no place"),
    ("symbols", "has 3 symbols but inputs_embedding has"),
    ("own_checkpoint", "import reads the TF1 Saver checkpoints"),
    ("not_adam", "not Adam's"),
    ("linear_postnet", "--drop-linear-postnet leaves them out"),
])
def test_bad_input_is_refused_in_one_line_and_nothing_is_written(tmp_path, capsys, sources, case, expected):
    source, architecture, extra = sources["rtvc"], "rtvc", []
    if case == "other_architecture":
        architecture = "rayhane"
    elif case == "missing":
        source = rewritten(source, tmp_path / "src", drop=ATTENTION_BIAS)
    elif case == "wrong_shape":
        wrong = np.zeros([RTVC.attention + 1], np.float32)
        keys = (ATTENTION_BIAS, f"{ATTENTION_BIAS}/Adam", f"{ATTENTION_BIAS}/Adam_1")
        source = rewritten(source, tmp_path / "src", change={k: wrong for k in keys})
    elif case == "stray_variable":
        source = rewritten(source, tmp_path / "src", change={f"{tf1.SCOPE}/CBHG_postnet/proj1/kernel": np.ones([2])})
    elif case == "symbols":
        extra = ["--source-symbols", write_table(tmp_path / "symbols.txt", ["a", "b", "c"])]
    elif case == "own_checkpoint":
        source, _ = imported(capsys, tmp_path, source, "rtvc")
    elif case == "linear_postnet":
        source, architecture = sources["rayhane"], "rayhane"
    elif case == "not_adam":
        source = rewritten(source, tmp_path / "src", change={f"{ATTENTION_BIAS}/Momentum": np.zeros([RTVC.attention])})
    out = tmp_path / "out"
    code, stdout, stderr = import_cli(capsys, source, out, architecture, *extra)
    assert code == 2 and stdout == "" and not out.exists(), stderr
    assert stderr.startswith("tts-adapt import: error:") and len(stderr.strip().splitlines()) == 1
    assert expected in stderr


def test_a_table_the_right_length_is_taken(tmp_path, capsys, sources):
    symbols = [f"s{i}" for i in range(RTVC.n_symbols)]
    out, _ = imported(capsys, tmp_path, sources["rtvc"], "rtvc", "--source-symbols",
                      write_table(tmp_path / "t.txt", symbols), "--cleaners", "basic")
    manifest = read_manifest(out)
    assert list(manifest.symbols) == symbols and manifest.cleaners == ("basic",)


@pytest.mark.slow
def test_a_full_size_rtvc_checkpoint_imports_as_the_same_network(tmp_path, capsys):
    """RTVC's own dimensions (512-d embedding and convolutions, 2 x 1024 decoder LSTMs, 256-d speaker vector)."""
    dims = dataclasses.replace(tf1.RTVC_FULL)
    source = tf1.make_checkpoint(tmp_path / "rtvc", dims, adam_steps=1)
    out, _ = imported(capsys, tmp_path, source, "rtvc")
    data = tf1.make_inputs(dims, seed=5, time=16, steps=6)
    differences = relative_differences(tf1.reference_outputs(source, dims, data), toolkit_outputs(out, data))
    assert max(differences.values()) <= TOLERANCE, differences
