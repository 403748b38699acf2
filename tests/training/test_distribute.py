"""tf.distribute: two replicas compute what one device computes, and two worker processes train together.

Both run in child processes (logical devices and a multi-worker cluster must be set up
before TensorFlow starts), on a tiny model with dropout off so that every run computes
the same function and only the arithmetic's order may differ.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.tiny_model import make_prepared

HERE = Path(__file__).parent
LOSSES = ("loss", "mel_loss", "post_loss", "stop_loss", "attention_loss", "grad_norm")
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": os.pathsep.join(sys.path)}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    return make_prepared(tmp_path_factory.mktemp("distribute") / "data")


@pytest.fixture(scope="module")
def no_dropout(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("config") / "experiment.yaml"
    path.write_text(yaml.safe_dump({"model": {"preset": "tiny", "dropout": 0.0, "prenet_dropout": 0.0}}))
    return path


def losses(run_dir: Path) -> dict[int, np.ndarray]:
    with open(run_dir / "metrics.csv", newline="") as handle:
        return {int(r["step"]): np.array([float(r[k]) for k in LOSSES]) for r in csv.DictReader(handle) if r["loss"]}


def test_distributed_mirrored_steps_match_one_device_and_resume_either_way(prepared, no_dropout, tmp_path):
    done = subprocess.run([sys.executable, str(HERE / "distributed_worker.py"), str(prepared), str(tmp_path),
                           str(no_dropout)], capture_output=True, text=True, env=ENV, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "mirrored_then_one: mirrored with 2 replicas to step 3" in done.stdout, done.stdout
    one, mirrored_first, one_first = (losses(tmp_path / n) for n in
                                      ("one_device", "mirrored_then_one", "one_then_mirrored"))
    assert sorted(one) == sorted(mirrored_first) == sorted(one_first) == [1, 2, 3, 4, 5]
    for step in (1, 2, 3):  # the same global batches from the same weights: two replicas == one device
        np.testing.assert_allclose(mirrored_first[step], one[step], rtol=2e-4, atol=1e-6)
    for step in (4, 5):  # resumed from a mirrored checkpoint on one device, and the reverse: the same steps
        np.testing.assert_allclose(mirrored_first[step], one_first[step], rtol=2e-4, atol=1e-6)
    assert not np.allclose(one[2], one[1])  # the steps did change the model


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def test_distributed_two_workers_train_together_and_the_chief_checkpoint_restores_on_one_device(
        prepared, tmp_path):
    from tts_adapt.model.loading import load_model

    output, scratch = tmp_path / "exp", tmp_path / "scratch"
    scratch.mkdir()
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    command = [sys.executable, "-m", "tts_adapt", "train", "--data", str(prepared), "--output", str(output),
               "--preset", "tiny", "--steps", "3", "--batch-size", "4", "--val-every", "1000",
               "--strategy", "multi-worker"]
    workers = []
    try:
        for index in range(2):
            env = {**ENV, "TMPDIR": str(scratch),
                   "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})}
            workers.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                            env=env))
        deadline = time.monotonic() + 300
        results = [w.communicate(timeout=max(1.0, deadline - time.monotonic())) for w in workers]
    finally:
        for worker in workers:  # always reaped, also on a timeout or a failed assertion
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
    for worker, (out, err) in zip(workers, results):
        assert worker.returncode == 0, err[-3000:]
    assert "2 replicas on 2 workers (this is worker 0, the chief)" in results[0][1]  # the chief's log says so
    assert sorted(p.name for p in output.glob("ckpt-*.index")) == ["ckpt-3.index"]  # written once, by the chief
    assert list(scratch.iterdir()) == []  # the other worker cleaned its scratch output
    loaded = load_model(output)  # restores on one device
    model = loaded.model
    assert loaded.manifest.step == 3 and model.n_speakers == 2
    resumed = subprocess.run([sys.executable, "-m", "tts_adapt", "train", "--data", str(prepared), "--output",
                              str(output), "--steps", "5", "--val-every", "1000"], capture_output=True, text=True,
                             env=ENV, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert (output / "ckpt-5.index").is_file()


@pytest.mark.parametrize("tf_config, says", [
    (None, "needs TF_CONFIG"),
    ("{not json", "TF_CONFIG: not valid JSON"),
    ("[" * 100_000, "TF_CONFIG: not valid JSON"),
    ('{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": 3}}', "is not in the cluster"),
    ('{"cluster": {"worker": ["127.0.0.1:1"]}}', "'task' must be"),
    ("3", "'cluster' must map"),
    ('{"cluster": 3, "task": {"type": "worker", "index": 0}}', "'cluster' must map"),
    ('{"cluster": {"worker": "h:1"}, "task": {"type": "worker", "index": 0}}', "'cluster' must map"),
    ('{"cluster": {"worker": [1]}, "task": {"type": "worker", "index": 0}}', "'cluster' must map"),
    ('{"cluster": {"ps": ["h:1"], "worker": ["h:2"]}, "task": {"type": "worker", "index": 0}}', "'cluster' must map"),
    ('{"cluster": {"chief": ["h:1", "h:2"]}, "task": {"type": "chief", "index": 0}}', "'cluster' must map"),
    ('{"cluster": {"worker": ["h:1"]}, "task": {"type": "worker", "index": "0"}}', "'task' must be"),
    ('{"cluster": {"worker": ["h:1"]}, "task": {"type": "worker", "index": -1}}', "'task' must be"),
    ('{"cluster": {"worker": ["h:1"]}, "task": 7}', "'task' must be"),
])
def test_distribute_multi_worker_without_a_usable_tf_config_is_one_clear_line(monkeypatch, tf_config, says):
    from tts_adapt.errors import UserError
    from tts_adapt.training.distribute import place

    if tf_config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", tf_config)
    with pytest.raises(UserError, match=says.replace("{", r"\{").replace("(", r"\(")) as caught:
        place("multi-worker")
    assert "\n" not in str(caught.value)


def test_distribute_default_placement_writes_to_the_output_and_says_one_device(tmp_path):
    from tts_adapt.training.distribute import place

    placement = place("default")
    assert placement.chief and placement.replicas == 1 and placement.output(tmp_path) == tmp_path
    assert placement.agree(True) and not placement.agree(False)
    assert placement.describe(32) == "strategy default: one device, batch 32"
