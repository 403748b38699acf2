"""The held-out sentences: each one's recording beside what the model says before and after fine-tuning.

The audio is copied next to the page (``samples/<id>.<model>.wav``) so the folder plays anywhere; the
pictures (attention, mels) are inline.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np

from tts_adapt.errors import UserError
from tts_adapt.htmlpage import esc, figure_image, image, note

MODELS = (("reference", "the recording (never trained on)"), ("before", "adapted, before fine-tuning"),
          ("after", "after fine-tuning"))
STYLE = """
.sample { border: 1px solid #e3e3e3; border-radius: 6px; padding: 0.6rem 1rem; margin: 1rem 0; }
.players { display: grid; grid-template-columns: repeat(auto-fit, minmax(15rem, 1fr)); gap: 0.6rem; }
.players figure { margin: 0; } .players audio { width: 100%; }
"""


def samples_section(exp: Path, out: Path) -> str:
    """Each sentence of ``samples/texts.csv``, its files found by the names ``evaluate --samples`` gave them:
    the line's id made a safe file name, else the line's number (``001``)."""
    from tts_adapt.evaluation.texts import file_stems, read_texts

    folder = exp / "samples"
    listing = folder / "texts.csv"
    if not listing.is_file():
        return note("not yet: the samples stage has not run")
    try:
        sentences = read_texts(listing)
        stems = file_stems(sentences)
    except UserError as exc:
        return note(f"no sentences to show: {exc}")
    (out / "samples").mkdir()
    return "".join(_sample(exp, out, stem, sentence.text, sentence.label) for sentence, stem in zip(sentences, stems))


def _sample(exp: Path, out: Path, uid: str, text: str, given_id: str | None = None) -> str:
    players, pictures, mels = [], [], []
    for model, label in MODELS:
        wav = exp / "samples" / model / f"{uid}.wav"
        if model == "reference" and not wav.is_file() and given_id and Path(given_id).name == given_id != "..":
            wav = wav.with_name(f"{given_id}.wav")  # a recording keeps the file name it was given
        if wav.is_file():
            copied = out / "samples" / f"{uid}.{model}.wav"
            shutil.copyfile(wav, copied)
            players.append(f'<figure><figcaption>{esc(label)}</figcaption><audio controls preload="metadata" '
                           f'src="samples/{esc(copied.name)}" aria-label="{esc(label)}: {esc(text)}"></audio></figure>')
        else:
            players.append(f"<figure><figcaption>{esc(label)}</figcaption>{note('no audio')}</figure>")
        alignment = exp / "samples" / model / f"{uid}.png"
        if alignment.is_file():
            pictures.append(f"<figure>{image(alignment.read_bytes(), f'Attention alignment, {label}: {text}')}"
                            f"<figcaption>attention, {esc(label)}</figcaption></figure>")
        mel = _mel(exp, model, uid, wav)
        if mel is not None:
            mels.append((label, mel))
    if mels:
        pictures.append(f"<figure>{_mel_figure(mels, text)}<figcaption>mel spectrograms</figcaption></figure>")
    return (f'<section class="sample"><h3>“{esc(text)}”</h3><p class="meta"><code>{esc(uid)}</code></p>'
            f'<div class="players">{"".join(players)}</div>{"".join(pictures)}</section>')


def _mel(exp: Path, model: str, uid: str, wav: Path) -> np.ndarray | None:
    """The model's mel as synthesize saved it; the recording's computed the way the model's features were."""
    saved = exp / "samples" / model / f"{uid}.npy"
    if saved.is_file():
        return _saved_mel(saved)
    if model != "reference" or not wav.is_file():
        return None
    from tts_adapt.audio.features import wav_to_mel
    from tts_adapt.audio.io import load_audio
    from tts_adapt.manifest import read_manifest

    try:
        manifest = read_manifest(exp / "adapted")
        if manifest is None or manifest.audio is None:
            return None
        return wav_to_mel(load_audio(wav, manifest.audio), manifest.audio)
    except UserError as exc:  # e.g. a silent file, a damaged manifest: the page shows the other mels
        print(f"no mel for {wav}: {exc}", file=sys.stderr)
        return None


def _saved_mel(path: Path) -> np.ndarray | None:
    """A saved mel [frames, n_mels]; a damaged or misshapen file is left out of the picture, and said."""
    try:
        mel = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        print(f"no mel from {path}: {str(exc)[:80]}", file=sys.stderr)
        return None
    if mel.ndim != 2 or 0 in mel.shape or not np.issubdtype(mel.dtype, np.number) or not np.isfinite(mel).all():
        print(f"no mel from {path}: expected finite numbers [frames, n_mels], got {mel.dtype} {mel.shape}",
              file=sys.stderr)
        return None
    return mel


def _mel_figure(mels: list[tuple[str, np.ndarray]], text: str) -> str:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4 * len(mels), 2.6))
    low = min(float(np.min(mel)) for _, mel in mels)
    high = max(float(np.max(mel)) for _, mel in mels)  # one colour scale: the panels compare
    axes = figure.subplots(1, len(mels), squeeze=False)[0]
    for ax, (title, mel) in zip(axes, mels):
        ax.imshow(mel.T, origin="lower", aspect="auto", interpolation="none", cmap="magma", vmin=low, vmax=high)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("frame")
    axes[0].set_ylabel("mel band")
    figure.tight_layout()
    names = ", ".join(title for title, _ in mels)
    return figure_image(figure, f"Mel spectrograms ({names}) of: {text}")
