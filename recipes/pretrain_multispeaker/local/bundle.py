"""Stage 5: the newest checkpoint of a training run, alone, ready to commit as data/pretrained/multispeaker.

Copies ckpt-N.index/.data-*, manifest.json, metrics.csv and a ``checkpoint`` state file naming
only ckpt-N into OUTPUT (a new folder), plus the stage 4 evaluation and intelligibility check when there are, and
refuses a bundle over the size limit (the repository keeps the model under 40 MB).

    python local/bundle.py --train exp/pretrain/train --check exp/pretrain/check --output exp/pretrain/bundle
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

from tts_adapt.fsutil import atomic_output_dir

LIMIT_MB = 40


def newest_checkpoint(train: Path) -> str:
    """The name (``ckpt-N``) the run's ``checkpoint`` state file points at."""
    state = train / "checkpoint"
    if not state.is_file():
        raise SystemExit(f"{train} holds no checkpoint state file: has training run?")
    match = re.search(r'^model_checkpoint_path:\s*"([^"]+)"', state.read_text(), re.MULTILINE)
    if not match:
        raise SystemExit(f"{state}: no model_checkpoint_path")
    return Path(match.group(1)).name


def bundle(train: Path, output: Path, check: Path | None = None, limit_mb: float = LIMIT_MB) -> dict:
    name = newest_checkpoint(train)
    files = sorted(train.glob(f"{name}.index")) + sorted(train.glob(f"{name}.data-*"))
    if not any(f.suffix == ".index" for f in files):
        raise SystemExit(f"{train}/{name}.index is missing")
    extras = [train / "manifest.json", train / "metrics.csv"]
    if check is not None:
        extras += [check / "evaluate.json", check / "evaluate.html", check / "intelligibility.json",
                   check / "intelligibility.html"]
    with atomic_output_dir(output) as tmp:
        for path in files + [p for p in extras if p.is_file()]:
            shutil.copy2(path, tmp / path.name)
        (tmp / "checkpoint").write_text(f'model_checkpoint_path: "{name}"\nall_model_checkpoint_paths: "{name}"\n')
        size_mb = sum(p.stat().st_size for p in tmp.iterdir()) / 2**20
        if size_mb > limit_mb:
            raise SystemExit(f"the bundle is {size_mb:.1f} MB, over the {limit_mb:g} MB limit: use a smaller preset")
    return {"checkpoint": name, "megabytes": round(size_mb, 1), "files": sorted(p.name for p in output.iterdir())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", required=True, type=Path, help="the training run's folder")
    parser.add_argument("--check", type=Path, help="stage 4's folder (its evaluation is bundled too)")
    parser.add_argument("--output", required=True, type=Path, help="new folder for the bundle")
    args = parser.parse_args()
    summary = bundle(args.train, args.output, args.check)
    print(f"{summary['checkpoint']} ({summary['megabytes']} MB) -> {args.output}: {', '.join(summary['files'])}")


if __name__ == "__main__":
    sys.exit(main())
