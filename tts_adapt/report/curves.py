"""The fine-tuning run's curves (its metrics.csv): the loss, its parts, and how sharply attention reads."""

from __future__ import annotations

from pathlib import Path

from tts_adapt.htmlpage import figure_image, note, table
from tts_adapt.training.reporting import FOCUS_SERIES, LOSS_PART_SERIES, LOSS_SERIES, read_metrics

PANELS = (("loss", LOSS_SERIES), ("parts of the training loss", LOSS_PART_SERIES),
          ("attention focus (1 = sharp)", FOCUS_SERIES))


def curves_section(exp: Path) -> str:
    log = exp / "finetune" / "metrics.csv"
    if not log.is_file():
        return note("not yet: the fine-tuning stage has not run")
    panels = [(title, labels, read_metrics(log, tuple(labels))) for title, labels in PANELS]
    panels = [(title, labels, series) for title, labels, series in panels if series]
    if not panels:
        return note("the fine-tuning run has logged no step yet")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5 * len(panels), 3.5))
    for axes, (title, labels, series) in zip(figure.subplots(1, len(panels), squeeze=False)[0], panels):
        for column, points in series.items():
            steps, values = zip(*points)
            axes.plot(steps, values, label=labels[column], linestyle="--" if column.startswith("val_") else "-",
                      marker="." if len(points) < 30 else None)
        axes.set_title(title, fontsize=10)
        axes.set_xlabel("step")
        axes.grid(alpha=0.3)
        axes.legend(fontsize=7)
    figure.tight_layout()
    shown = ", ".join(title for title, _, _ in panels)
    last = [(labels[column], points[-1][0], f"{points[-1][1]:.4f}")
            for _, labels, series in panels for column, points in series.items()]
    return (figure_image(figure, f"Fine-tuning curves over the steps: {shown}")
            + table(last, ("last logged", "step", "value"), numeric=(1, 2)))
