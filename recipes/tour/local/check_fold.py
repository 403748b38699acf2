"""Stage 4 of the tour: the adapted TF1 checkpoint computes what the multi-speaker one computed
for the folded speaker (same text, each through its own symbol table)."""

import json
import sys
from pathlib import Path

import numpy as np

from tts_adapt.manifest import read_manifest
from tts_adapt.tfquiet import import_tensorflow_quietly

import_tensorflow_quietly()
from tts_adapt.testing import tiny_tacotron as tiny  # noqa: E402

exp = Path(sys.argv[1])
manifest = read_manifest(exp / "adapted")
speaker = manifest.folded_speaker["id"]
old, new = manifest.adaptation["source_symbols"], list(manifest.symbols)
text = "hello world?"  # symbols of both tables
import tensorflow as tf  # noqa: E402

src = tiny.load_weights(tf.train.latest_checkpoint(str(exp / "data" / "multi")))
out = tiny.load_weights(tf.train.latest_checkpoint(str(exp / "adapted")))
prenet = np.random.default_rng(0).standard_normal((1, tiny.STEPS, tiny.PRENET)).astype(np.float32)
a = tiny.forward(src, np.array([[old.index(c) for c in text]]), np.array([speaker]), prenet).numpy()
b = tiny.forward(out, np.array([[new.index(c) for c in text]]), None, prenet).numpy()
diff = float(np.abs(a - b).max())
print(json.dumps({"speaker": speaker, "max_abs_diff": diff, "ok": diff <= 1e-5}))
sys.exit(0 if diff <= 1e-5 else 1)
