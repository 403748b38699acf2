"""Entry point: discovers the subcommand modules of this package and dispatches.

Each module ``tts_adapt/cli/<name>.py`` defines ``register(subparsers)``, which adds
its parser and sets ``func`` (``args -> exit code``); a command that never touches TensorFlow
also sets ``needs_tensorflow=False`` so it starts fast. A :class:`UserError` anywhere
becomes one line on stderr and exit code 2, never a traceback; so does an OS error (a full
disk, a read-only folder), naming the path.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from tts_adapt import __version__
from tts_adapt.errors import UserError
from tts_adapt.fsutil import is_disk_full
from tts_adapt.tfquiet import import_tensorflow_quietly

EPILOG = """\
typical flow for a new voice:
  tts-adapt symbols compare PRETRAINED new_voice/symbols.txt --transcripts metadata.csv
  tts-adapt adapt PRETRAINED --output adapted --symbols new_voice/symbols.txt --fold-speaker auto --data prepared --dry-run
  tts-adapt adapt PRETRAINED --output adapted --symbols new_voice/symbols.txt --fold-speaker auto --data prepared
  tts-adapt verify PRETRAINED adapted
  tts-adapt finetune adapted --data prepared --output exp/finetune
run 'tts-adapt COMMAND --help' for each command's options."""


class _ArgumentParser(argparse.ArgumentParser):
    """argparse exits 2 on bad usage already; keep its message to the one line that matters.

    Every command's description and epilog hold examples laid out by hand, so every parser (each
    subcommand's too: argparse makes them of this class) shows them as written."""

    def __init__(self, *args, formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs) -> None:
        super().__init__(*args, formatter_class=formatter_class, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="tts-adapt",
        description="Speaker adaptation for Tacotron-style TensorFlow TTS checkpoints.",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"tts-adapt {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_ArgumentParser)
    package = importlib.import_module("tts_adapt.cli")
    modules = sorted(m.name for m in pkgutil.iter_modules(package.__path__) if m.name != "main")
    for name in modules:
        module = importlib.import_module(f"tts_adapt.cli.{name}")
        if hasattr(module, "register"):
            module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    if getattr(args, "needs_tensorflow", True):
        import_tensorflow_quietly()
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"tts-adapt {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"tts-adapt {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if is_disk_full(exc):  # OSError, or TensorFlow's ResourceExhaustedError from its own writers
            print(f"tts-adapt {args.command}: error: no space left on device writing {_written(exc, args)}; "
                  "nothing half-written was kept: free some space and run the same command again", file=sys.stderr)
            return 2
        if type(exc).__name__ == "ResourceExhaustedError":  # TensorFlow could not allocate a tensor
            print(f"tts-adapt {args.command}: error: out of memory ({_tensorflow_words(exc)}); a smaller model, "
                  "batch or input would fit", file=sys.stderr)
            return 2
        if not isinstance(exc, OSError):
            raise
        # a read-only folder, a file where a folder should be
        where = f": {exc.filename}" if exc.filename else ""
        print(f"tts-adapt {args.command}: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2


def _tensorflow_words(exc: Exception) -> str:
    """The first line of a TensorFlow error without its graph-node prefix ({{function_node ...}})."""
    import re

    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return re.sub(r"\{\{.*?\}\}", "", first).strip()[:160]


def _written(exc: Exception, args: argparse.Namespace) -> str:
    """The path a failed write names to the user: the file when it lies in the output they gave, else that output.

    Temporary names (an adapt's partial folder, a checkpoint's temporary prefix) mean nothing to them."""
    import os

    output = getattr(args, "output", None)
    filename = getattr(exc, "filename", None)
    if filename and (output is None or os.path.abspath(filename).startswith(os.path.abspath(output) + os.sep)):
        return str(filename)
    return str(output or "the output")


if __name__ == "__main__":
    sys.exit(main())
