"""Stage 0 of from_tf1: a TF1 checkpoint as Real-Time-Voice-Cloning's synthesizer saves one (its variable
names, a Saver, Adam's slots), at a size that trains in seconds, and a speaker vector for it.

No real RTVC checkpoint can be downloaded here; give yours to run.sh with --source instead.
"""

import sys
from pathlib import Path

import numpy as np

from tts_adapt.tfquiet import import_tensorflow_quietly

import_tensorflow_quietly()
from tts_adapt.testing import tf1_tacotron2 as tf1  # noqa: E402

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
# RTVC's layout at a small width; 80 mels, so a voice prepared with RTVC's audio settings fine-tunes it
dims = tf1.Dims(embed=64, enc_channels=64, enc_units=32, speaker=16, attention=32, att_filters=8, att_kernel=15,
                prenet=(64, 64), dec_units=128, postnet_channels=64, n_mels=80, r=2)
prefix = tf1.make_checkpoint(out, dims, seed=0, adam_steps=3)
vector = np.random.default_rng(0).normal(0, 1, dims.speaker).astype(np.float32)
np.save(out / "speaker.npy", vector / np.linalg.norm(vector))  # RTVC's embeddings have unit length
print(f"wrote {prefix} (TF1, RTVC names, {dims.speaker}-d speaker vector input) and {out}/speaker.npy")
