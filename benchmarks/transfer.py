"""Benchmark: which way to begin a new voice gives the best voice in the fewest steps?

Every start is fine-tuned on the same data (the Allison recipe's training split), with the
same seed, step budget and schedule (``finetune``'s defaults: Adam, learning rate 1e-4,
constant), validated every ``--val-every`` steps and evaluated at the same steps on the 10
held-out Allison recordings (recogniser CER, MCD-DTW, F0 RMSE):

* ``scratch``: the same architecture, random weights, one speaker;
* ``skip_mismatch``: what ``load_weights(by_name=True, skip_mismatch=True)`` gives: every
  Keras layer whose weights all match the single-speaker model's shapes is loaded, a layer with
  any mismatch (each speaker-fed kernel; the embedding when the symbol table changed) keeps its
  random initialisation whole. Layers are the owners of each variable (the finest grain, the
  kindest reading of it);
* ``new_speaker_row``: the multi-speaker model kept, a 10th speaker row for the new voice
  initialised as Keras initialises an embedding row (what ESPnet / Coqui users do);
* ``surgery``: ``adapt --fold-speaker none``: speaker rows dropped, no speaker kept;
* ``surgery_fold_<name>``: ``adapt --fold-speaker NAME`` for the speaker ``suggest-speaker``
  ranks first, second and last (the ranking itself is under test);
* ``surgery_fold_mean``: ``adapt --speaker-vector`` with the mean of the pretrained speaker rows.

The three starts users build by hand load weights only (a fresh Adam); surgery starts keep
the optimizer slots as ``adapt`` does by default. Data efficiency: the start ranked first is
also fine-tuned on the first 5, 10 and 20 minutes of the training split (seeded order).

The target loss is the scratch run's final validation loss; ``steps_to_target`` is the first
validated step at or below it. Everything is kept in ``--work`` (default ``exp/transfer``):
a rerun skips finished evaluations and resumes an interrupted fine-tuning from its newest
checkpoint, so the benchmark can be stopped (Ctrl-C, SIGTERM) and started again.

    .venv/bin/python benchmarks/transfer.py [--steps 600] [--evals 0,150,300,600] [--minutes 5,10,20]
        [--only scratch,surgery_fold_kal16] [--work exp/transfer] [--json benchmarks/results/transfer.json]

Needs the Allison recipe's stages 0-3 (data, features, symbols, speaker ranking); they are
run first when missing. Its duration, measured, is in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

HAND_MADE = ("scratch", "skip_mismatch", "new_speaker_row")
SEED = 0  # initial weights of the hand-made starts, data subsets; --seed sets the fine-tuning seed


def run_cli(*args: str) -> None:
    """``tts-adapt ARGS`` in a child process (the same command a user types); stops the benchmark on failure."""
    subprocess.run([sys.executable, "-m", "tts_adapt", *args], check=True, cwd=REPO)


def atomic_json(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(value, indent=2) + "\n")
    os.replace(temporary, path)


# -- the starts -------------------------------------------------------------------------------


def surgery_start(pretrained: Path, symbols: Path, output: Path, *fold: str) -> None:
    """``tts-adapt adapt`` with the given fold arguments (none, a speaker, or a vector file)."""
    if not (output / "manifest.json").is_file():
        shutil.rmtree(output, ignore_errors=True)
        run_cli("adapt", str(pretrained), "--symbols", str(symbols), *fold, "--output", str(output))


def mean_speaker_vector(pretrained: Path, output: Path) -> Path:
    from tts_adapt.checkpoint.paths import resolve_checkpoint
    from tts_adapt.checkpoint.reader import load_reader

    path = output / "mean_speaker.npy"
    if not path.is_file():
        prefix, _ = resolve_checkpoint(pretrained)
        rows = load_reader(prefix).get_tensor("tacotron/speaker_embedding/embeddings")  # [speakers, dim]
        output.mkdir(parents=True, exist_ok=True)
        np.save(path, rows.mean(axis=0))
    return path


def _hand_made_manifest(source, speakers: list[str], model):
    from tts_adapt.manifest import Manifest

    return Manifest(symbols=source.symbols, speakers=tuple(speakers), layout=model.layout().to_dict(),
                    model=source.model, audio=source.audio, cleaners=source.cleaners)


def hand_made_start(kind: str, pretrained: Path, output: Path, voice: str) -> None:
    """scratch / skip_mismatch / new_speaker_row as a toolkit checkpoint (weights only, step 0)."""
    if (output / "manifest.json").is_file():
        return
    import keras

    from tts_adapt.checkpoint.own import save_checkpoint, weight_variables
    from tts_adapt.checkpoint.paths import resolve_checkpoint
    from tts_adapt.checkpoint.reader import load_reader
    from tts_adapt.manifest import read_manifest
    from tts_adapt.model.loading import model_from_manifest
    from tts_adapt.training.runtime import set_seed

    source = read_manifest(pretrained)
    speakers = [*source.speakers, voice] if kind == "new_speaker_row" else []
    set_seed(SEED)
    model = model_from_manifest(source.replace(speakers=tuple(speakers)), kind)
    reader = load_reader(resolve_checkpoint(pretrained)[0])
    shapes = reader.get_variable_to_shape_map()
    variables = weight_variables(model)
    if kind == "skip_mismatch":
        layers: dict[str, list[str]] = {}
        for key in variables:
            layers.setdefault(key.rsplit("/", 1)[0], []).append(key)
        for keys in layers.values():
            if all(k in shapes and tuple(shapes[k]) == tuple(variables[k].shape) for k in keys):
                for k in keys:
                    variables[k].assign(reader.get_tensor(k))
    elif kind == "new_speaker_row":
        for key, variable in variables.items():
            value = reader.get_tensor(key)
            if key.endswith("speaker_embedding/embeddings"):  # [speakers + 1, dim]: Keras's init for the new row
                new_row = keras.initializers.RandomUniform(seed=SEED)((1, value.shape[1]))
                value = np.concatenate([value, np.asarray(new_row)], axis=0)
            variable.assign(value)
    save_checkpoint(output, model, None, 0, _hand_made_manifest(source, speakers, model), keep=1)


# -- data ----------------------------------------------------------------------------------------


def ensure_recipe_data(exp: Path) -> None:
    if not (exp / "suggest" / "speakers.json").is_file() or not (exp / "prepared_heldout").is_dir():
        subprocess.run(["bash", "recipes/allison/run.sh", "--stop-stage", "3"], check=True, cwd=REPO)


def data_subset(prepared: Path, minutes: float, output: Path) -> Path:
    """The first ``minutes`` of the training split in a seeded order, the whole validation split; mels linked."""
    if (output / "items.csv").is_file():
        return output
    output.mkdir(parents=True, exist_ok=True)
    with open(prepared / "items.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    train = [r for r in rows if r["split"] == "train"]
    order = np.random.default_rng(SEED).permutation(len(train))
    chosen, total = set(), 0.0
    for index in order:
        if total >= minutes * 60:
            break
        chosen.add(train[index]["id"])
        total += float(train[index]["seconds"])
    kept = [r for r in rows if r["split"] != "train" or r["id"] in chosen]
    shutil.copy(prepared / "prepared.json", output / "prepared.json")
    if not (output / "mels").exists():
        os.symlink((prepared / "mels").resolve(), output / "mels")
    temporary = output / "items.csv.tmp"
    with open(temporary, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(kept)
    os.replace(temporary, output / "items.csv")
    return output


# -- one start: fine-tune to each evaluated step, evaluate there -----------------------------------


VOCODER: str | None = None  # --vocoder: griffin-lim or a folder (None: the bundled vocoder, else Griffin-Lim)


def evaluate_at(checkpoint: Path, heldout: Path, speaker: str | None = None) -> dict:
    from tts_adapt.evaluation.evaluate import evaluate

    report = evaluate(checkpoint, heldout, split=None, speaker=speaker, plots=0, vocoder=VOCODER).report
    heard, summary = report.intelligibility, report.summary
    return {"cer": heard.cer, "cer_low": heard.cer_low, "cer_high": heard.cer_high, "wer": heard.wer,
            "vocoder": heard.vocoder, "items": report.items, "mcd": summary.mcd, "f0_rmse": heard.f0_rmse,
            "voicing_error": heard.voicing_error, "stopped": summary.stopped, "length_ratio": summary.length_ratio}


def validation_curve(run_dir: Path, first_step: int) -> list[list[float]]:
    with open(run_dir / "metrics.csv", newline="") as handle:
        return [[int(r["step"]) - first_step, float(r["val_loss"])] for r in csv.DictReader(handle) if r["val_loss"]]


def fine_tune_and_evaluate(name: str, start: Path, data: Path, heldout: Path, work: Path, eval_steps: list[int],
                           val_every: int, seed: int = SEED) -> dict:
    """Fine-tune ``start`` segment by segment, evaluating at each step of ``eval_steps``; results cached."""
    from tts_adapt.training.loop import train
    from tts_adapt.training.session import new_finetuning

    run_dir, record_path = work / "runs" / name, work / "runs" / f"{name}.json"
    record = json.loads(record_path.read_text()) if record_path.is_file() else {"evals": [], "wall_s": 0.0}
    done = {e["step"] for e in record["evals"]}
    for target in eval_steps:
        if target in done:
            continue
        started = time.perf_counter()
        overrides = {"steps": max(target, 1), "val_every": val_every, "checkpoint_every": 10**6, "seed": seed,
                     "keep": 1}
        run = new_finetuning(start, data, run_dir, overrides=overrides)
        record["first_step"] = run.start_step
        if target > 0:
            summary = train(run)
            if summary.stopped_early:
                raise KeyboardInterrupt(f"{name} stopped at step {summary.step} ({summary.signal})")
        record["wall_s"] += time.perf_counter() - started
        print(f"[transfer] {name}: evaluating at step {target}", flush=True)
        record["evals"].append({"step": target, **evaluate_at(run_dir, heldout)})
        atomic_json(record_path, record)
    record["curve"] = validation_curve(run_dir, record["first_step"]) if (run_dir / "metrics.csv").is_file() else []
    return record


# -- the results -------------------------------------------------------------------------------------


def steps_to(curve: list[list[float]], target: float) -> int | None:
    return next((int(step) for step, loss in curve if loss <= target), None)


def summarise(records: dict[str, dict], steps: int, descriptions: dict[str, str]) -> dict:
    target = records["scratch"]["curve"][-1][1] if records.get("scratch", {}).get("curve") else None
    starts = {}
    for name, record in records.items():
        last = record["evals"][-1] if record["evals"] else {}
        starts[name] = {
            "description": descriptions[name], "steps": steps,
            "steps_to_target": steps_to(record["curve"], target) if target is not None else None,
            "final_val_loss": record["curve"][-1][1] if record["curve"] else None,
            "cer": last.get("cer"), "mcd": last.get("mcd"), "f0_rmse": last.get("f0_rmse"),
            "curve": record["curve"], "evals": record["evals"], "wall_s": round(record["wall_s"], 1),
        }
    return {"target_loss": target, "starts": starts}


def goals(result: dict, ranked: list[str], reference_cer: float) -> dict:
    """The issue's goals, each as measured (True / False / None when a start is missing)."""
    starts = result["starts"]
    fold = starts.get(f"surgery_fold_{ranked[0]}")
    if fold is None or "scratch" not in starts:
        return {}
    out: dict = {}
    scratch_steps = starts["scratch"]["steps"]
    reached = fold["steps_to_target"]
    out["fold_reaches_target_within_5pct_of_scratch"] = reached is not None and reached <= 0.05 * scratch_steps
    skip = starts.get("skip_mismatch", {}).get("steps_to_target")
    out["fold_needs_at_most_half_of_skip_mismatch_steps"] = (
        None if "skip_mismatch" not in starts else reached is not None and (skip is None or reached <= 0.5 * skip))
    per_step = {}
    for evaluation in fold["evals"]:
        others = [e["cer"] for name, s in starts.items() if name != f"surgery_fold_{ranked[0]}"
                  for e in s["evals"] if e["step"] == evaluation["step"]]
        per_step[evaluation["step"]] = all(evaluation["cer"] <= c for c in others)
    out["fold_lowest_cer_at_each_step"] = per_step
    # Only a difference whose bootstrap 95% intervals do not overlap is one the held-out sentences can tell.
    from tts_adapt.evaluation.intelligibility import intervals_separate

    last = fold["evals"][-1] if fold["evals"] else {}
    out["fold_last_cer_separates_from"] = {
        name: intervals_separate(last, s["evals"][-1]) for name, s in starts.items()
        if name != f"surgery_fold_{ranked[0]}" and s["evals"] and "cer_low" in s["evals"][-1] and "cer_low" in last}
    zero = next((e["cer"] for e in fold["evals"] if e["step"] == 0), None)
    out["fold_step0_cer"] = zero
    out["pretrained_folded_speaker_cer"] = reference_cer
    folds = {n: s for n, s in starts.items() if n.startswith("surgery_fold_") and n != "surgery_fold_mean"}
    out["best_fold_by_cer"] = min(folds, key=lambda n: folds[n]["cer"])
    out["best_fold_by_val_loss"] = min(folds, key=lambda n: folds[n]["final_val_loss"])
    out["ranked_first"] = f"surgery_fold_{ranked[0]}"
    return out


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (loss_axis, cer_axis) = plt.subplots(1, 2, figsize=(12, 4.5))
    for name, start in result["starts"].items():
        if start["curve"]:
            steps, losses = zip(*start["curve"])
            loss_axis.plot(steps, losses, label=name)
        if start["evals"]:
            cer_axis.plot([e["step"] for e in start["evals"]], [e["cer"] for e in start["evals"]], marker="o",
                          label=name)
    if result["target_loss"] is not None:
        loss_axis.axhline(result["target_loss"], color="grey", linestyle=":", label="scratch's final loss")
    loss_axis.set(xlabel="fine-tuning step", ylabel="validation loss", yscale="log",
                  title="Validation loss (Allison, same schedule)")
    cer_axis.set(xlabel="fine-tuning step", ylabel="recogniser CER (held-out)", title="Intelligibility")
    cer_axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def markdown(result: dict) -> str:
    """docs/benchmarks.md's table: one row a start, the last evaluation's figures and the loss goal's columns.

    Without a scratch run (``target_loss`` is null) there is no loss goal: its column says ``-``.
    """
    def cell(value, digits=2):
        return "-" if value is None else f"{value:.{digits}f}"

    def cer(evaluation: dict) -> str:
        if evaluation.get("cer_low") is None:
            return cell(evaluation.get("cer"))
        return f"{evaluation['cer']:.2f} ({evaluation['cer_low']:.2f}-{evaluation['cer_high']:.2f})"

    lines = ["| start | steps to scratch's final loss | final val loss | CER at 0 / last | MCD dB | F0 RMSE Hz | "
             "wall |", "|---|---|---|---|---|---|---|"]
    for name, start in result["starts"].items():
        first = next((e for e in start["evals"] if e["step"] == 0), {})
        reached = "-" if result["target_loss"] is None else start["steps_to_target"]
        lines.append(f"| `{name}` ({start['description']}) | {'never' if reached is None else reached} | "
                     f"{cell(start['final_val_loss'], 3)} | {cer(first)} / {cer(start['evals'][-1] if start['evals'] else {})} | "
                     f"{cell(start['mcd'])} | {cell(start['f0_rmse'], 0)} | {start['wall_s'] / 60:.0f} min |")
    for minutes, row in (result.get("data_efficiency") or {}).items():
        lines.append(f"| ranked-first fold on {minutes} min of audio | - | {cell(row['final_val_loss'], 3)} | "
                     f"- / {cell(row['cer'])} | {cell(row['mcd'])} | {cell(row['f0_rmse'], 0)} | - |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exp", type=Path, default=REPO / "exp" / "allison", help="the Allison recipe's exp folder")
    parser.add_argument("--pretrained", type=Path, default=REPO / "data" / "pretrained" / "multispeaker")
    parser.add_argument("--symbols", type=Path, default=REPO / "recipes" / "allison" / "conf" / "symbols.txt")
    parser.add_argument("--work", type=Path, default=REPO / "exp" / "transfer")
    parser.add_argument("--steps", type=int, default=600, help="fine-tuning steps of every start")
    parser.add_argument("--evals", default="0,150,300,600", help="steps at which every start is evaluated")
    parser.add_argument("--val-every", type=int, default=50)
    parser.add_argument("--minutes", default="5,10,20", help="data-efficiency subsets, minutes of training audio")
    parser.add_argument("--only", default=None, help="comma-separated starts to run (default: all)")
    parser.add_argument("--seed", type=int, default=SEED, help="fine-tuning seed (data order, dropout)")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "transfer.json")
    parser.add_argument("--markdown", action="store_true", help="print the table of --json's results and stop")
    parser.add_argument("--vocoder", help="griffin-lim or a vocoder folder for the scored audio "
                                          "(default: the bundled vocoder, else Griffin-Lim)")
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown(json.loads(args.json.read_text())))
        return 0
    global VOCODER
    VOCODER = args.vocoder
    eval_steps = sorted({int(s) for s in args.evals.split(",")} | {args.steps})
    if eval_steps[-1] > args.steps:
        parser.error("--evals beyond --steps")

    from tts_adapt.scoring.speaker_ranking import SpeakerRanking
    from tts_adapt.training.runtime import configure_threads

    configure_threads()
    ensure_recipe_data(args.exp)
    data, heldout, work = args.exp / "prepared", args.exp / "prepared_heldout", args.work
    # the recipe's suggest-speaker document, read as the report reads it; label: how --fold-speaker names a speaker
    ranked = [r.label for r in SpeakerRanking.read(args.exp / "suggest" / "speakers.json").ranking]
    folds = [ranked[0], ranked[1], ranked[-1]]
    descriptions = {
        "scratch": "random weights, one speaker",
        "skip_mismatch": "load_weights(by_name, skip_mismatch): layers with a speaker-fed kernel re-initialised",
        "new_speaker_row": "multi-speaker model kept, a new speaker row for the voice",
        "surgery": "adapt --fold-speaker none (speaker rows dropped)",
        **{f"surgery_fold_{n}": f"adapt --fold-speaker {n} (suggest-speaker rank {ranked.index(n) + 1} "
                                f"of {len(ranked)})" for n in folds},
        "surgery_fold_mean": "adapt --speaker-vector (mean of the pretrained speaker rows)",
    }
    order = [f"surgery_fold_{ranked[0]}", "scratch", "skip_mismatch", "new_speaker_row", "surgery",
             f"surgery_fold_{ranked[1]}", f"surgery_fold_{ranked[-1]}", "surgery_fold_mean"]
    chosen = order if args.only is None else [n for n in order if n in args.only.split(",")]
    starts = work / "starts"

    def make_start(name: str) -> Path:
        path = starts / name
        if name in HAND_MADE:
            hand_made_start(name, args.pretrained, path, voice="allison")
        elif name == "surgery":
            surgery_start(args.pretrained, args.symbols, path, "--fold-speaker", "none")
        elif name == "surgery_fold_mean":
            surgery_start(args.pretrained, args.symbols, path, "--speaker-vector",
                          str(mean_speaker_vector(args.pretrained, starts)))
        else:
            surgery_start(args.pretrained, args.symbols, path, "--fold-speaker", name.removeprefix("surgery_fold_"))
        return path

    reference_path = work / "pretrained_folded.json"
    if not reference_path.is_file():
        atomic_json(reference_path, evaluate_at(args.pretrained, heldout, speaker=ranked[0]))
    reference = json.loads(reference_path.read_text())

    records: dict[str, dict] = {}
    result: dict = {}

    def publish() -> None:
        nonlocal result
        result = summarise(records, args.steps, descriptions)
        result["pretrained_folded_speaker"] = {"speaker": ranked[0], **reference}
        result["ranking"] = ranked
        result["goals"] = goals(result, ranked, reference["cer"])
        result["settings"] = {"steps": args.steps, "evals": eval_steps, "val_every": args.val_every, "seed": args.seed,
                              "learning_rate": 1e-4, "data": str(data.relative_to(REPO)) if data.is_relative_to(REPO)
                              else str(data), "heldout_items": reference.get("items"), "vocoder": reference.get("vocoder")}
        atomic_json(args.json, result)
        plot(result, args.json.with_suffix(".png"))

    for name in chosen:
        started = time.perf_counter()
        records[name] = fine_tune_and_evaluate(name, make_start(name), data, heldout, work, eval_steps,
                                               args.val_every, args.seed)
        print(f"[transfer] {name} done ({time.perf_counter() - started:.0f} s this run)", flush=True)
        publish()
    publish()

    if args.only is None or "data_efficiency" in args.only.split(","):
        efficiency = {}
        for minutes in [float(m) for m in args.minutes.split(",")]:
            subset = data_subset(data, minutes, work / f"data_{minutes:g}min")
            name = f"surgery_fold_{ranked[0]}_{minutes:g}min"
            record = fine_tune_and_evaluate(name, make_start(f"surgery_fold_{ranked[0]}"), subset, heldout, work,
                                            [args.steps], args.val_every, args.seed)
            efficiency[f"{minutes:g}"] = {"minutes": minutes, **record["evals"][-1],
                                          "final_val_loss": record["curve"][-1][1] if record["curve"] else None}
            result["data_efficiency"] = efficiency
            atomic_json(args.json, result)
    print(json.dumps({n: {k: s[k] for k in ("steps_to_target", "final_val_loss", "cer", "mcd", "f0_rmse")}
                      for n, s in result["starts"].items()}, indent=1))
    print(json.dumps(result["goals"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
