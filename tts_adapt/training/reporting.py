"""What a run leaves for people and plots: metrics.csv, TensorBoard summaries, a progress display."""

from __future__ import annotations

import csv
import io
import math
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

from tts_adapt.audio.config import AudioConfig

METRIC_COLUMNS = (
    "step", "lr", "attention_weight", "steps_per_s", "loss", "mel_loss", "post_loss", "stop_loss",
    "attention_loss", "grad_norm", "val_loss", "val_mel_loss", "val_post_loss", "val_stop_loss",
    "val_attention_loss", "val_focus", "fr_focus", "fr_monotonicity", "fr_coverage", "fr_reached_end",
    "fr_length_ratio", "fr_stop_fired",
)


# The series of metrics.csv a person reads as curves, by column, with the words a chart shows for each.
LOSS_SERIES = {"loss": "training loss", "val_loss": "validation loss"}
LOSS_PART_SERIES = {"mel_loss": "mel before the post-net", "post_loss": "mel after the post-net",
                    "stop_loss": "stop token", "attention_loss": "attention guide"}
FOCUS_SERIES = {"val_focus": "validation (teacher-forced)", "fr_focus": "free-running"}


def read_metrics(path: Path, columns: tuple[str, ...]) -> dict[str, list[tuple[int, float]]]:
    """``{column: [(step, value), ...]}`` of a run's metrics.csv, rows without a value left out."""
    unknown = set(columns) - set(METRIC_COLUMNS)
    if unknown:
        raise ValueError(f"metrics.csv has no column {sorted(unknown)[0]}")
    series: dict[str, list[tuple[int, float]]] = {column: [] for column in columns}
    for row in whole_rows(path):
        for column in columns:
            value = _number(row.get(column))
            if value is not None:
                series[column].append((int(row["step"]), value))
    return {column: points for column, points in series.items() if points}


_STEP = re.compile(r"[0-9]{1,18}")  # ASCII digits only: '²'.isdigit() is True, and int('²') fails


def whole_rows(path: Path, up_to_step: int | None = None) -> list[dict[str, str]]:
    """The rows of a run's metrics.csv that are whole (a step in digits, every column, no damaged byte),
    up to ``up_to_step``.

    Why: the file is a log the run appends to; a full disk or a kill can cut its last row short,
    and a damaged byte anywhere must not stop a rerun, only drop that row.
    """
    text = path.read_bytes().decode("utf-8", errors="replace")
    rows = []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            whole = None not in row and None not in row.values() and "\ufffd" not in "".join(row.values())
            if whole and _STEP.fullmatch(row.get("step") or "") and (up_to_step is None
                                                                     or int(row["step"]) <= up_to_step):
                rows.append(row)
    except csv.Error:  # a NUL byte or a broken quote: keep what came before it
        pass
    return rows


def _number(cell: str | None) -> float | None:
    try:
        value = float(cell) if cell else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


class MetricsLog:
    """Appends rows to ``metrics.csv`` (fixed columns, blanks where a row has no value); a resumed run continues it.

    Rows past the step the run resumes from were logged by steps whose weights were lost (the
    process was killed before its next checkpoint); they are dropped, so no step appears twice.
    """

    def __init__(self, path: Path, resume_step: int = 0) -> None:
        self.path = path
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", newline="", encoding="utf-8") as handle:
                csv.writer(handle).writerow(METRIC_COLUMNS)
            return
        from tts_adapt.fsutil import atomic_file

        kept = whole_rows(path, resume_step)
        with atomic_file(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, METRIC_COLUMNS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(kept)

    def write(self, row: dict[str, Any]) -> None:
        def cell(key: str) -> str:
            value = row.get(key)
            if value is None or (isinstance(value, float) and math.isnan(value)):
                return ""
            return f"{value:.6g}" if isinstance(value, float) else str(value)

        with self.path.open("a", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerow([cell(k) for k in METRIC_COLUMNS])


def colour_image(values: np.ndarray, flip: bool = False) -> np.ndarray:
    """A [1, height, width, 3] uint8 viridis image of a 2-D array (rows become image rows)."""
    from matplotlib import colormaps

    values = np.asarray(values, dtype=np.float64)
    span = values.max() - values.min()
    unit = (values - values.min()) / span if span > 0 else np.zeros_like(values)
    if flip:
        unit = unit[::-1]
    return (colormaps["viridis"](unit)[None, :, :, :3] * 255).astype(np.uint8)


class TensorBoardLog:
    """Scalars every log step; alignment and mel images and free-running audio at validation (``EXPDIR/logs``)."""

    def __init__(self, directory: Path) -> None:
        import importlib.util

        import tensorflow as tf

        self._tf = tf
        # tf.summary needs the tensorboard package; without it, metrics.csv still has every number
        self.enabled = importlib.util.find_spec("tensorboard") is not None
        self.writer = tf.summary.create_file_writer(str(directory)) if self.enabled else None

    def __enter__(self) -> "TensorBoardLog":
        return self

    def __exit__(self, *exc) -> None:
        if self.writer is not None:
            self.writer.close()

    def scalars(self, step: int, values: dict[str, Any], prefix: str) -> None:
        if self.writer is None:
            return
        with self.writer.as_default(step=step):
            for key, value in values.items():
                if key != "step" and isinstance(value, (int, float)) and not math.isnan(value):
                    self._tf.summary.scalar(f"{prefix}/{key}", value)

    def images(self, step: int, images: dict[str, np.ndarray]) -> None:
        if self.writer is None:
            return
        with self.writer.as_default(step=step):
            for name, values in images.items():
                if name.startswith("mel"):
                    self._tf.summary.image(f"mel/{name}", colour_image(values.T, flip=True))
                else:  # alignment [steps, symbols]: symbols up the y axis, time along x
                    self._tf.summary.image(f"attention/{name}", colour_image(values.T, flip=True))
        self.writer.flush()


    def audio(self, step: int, name: str, mel: np.ndarray | None, audio: AudioConfig | None) -> None:
        """The mel as sound (Griffin-Lim), so a person can listen to what the model says at this step."""
        if self.writer is None or mel is None or audio is None or mel.shape[0] < 2:
            return
        from tts_adapt.audio.features import mel_to_wav

        wav = mel_to_wav(mel, audio)
        with self.writer.as_default(step=step):
            self._tf.summary.audio(f"audio/{name}", wav[None, :, None], audio.sample_rate)
        self.writer.flush()


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


class Reporter:
    """Progress for people: a rich bar on a terminal, plain lines otherwise (logs, CI), nothing if disabled."""

    def __init__(self, enabled: bool = True, stream=None) -> None:
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self._progress = None
        self._task = None
        self._target = 0

    def start(self, step: int, target: int) -> None:
        self._target = target
        if not self.enabled:
            return
        from rich.console import Console

        console = Console(file=self.stream)
        if console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(TextColumn("[bold]training"), BarColumn(), MofNCompleteColumn(),
                                      TextColumn("{task.fields[status]}"), TimeRemainingColumn(), console=console)
            self._progress.start()
            self._task = self._progress.add_task("train", total=target, completed=step, status="tracing the step...")
        else:
            self._print(f"training from step {step} to {target}")

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def note(self, text: str) -> None:
        """A line said once before the steps start (where they run, what the batch means)."""
        if self.enabled:
            self._print(text)

    def update(self, step: int, parts: dict[str, float], speed: float) -> None:
        if not self.enabled:
            return
        status = f"loss {parts['loss']:.3f} (mel {parts['post_loss']:.3f}, att {parts['attention_loss']:.3f})"
        if not math.isnan(speed):
            status += f"  {speed:.2f} steps/s"
        if self._progress is not None:
            self._progress.update(self._task, completed=step, status=status)
        else:  # a log or a recipe's console: say where it stands and how long is left
            left = (self._target - step) / speed if speed and not math.isnan(speed) else None
            self._print(f"step {step}/{self._target}: {status}" + (f", {_duration(left)} left" if left else ""))

    def validation(self, step: int, metrics: dict[str, float]) -> None:
        if not self.enabled or not metrics:
            return
        text = (f"step {step} validation: loss {metrics.get('val_loss', float('nan')):.3f}, "
                f"focus {metrics.get('val_focus', float('nan')):.2f}; free-running focus "
                f"{metrics.get('fr_focus', float('nan')):.2f}, "
                f"coverage {metrics.get('fr_coverage', float('nan')):.2f}, "
                f"length ratio {metrics.get('fr_length_ratio', float('nan')):.2f}")
        if self._progress is not None:
            self._progress.console.print(text)
        else:
            self._print(text)

    def __enter__(self) -> "Reporter":
        return self

    def __exit__(self, *exc) -> None:
        """Give the terminal back whatever happened (an error must not leave a live progress bar)."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def finish(self, step: int, prefix: str, interrupted: bool) -> None:
        if not self.enabled:
            return
        self.__exit__()
        self._print(f"{'interrupted; ' if interrupted else ''}saved {prefix} (step {step})")
