"""A whole voice adaptation in seconds: the recipe's stages run by the real commands on a tiny model.

Each stage writes what a voice recipe writes into ``exp/<voice>/`` (prepare, symbols compare,
suggest-speaker, adapt, verify, finetune, synthesize, evaluate), so the report, and the pages a user
opens, are built from documents the commands really print.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import numpy as np
import soundfile as sf
from tests.tiny_checkpoints import make_source, save_model, write_table

from tts_adapt.cli.main import main

VOICE_SYMBOLS = ["b", "a", "c", "d", "e", "f", "g", "i", "j", " ", "x"]  # moved, kept, added (x), removed (h)
RECORDINGS = {"v01": "bad cab", "v02": "a jab", "v03": "fed a deaf bee", "v04": "dig a hedge", "v05": "cage",
              "v06": "bead", "v07": "a big cab", "v08": "fade"}  # "dig a hedge": h is not the voice's, skipped
HELD_OUT = {"h01": "a bad bee", "h02": "jade cab"}
SAMPLE_RATE = 16000


def run(*args, output: Path | None = None) -> None:
    """One command in this process; its stdout (a --format json document) into ``output``."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main([str(a) for a in args])
    assert code == 0, f"tts-adapt {' '.join(map(str, args))} exited {code}"
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(printed.getvalue(), encoding="utf-8")


def write_recordings(folder: Path, texts: dict[str, str], seed: int) -> Path:
    """A voice-like tone per text (a length that grows with the text), and its LJSpeech-form metadata."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    for uid, text in texts.items():
        seconds = 0.5 + 0.07 * len(text)
        t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
        pitch = 140 + 40 * rng.random()
        voice = sum(np.sin(2 * np.pi * pitch * k * t) / k for k in range(1, 6)) * np.hanning(len(t))
        sf.write(folder / f"{uid}.wav", (0.2 * voice).astype(np.float32), SAMPLE_RATE, subtype="PCM_16")
    metadata = folder.parent / f"{folder.name}.csv"
    metadata.write_text("".join(f"{uid}|{text}|{text}\n" for uid, text in texts.items()), encoding="utf-8")
    return metadata


def make_pretrained(folder: Path) -> None:
    """A tiny three-speaker model whose stop token never fires (its samples last the length guard, 0.75 s, long
    enough to hear), rendered by a quick Griffin-Lim."""
    from dataclasses import replace

    from tts_adapt.manifest import read_manifest, write_manifest

    model = make_source(folder, seed=3, frame_independent=True)
    model.decoder.stop_projection.bias.assign(np.full([model.config.reduction], -50.0, np.float32))
    save_model(folder, model)
    manifest = read_manifest(folder)
    write_manifest(folder, manifest.replace(audio=replace(manifest.audio, griffin_lim_iters=4)))


def make_tiny_run(root: Path) -> Path:
    """``root/exp/voice``, every stage of a voice recipe done; returns that folder."""
    pretrained = root / "pretrained"
    make_pretrained(pretrained)
    table = write_table(root / "voice_symbols.txt", VOICE_SYMBOLS)
    metadata = write_recordings(root / "wavs", RECORDINGS, seed=0)
    heldout = write_recordings(root / "heldout", HELD_OUT, seed=1)
    exp = root / "exp" / "voice"
    like = ["--like", pretrained, "--symbols", table, "--speaker", "voice"]
    run("prepare", "--metadata", metadata, "--wavs", root / "wavs", "--output", exp / "prepared", *like,
        "--val-fraction", "0.25")
    run("prepare", "--metadata", heldout, "--wavs", root / "heldout", "--output", exp / "prepared_heldout", *like,
        "--min-seconds", "0", "--max-seconds", "60")
    (exp / "symbols").mkdir()
    for form in ("json", "html"):
        run("symbols", "compare", pretrained, table, "--transcripts", metadata, "--format", form,
            "--output", exp / "symbols" / f"compare.{form}")
    run("suggest-speaker", pretrained, "--data", exp / "prepared", "--format", "json",
        output=exp / "suggest" / "speakers.json")
    surgery = [pretrained, "--output", exp / "adapted", "--symbols", table, "--fold-speaker", "auto",
               "--data", exp / "prepared"]
    run("adapt", *surgery, "--dry-run", "--format", "json", output=exp / "adapt_plan.json")
    run("adapt", *surgery)
    run("verify", pretrained, exp / "adapted", "--format", "json", output=exp / "verify.json")
    run("finetune", exp / "adapted", "--data", exp / "prepared", "--output", exp / "finetune", "--steps", "2",
        "--batch-size", "4", "--val-every", "1")
    samples = exp / "samples"
    (samples / "reference").mkdir(parents=True)
    (samples / "texts.csv").write_text("".join(f"{uid}|{text}\n" for uid, text in HELD_OUT.items()),
                                       encoding="utf-8")
    for uid, text in HELD_OUT.items():
        shutil.copyfile(root / "heldout" / f"{uid}.wav", samples / "reference" / f"{uid}.wav")
        for model, checkpoint in (("before", exp / "adapted"), ("after", exp / "finetune")):
            (samples / model).mkdir(exist_ok=True)
            run("synthesize", checkpoint, f"--text={text}", "--vocoder", "griffin-lim", "--max-seconds", "1",
                "--output", samples / model / f"{uid}.wav", "--mel-output", samples / model / f"{uid}.npy",
                "--alignment-output", samples / model / f"{uid}.png")
    for model, checkpoint in (("before", exp / "adapted"), ("after", exp / "finetune")):
        run("evaluate", checkpoint, "--data", exp / "prepared_heldout", "--max-items", "1", "--split", "all",
            "--vocoder", "griffin-lim",
            "--output", samples / f"evaluate_{model}.html", "--format", "json",
            output=samples / f"evaluate_{model}.json")
    return exp
