"""Text -> mel -> waveform with a trained (or adapted) toolkit model.

Free-running decoding stops at the stop token or at the length guard; the prenet's
dropout stays on, as in Tacotron 2, but its masks are a function of the seed, and
the renderer (a trained vocoder, or Griffin-Lim from a fixed phase) is deterministic, so one
seed always gives the same audio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import numpy as np

from tts_adapt.errors import UserError
from tts_adapt.model.loading import LoadedModel, decoder_step_limit


@dataclass
class Synthesis:
    mel: np.ndarray  # [frames, n_mels], after the postnet, up to the stop frame
    alignment: np.ndarray  # [decoder steps, symbols]
    wav: np.ndarray | None  # float32 at the model's sample rate (None when not rendered)
    sample_rate: int
    stop_fired: bool  # False: the length guard ended decoding
    speaker: str | None
    symbols: list[str]  # the encoded text, one symbol per id

    @property
    def seconds(self) -> float:
        return 0.0 if self.wav is None else self.wav.size / self.sample_rate


def speaker_of(speakers: Sequence[str], value: str | None) -> tuple[int, str | None]:
    """(id, name) of ``value`` (see :mod:`tts_adapt.speakers`) among the model's speakers; the first when None."""
    speakers = list(speakers)
    if not speakers:
        if value is not None:
            raise UserError("this is a single-speaker model; --speaker does not apply")
        return 0, None
    if value is None:
        return 0, speakers[0]
    from tts_adapt.speakers import resolve_speaker

    row = resolve_speaker(value, speakers, len(speakers))
    return row, speakers[row]


def synthesize(loaded: LoadedModel, text: str, speaker: str | None = None, seed: int = 0,
               max_seconds: float | None = None,
               render: Callable[[np.ndarray], np.ndarray] | None = None,
               speaker_vector: np.ndarray | None = None) -> Synthesis:
    """Decode ``text`` free-running; ``render`` (mel [frames, n_mels] -> waveform) makes the audio, if given.
    ``speaker_vector`` [speaker_dim] is the voice of a model that reads one (an imported RTVC synthesizer)."""
    from tts_adapt.symbols.frontend import text_to_ids

    model, audio, table = loaded.model, loaded.audio, loaded.table
    ids = text_to_ids(text, table, loaded.cleaners)
    if not ids:
        raise UserError("the text is empty after cleaning")
    speaker_id, speaker_name = speaker_of(loaded.speakers, speaker)
    if model.config.reads_speaker_vector != (speaker_vector is not None):
        raise UserError("this model reads its speaker as a vector; pass --speaker-vector FILE.npy"
                        if speaker_vector is None else "this model reads no speaker vector; drop --speaker-vector")
    r = model.config.reduction
    if max_seconds is not None and max_seconds <= 0:
        raise UserError("--max-seconds must be positive")
    max_steps = decoder_step_limit(
        model.config, max_frames=None if max_seconds is None else max_seconds * audio.sample_rate / audio.hop_length)
    out = model.infer(np.array([ids], np.int32), np.array([len(ids)], np.int32), np.array([speaker_id], np.int32),
                      max_steps=max_steps, seed=seed,
                      speaker_vector=None if speaker_vector is None else np.asarray(speaker_vector, np.float32)[None])
    frames = int(out["mel_len"][0])
    mel = out["mel_post"].numpy()[0, :frames]
    alignment = out["alignment"].numpy()[0, : math.ceil(frames / r)]
    wav = render(mel) if render is not None else None
    return Synthesis(mel, alignment, wav, audio.sample_rate, frames < max_steps * r, speaker_name,
                     [table.symbols[i] for i in ids])


def synthesize_each(loaded: LoadedModel, texts: Sequence[str], speaker: str | None = None, seed: int = 0,
                    max_seconds: float | None = None,
                    render: Callable[[np.ndarray], np.ndarray] | None = None,
                    speaker_vector: np.ndarray | None = None) -> Iterator[Synthesis]:
    """:func:`synthesize` for each text in turn, in this process (TensorFlow and the model load once).

    One at a time, not in a batch: a sentence must sound the same whichever file it is in, and in
    a batch it would not. The prenet's seeded dropout draws one mask of shape [batch, units] per
    step, so row i gets another mask than the same sentence alone; the postnet would see the
    frames a finished sentence keeps decoding while the others run; and a batched matmul rounds
    differently from a single row's. Loading once is what makes many sentences cheap (the
    difference and the time are measured by benchmarks/synthesize_batch.py).
    """
    for text in texts:
        yield synthesize(loaded, text, speaker, seed, max_seconds, render, speaker_vector)


def write_synthesis(result: Synthesis, text: str, wav, mel=None, alignment=None) -> None:
    """One sentence's files (paths or open binary files): 16-bit audio, the mel as .npy, the alignment as PNG;
    the same bytes whichever command wrote them."""
    import soundfile as sf

    sf.write(wav, result.wav, result.sample_rate, subtype="PCM_16", format="WAV")
    if mel:
        with open(mel, "wb") as handle:
            np.save(handle, result.mel)
    if alignment:
        title = f"{text[:60]!r}" + (f" ({result.speaker})" if result.speaker else "")
        plot_alignment(result.alignment, result.symbols, alignment, title)


def plot_alignment(alignment: np.ndarray, symbols: list[str], path, title: str = "") -> None:
    """A heatmap PNG: decoder steps along x, the encoded symbols up the y axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tts_adapt.htmlpage import figure_text

    steps, count = alignment.shape
    fig, ax = plt.subplots(figsize=(max(6.0, steps / 20), max(3.0, count / 6)), dpi=100)
    image = ax.imshow(alignment.T, origin="lower", aspect="auto", interpolation="none", vmin=0.0, vmax=1.0)
    ax.set_xlabel("decoder step")
    ax.set_ylabel("symbol")
    if count <= 80:
        from tts_adapt.symbols.table import escape_symbol

        ax.set_yticks(range(count))
        ax.set_yticklabels(["sp" if s == " " else figure_text(escape_symbol(s)) for s in symbols], fontsize=6)
    if title:  # wrapped to the figure's width: a long sentence would otherwise run off both sides
        import textwrap

        width_chars = int(fig.get_figwidth() * 100 * 0.7 / 6.5)  # the axes are ~70% of the figure; ~6.5 px a character
        ax.set_title(figure_text("\n".join(textwrap.wrap(title, width_chars))), fontsize=9, loc="left")
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
