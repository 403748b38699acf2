"""Set up a training run: new (``train``), from an adapted checkpoint (``finetune``), or resumed.

An experiment directory is also a checkpoint directory: ``ckpt-<step>.*``, the
``checkpoint`` state file, ``manifest.json`` (model config, symbols, speakers,
layout, audio, cleaners, and a ``training`` section with the training config and the
step the run's schedules start from), ``metrics.csv`` and ``logs/``. Any command
that takes a checkpoint (``adapt``, ``synthesize``, ``verify``) accepts it as is.
A directory that already holds a run is resumed from its newest checkpoint; one that holds
only what a run of the same kind left when it died before its first checkpoint (``metrics.csv``,
``logs/``, temporary or unpublished checkpoint files) is cleared and started afresh.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

from tts_adapt.checkpoint.own import restore_checkpoint, save_checkpoint
from tts_adapt.corpus.prepared import check_same_features, read_info
from tts_adapt.errors import UserError
from tts_adapt.fsutil import LOCK_NAME, check_fresh_output_dir
from tts_adapt import __version__
from tts_adapt.manifest import Manifest, load_symbol_table, read_manifest
from tts_adapt.model.loading import model_from_manifest
from tts_adapt.symbols.table import SymbolTable
from tts_adapt.training.config import TrainingConfig, read_experiment_config
from tts_adapt.training.distribute import Placement, place
from tts_adapt.training.loop import TrainingRun, make_optimizer, trainable_subset
from tts_adapt.training.runtime import set_seed

FINETUNE_DEFAULTS = TrainingConfig(steps=1000, learning_rate=1e-4, lr_decay_at=(), checkpoint_every=250,
                                   val_every=100)
# what a run writes before its first complete checkpoint: logs, checkpoint files not yet listed in
# the state file, SaveV2's temporary prefix, atomic_file's temporaries (manifest, state file, metrics)
_LEFTOVER_FILE = re.compile(r"metrics\.csv|manifest\.json|ckpt-\d+\.(index|data-\d+-of-\d+)"
                            r"|\.ckpt-\d+\.tmp-\d+\..+|\.(manifest|checkpoint|metrics)\..+")


def holds_run(output: str | os.PathLike) -> bool:
    """True when ``output`` already has a checkpoint of a run (so a rerun resumes it)."""
    output = Path(output)
    return (output / "checkpoint").is_file() and (output / "manifest.json").is_file()


def _fresh_output(output: Path, kind: str) -> tuple[str, ...]:
    """Make ``output`` ready for a new ``kind`` run; returns a note when a dead run's leftovers were cleared.

    Why: a run killed before its first checkpoint (out of memory, SIGKILL, a full disk) leaves
    files that are only its own; refusing them as "not empty" would make the same command fail forever.
    Anything else in the folder is the user's, and the folder is refused untouched.
    """
    leftovers = _dead_run_leftovers(output, kind)
    if not leftovers:
        check_fresh_output_dir(output)
        return ()
    _remove(leftovers)
    return (f"{output} held only what an earlier {kind} run left before its first checkpoint "
            f"({', '.join(sorted(p.name for p in leftovers))}); cleared it, starting afresh",)


def discard_unfinished(output: str | os.PathLike, kind: str) -> None:
    """Remove what a new ``kind`` run wrote before its first checkpoint, once it failed (a full disk).

    Why: nothing half-written stays behind, and the space it took is free again for the rerun."""
    if not holds_run(output):
        _remove(_dead_run_leftovers(Path(output), kind))


def _remove(paths: list[Path]) -> None:
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def _dead_run_leftovers(output: Path, kind: str) -> list[Path]:
    """Every entry of ``output`` (but our own lock) when all are a dead ``kind`` run's own, else []."""
    if not output.is_dir():
        return []
    entries = [p for p in output.iterdir() if p.name != LOCK_NAME]
    return entries if entries and all(_is_leftover(p, kind) for p in entries) else []


def _is_leftover(path: Path, kind: str) -> bool:
    if path.name == "logs":
        return path.is_dir() and all(p.name.startswith("events.out.tfevents.") for p in path.iterdir())
    if not path.is_file() or not _LEFTOVER_FILE.fullmatch(path.name):
        return False
    if path.name != "manifest.json":
        return True
    try:
        manifest = read_manifest(path.parent)
        return manifest is not None and manifest.run_kind == kind
    except UserError:
        return False


def _training_section(config: TrainingConfig, kind: str, data: Path, start_step: int, **extra: Any) -> dict:
    return {"kind": kind, "config": config.to_dict(), "start_step": start_step, "data": str(data.resolve()), **extra}


def _overridden(base: TrainingConfig, yaml_section: dict, overrides: dict[str, Any], source: str) -> TrainingConfig:
    config = TrainingConfig.from_dict(yaml_section, base, source)
    given = {k: v for k, v in overrides.items() if v is not None}
    return TrainingConfig.from_dict(given, config, "command line")


def resume(output: Path, data: Path, overrides: dict[str, Any], yaml_training: dict | None, kind: str,
           placement: Placement | None = None) -> TrainingRun:
    """Continue the ``kind`` run in ``output`` from its newest checkpoint; flags given now override its settings."""
    manifest = read_manifest(output)
    section = dict(manifest.training or {})
    found = manifest.run_kind
    if found != kind:
        what = f"a {found} run" if found else "a checkpoint that is not a training run"
        raise UserError(f"{output} holds {what}; 'tts-adapt {kind}' needs a new --output (or its own run to resume)")
    config = _overridden(TrainingConfig.from_dict(section["config"]), yaml_training or {}, overrides,
                         "training config")
    check_same_features(manifest.audio, data, str(output))
    model = model_from_manifest(manifest, str(output))
    optimizer = make_optimizer(config)
    restore_checkpoint(output, model, optimizer)
    set_seed(config.seed + int(optimizer.iterations.numpy()))  # fresh dropout masks, reproducible per resume
    section = {**section, "config": config.to_dict(), "data": str(data.resolve())}
    return TrainingRun(model, optimizer, config, output, data, manifest.table(str(output)),
                       list(manifest.speakers), manifest.replace(training=section),
                       start_step=int(section.get("start_step", 0)), cleaners=manifest.text_cleaners,
                       placement=placement)


def _model_config(preset: str | None, yaml_model: dict, n_mels: int, source: str):
    from tts_adapt.model.config import ModelConfig

    values = dict(yaml_model)
    if preset is not None:
        values["preset"] = preset
    if "n_mels" in values and int(values["n_mels"]) != n_mels:
        raise UserError(f"{source}: n_mels {values['n_mels']} differs from the prepared features' {n_mels}")
    values["n_mels"] = n_mels
    return ModelConfig.from_dict(values, f"{source}: model")


def new_training(data: Path, output: Path, config_path: str | None = None, preset: str | None = None,
                 symbols: str | None = None, overrides: dict[str, Any] | None = None,
                 placement: Placement | None = None) -> TrainingRun:
    """``train``: a new model shaped by the preset/config, with the data's symbols and speakers; or resume.

    Under a strategy, call it inside ``placement.strategy.scope()`` (the variables are created here).
    """
    from tts_adapt.model.tacotron import Tacotron

    experiment = read_experiment_config(config_path)
    overrides = overrides or {}
    placement = placement or place("default")
    if placement.agree(holds_run(output)):
        run = resume(output, data, overrides, experiment["training"], "train", placement)
        if symbols is not None and load_symbol_table(symbols).symbols != run.table.symbols:
            raise UserError(f"{output} holds a run with another symbol table than {symbols}; "
                            "resume without --symbols or choose a new --output")
        requested = _model_config(preset, experiment["model"], run.model.config.n_mels, str(config_path or "--preset"))
        if (preset or experiment["model"]) and requested != run.model.config:
            raise UserError(f"{output} holds a run with another model config; resume without --config/--preset "
                            "or choose a new --output")
        return run
    notes = _fresh_output(output, "train") if placement.chief else ()
    info = read_info(data)
    cleaners = info.text_cleaners
    if symbols is not None:
        table = load_symbol_table(symbols)
    elif info.symbols:
        table = SymbolTable.from_list(list(info.symbols), f"{data}/prepared.json")
    else:
        table = table_from_transcripts(data)
        notes += (f"symbol table: the {len(table)} symbols of {data}'s transcripts (cleaners "
                  f"{', '.join(cleaners)}); no --symbols given, none in prepared.json",)
    speakers = list(info.speakers)
    speakers = speakers if len(speakers) > 1 else []  # one voice: a single-speaker model
    model_config = _model_config(preset, experiment["model"], info.audio.n_mels, str(config_path or "model"))
    config = _overridden(TrainingConfig(), experiment["training"], overrides, str(config_path or "training"))
    set_seed(config.seed)
    model = Tacotron(model_config, len(table), len(speakers))
    optimizer = make_optimizer(config)
    optimizer.build(model.trainable_variables)
    manifest = Manifest(
        symbols=tuple(table.to_list()), speakers=tuple(speakers), layout=model.layout().to_dict(),
        model=model_config.to_dict(), audio=info.audio,
        cleaners=cleaners, training=_training_section(config, "train", data, 0),
    )
    return TrainingRun(model, optimizer, config, output, data, table, speakers, manifest, placement=placement,
                       notes=notes)


def table_from_transcripts(data: Path) -> SymbolTable:
    """Every symbol the cache's transcripts use as the model reads them (``cleaned``: after the cleaners
    prepare ran, which the model keeps), most frequent first: what ``symbols suggest`` would propose.

    Why: a model trained from scratch has no table to inherit; asking for one made the first
    ``prepare`` then ``train`` a new user tries stop with an error."""
    from tts_adapt.corpus.prepared import read_items
    from tts_adapt.symbols.suggest import suggest_table
    from tts_adapt.symbols.transcripts import Transcripts, Utterance

    rows = read_items(data)
    cleaned = Transcripts(str(data), "id_text", tuple(map(Utterance, rows["id"], rows["cleaned"])))
    return SymbolTable.from_list(list(suggest_table(cleaned, cleaners=()).symbols), f"{data} transcripts")


def new_finetuning(adapted: str | os.PathLike, data: Path, output: Path, config_path: str | None = None,
                   overrides: dict[str, Any] | None = None, placement: Placement | None = None) -> TrainingRun:
    """``finetune``: continue training an adapted (or any toolkit) checkpoint in a new directory; or resume.

    The first checkpoint of ``output`` is the adapted one, saved before any step, so
    the run directory stands alone and ``adapted`` is never written to. Under a strategy,
    call it inside ``placement.strategy.scope()``.
    """
    from tts_adapt.checkpoint.paths import resolve_checkpoint

    experiment = read_experiment_config(config_path)
    if experiment["model"]:
        raise UserError(f"{config_path}: finetune keeps the model of {adapted}; remove the 'model:' section")
    overrides = overrides or {}
    prefix, directory = resolve_checkpoint(adapted)
    if Path(output).resolve() == directory.resolve():
        raise UserError("--output must be a new directory, not the adapted checkpoint's")
    placement = placement or place("default")
    if placement.agree(holds_run(output)):
        run = resume(output, data, overrides, experiment["training"], "finetune", placement)
        base = (run.manifest.training or {}).get("base")
        if base and Path(base) != Path(prefix).resolve():
            raise UserError(f"{output} continues the fine-tuning of {base}, not of {prefix}; "
                            "give that checkpoint, or a new --output to fine-tune this one")
        return run
    notes = _fresh_output(output, "finetune") if placement.chief else ()
    source = read_manifest(directory)
    if source is None or source.dialect != "own":
        raise UserError(f"{directory}: finetune needs a checkpoint made or adapted by tts-adapt from a tts-adapt model "
                        "(manifest.json with dialect 'own')")
    check_same_features(source.audio, data, str(directory))
    config = _overridden(FINETUNE_DEFAULTS, experiment["training"], overrides, str(config_path or "training"))
    set_seed(config.seed)
    model = model_from_manifest(source, str(directory))
    if model.config.reads_speaker_vector:  # its training data would need a speaker vector per utterance
        raise UserError(f"{directory} reads its speaker as a vector (an imported RTVC synthesizer); fold the new "
                        "voice's vector first: tts-adapt adapt SRC --speaker-vector FILE.npy --output ADAPTED")
    trainable_subset(model, config.freeze)  # --freeze of every part: refused before the step-0 copy is written
    optimizer = make_optimizer(config)
    restored = restore_checkpoint(prefix, model, optimizer)
    start = int(optimizer.iterations.numpy())
    manifest = source.replace(
        tool_version=__version__,
        layout=model.layout().to_dict(), cleaners=source.text_cleaners,
        training=_training_section(config, "finetune", data, start, base=str(Path(prefix).resolve()),
                                   base_training=source.training,
                                   optimizer_state="restored" if restored.optimizer_restored else "fresh"),
    )
    save_checkpoint(placement.output(output), model, optimizer, start, manifest, keep=config.keep)
    return TrainingRun(model, optimizer, config, output, data, source.table(str(directory)),
                       list(source.speakers), manifest, start_step=start,
                       cleaners=manifest.text_cleaners, placement=placement, notes=notes)
