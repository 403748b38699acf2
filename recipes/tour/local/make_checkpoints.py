"""Stage 0 of the tour: a small TF1 multi-speaker checkpoint (trained a few Adam steps), its
symbol table, the new voice's table, and a single-speaker checkpoint to diff against."""

import sys
from pathlib import Path

from tts_adapt.tfquiet import import_tensorflow_quietly

import_tensorflow_quietly()
from tts_adapt.testing import tiny_tacotron as tiny  # noqa: E402

out = Path(sys.argv[1])
(out / "multi").mkdir(parents=True, exist_ok=True)
(out / "single").mkdir(parents=True, exist_ok=True)
old = list("abcdefghijklmnopqrstuvwxyz ',.?")
new = list(" abcdefghijklmnopqrstuvwxyzéü'-!?.")
tiny.make_tf1_checkpoint(out / "multi", len(old), n_speakers=4, steps=20)
tiny.make_tf1_checkpoint(out / "single", len(new), n_speakers=0, steps=1)
(out / "old_symbols.txt").write_text("".join(s + "\n" for s in old), encoding="utf-8")
(out / "new_symbols.txt").write_text("".join(s + "\n" for s in new), encoding="utf-8")
print(f"wrote {out}/multi (TF1, 4 speakers, {len(old)} symbols) and {out}/single")
