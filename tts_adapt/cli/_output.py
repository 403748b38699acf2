"""Shared output helpers for the subcommands: JSON to stdout, rich tables for people."""

from __future__ import annotations

import sys
from typing import Any

from tts_adapt.configfields import LARGEST_WHOLE


def print_document(document) -> None:
    """A run document (:class:`tts_adapt.documents.Document`) as ``--format json`` prints it."""
    sys.stdout.write(document.to_text())


def console(stderr: bool = False):
    """A rich console; when not a terminal, wide enough that tables are not folded.

    Markup is off: what we print holds paths, speaker names and symbols the user chose, and
    ``[/x]`` in any of them made rich raise instead of printing."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    probe = Console(file=stream, markup=False)
    if probe.is_terminal:
        return probe
    return Console(file=stream, width=200, no_color=True, highlight=False, markup=False)


def finite_float(text: str) -> float:
    """An argparse type: a number that is not nan or infinite (float() accepts both)."""
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def whole_number(minimum: int, maximum: int = LARGEST_WHOLE):
    """An argparse type: an integer from ``minimum`` to ``maximum``.

    Why: a seed or a count past what the libraries hold (numpy's seeds, TensorFlow's 32-bit
    counts) surfaced as their traceback, far from the option that caused it."""
    import argparse

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:  # also 4300 digits and more
            raise argparse.ArgumentTypeError(f"not a whole number: {text[:40]!r}") from None
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"must be from {minimum} to {maximum}, got {text[:40]}")
        return value

    return parse


SEED = whole_number(0)  # TrainingConfig's seeds obey the same range (tts_adapt.configfields)
COUNT = whole_number(1)


def shape(s: Any) -> str:
    return "-" if s is None else "[" + ", ".join(str(d) for d in s) + "]"


def add_format_argument(parser, choices: tuple[str, ...] = ("text", "json")) -> None:
    parser.add_argument("--format", choices=choices, default="text",
                        help="output format (default: text, for people; json for scripts)")


def add_vocoder_argument(parser) -> None:
    """``--vocoder griffin-lim|DIR``, the same words in every command that makes audio."""
    parser.add_argument("--vocoder", metavar="griffin-lim|DIR",
                        help="how mels become audio: a trained vocoder folder, or griffin-lim (default: the "
                             "voice's own vocoder beside the model when a recipe made one, else the bundled "
                             "data/pretrained/vocoder, else Griffin-Lim)")
