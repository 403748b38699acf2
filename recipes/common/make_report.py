"""The last stage of a voice recipe: one self-contained HTML page (exp/<voice>/report/index.html).

Sections: data, symbol report, speaker ranking, surgery plan, verify result, fine-tuning loss
curves, and for each sample sentence (``samples/texts.csv``: ``id|text``) the alignment and mel
plots plus audio players for the recording (when there is one), the adapted model before
fine-tuning and after. Every file the page shows is copied next to it, so the folder can be
zipped and opened anywhere. A missing input becomes a note in its section, never a failure:
the page also documents a partial run.

    python recipes/common/make_report.py --exp exp/allison --output exp/allison/report \
        --title "allison" --about "Voice: Allison Smith, ... (CC-BY-SA-3.0)"
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import shutil
import sys
from pathlib import Path
from typing import Any, Iterable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from tts_adapt.fsutil import atomic_output_dir  # noqa: E402
from tts_adapt.htmlpage import page  # noqa: E402

STYLE = """
.sample { border: 1px solid #e3e3e3; border-radius: 6px; padding: 0.6rem 1rem; margin: 1rem 0; }
.players { display: grid; grid-template-columns: repeat(3, 1fr); gap: 0.6rem; }
.players div { font-size: 0.9rem; }
iframe { width: 100%; height: 32rem; border: 1px solid #ddd; }
"""  # beside the toolkit's shared page style (tts_adapt.htmlpage)
MODELS = (("reference", "recording (not trained on)"), ("before", "adapted, before fine-tuning"),
          ("after", "after fine-tuning"))


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _note(text: str) -> str:
    return f'<p class="note">{_esc(text)}</p>'


def _load_json(path: Path) -> Any | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _table(rows: Iterable[Iterable[Any]], header: Iterable[str]) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested JSON as ("a.b", leaf) pairs, for documents whose exact schema the page need not know."""
    if isinstance(value, dict):
        return [pair for key, item in value.items() for pair in _flatten(item, f"{prefix}{key}.")]
    if isinstance(value, list) and len(value) > 8:
        return [(prefix.rstrip("."), f"[{len(value)} entries]")]
    if isinstance(value, list):
        return [pair for i, item in enumerate(value) for pair in _flatten(item, f"{prefix}{i}.")]
    return [(prefix.rstrip("."), value)]


def _details(title: str, text: str) -> str:
    return f"<details><summary>{_esc(title)}</summary><pre>{_esc(text)}</pre></details>"


# --- sections ----------------------------------------------------------------

def data_section(exp: Path) -> str:
    summary = _load_json(exp / "data" / "summary.json")
    prepared = _load_json(exp / "prepared" / "prepared.json")
    parts = []
    if summary:
        parts.append(_table(summary.items(), ("recipe data", "")))
    if prepared:
        skipped = prepared.get("skipped", [])
        parts.append(f"<p>prepare kept {prepared.get('items', '?')} items and skipped {len(skipped)}.</p>")
        if skipped:
            parts.append(_details("items prepare skipped", "\n".join(f"{s['id']}: {s['reason']}" for s in skipped)))
    return "".join(parts) or _note("no data summary (the data and prepare stages have not run)")


def symbols_section(exp: Path, out: Path) -> str:
    report = exp / "symbols" / "compare.html"
    if not report.is_file():
        return _note("no symbol report (the symbols stage has not run)")
    shutil.copy(report, out / "symbols.html")
    parts = []
    data = _load_json(exp / "symbols" / "compare.json")
    if data and isinstance(data.get("summary"), dict):
        parts.append(_table(_flatten(data["summary"]), ("", "")))
    if data and data.get("symbols"):
        changed = [s for s in data["symbols"] if s.get("status") in ("added", "removed")]
        if changed:
            parts.append(_table(((s.get("symbol"), s.get("status"), s.get("init") or "", s.get("count"))
                                 for s in changed), ("symbol", "status", "init", "count")))
    parts.append('<p><a href="symbols.html">full symbol report</a></p><iframe src="symbols.html"></iframe>')
    return "".join(parts)


def speaker_section(exp: Path) -> str:
    data = _load_json(exp / "suggest" / "speakers.json")
    if data is None:
        return _note("no speaker ranking (the speaker stage has not run)")
    ranking = data.get("ranking", []) if isinstance(data, dict) else data
    if ranking and all(isinstance(r, dict) for r in ranking):
        columns = list(dict.fromkeys(k for r in ranking for k in r))
        return _table(([r.get(c, "") for c in columns] for r in ranking), columns)
    return f"<pre>{_esc(json.dumps(data, indent=2))}</pre>"


ACTION_WORDS = {"copy": "copied unchanged", "remap_rows": "had their rows remapped by symbol",
                "drop_rows": "lost their speaker rows", "fold": "took the folded speaker into their bias",
                "delete": "were deleted (the speaker table)", "rewrite": "were rewritten"}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def plan_section(exp: Path) -> str:
    """The plan ``adapt --dry-run --format json`` saved, said in sentences; the raw plan folded away."""
    document = _load_json(exp / "adapt_plan.json")
    text_path = exp / "adapt_plan.txt"
    text = text_path.read_text(encoding="utf-8") if text_path.is_file() else ""
    if document is None and not text:
        return _note("no surgery plan (the adapt stage has not run)")
    parts = []
    plan = document.get("plan", document) if isinstance(document, dict) else {}
    summary = plan.get("summary", {}) if isinstance(plan.get("summary"), dict) else {}
    by_action = summary.get("variables_by_action", {})
    if by_action:
        said = "; ".join(f"{_plural(n, 'variable')} {ACTION_WORDS.get(a, a)}" for a, n in by_action.items())
        parts.append(f"<p>Of the {summary.get('variables', '?')} variables of <code>{_esc(plan.get('source', ''))}"
                     f"</code> ({_esc(plan.get('dialect', '?'))} dialect, {summary.get('tensors', '?')} tensors "
                     f"with their optimizer slots): {_esc(said)}.</p>")
    speaker = plan.get("speaker")
    if isinstance(speaker, dict):
        parts.append(f"<p>The folded voice: {_esc(speaker.get('vector_source') or speaker.get('name'))}. The adapted "
                     "model computes, without a speaker input, what the multi-speaker model computed for it.</p>")
    elif plan:
        parts.append("<p>No speaker was folded: the speaker rows were dropped and no voice is kept.</p>")
    changed = [a for a in plan.get("actions", []) if isinstance(a, dict) and a.get("action") != "copy"
               and a.get("role", "weight") == "weight"]
    if changed:
        parts.append(_table(((a.get("variable", a.get("key")), a.get("action"),
                              f"{a.get('shape_before')} -> {a.get('shape_after')}", a.get("reason", ""))
                             for a in changed), ("variable", "action", "shape", "why")))
    details = _flatten(plan.get("options", {}), "options.") + _flatten(summary)
    if details:
        parts.append(_details("plan details", "\n".join(f"{k}: {v}" for k, v in details)))
    if text:
        parts.append(_details("the plan as adapt printed it", text))
    return "".join(parts)


def verify_section(exp: Path) -> str:
    """verify's verdict in a sentence, the figures rounded; the full document folded away."""
    data = _load_json(exp / "verify.json")
    if data is None:
        return _note("no verify result (the verify stage has not run)")
    if not isinstance(data, dict) or "max_rel_diff" not in data:
        return f"<pre>{_esc(json.dumps(data, indent=2))}</pre>"
    speaker = (data.get("speaker") or {}).get("name") if isinstance(data.get("speaker"), dict) else data.get("speaker")
    verdict = "computes the same outputs as" if data.get("ok") else "does NOT compute the same outputs as"
    said = (f"The adapted model {verdict} the pretrained model speaking as {speaker or 'the folded speaker'}: the "
            f"largest relative difference over every output is {data['max_rel_diff']:.1e} "
            f"(tolerance {data.get('tolerance', float('nan')):.0e}).")
    outputs = data.get("outputs") or {}
    rows = [(name, f"{v.get('max_abs_diff', float('nan')):.1e}", f"{v.get('max_rel_diff', float('nan')):.1e}")
            for name, v in outputs.items() if isinstance(v, dict)]
    table = _table(rows, ("output", "largest difference", "relative")) if rows else ""
    return (f"<p><strong>{_esc(said)}</strong></p>{table}"
            + _details("verify.json", json.dumps(data, indent=2)))


def read_loss_logs(folder: Path) -> dict[str, list[tuple[float, float]]]:
    """Loss and attention-focus series ``{name: [(step, value)]}`` from CSV (a ``step`` column) or JSON-lines logs."""
    series: dict[str, list[tuple[float, float]]] = {}

    def add(record: dict) -> None:
        step = record.get("step")
        for key, value in record.items():
            if ("loss" in key or "focus" in key) and value not in (None, ""):
                try:
                    series.setdefault(key, []).append((float(step), float(value)))
                except (TypeError, ValueError):
                    pass

    for path in sorted(folder.rglob("*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            for record in csv.DictReader(handle):
                if "step" in record:
                    add(record)
    for path in sorted(folder.rglob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                if isinstance(record, dict) and "step" in record:
                    add(record)
    return {name: sorted(points) for name, points in series.items()}


def _plot_panel(ax, series: dict[str, list[tuple[float, float]]], title: str) -> None:
    for name, points in series.items():
        steps, values = zip(*points)
        ax.plot(steps, values, label=name, linestyle="--" if name.startswith("val_") else "-",
                marker="." if len(points) < 30 else None)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("step")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def loss_section(exp: Path, out: Path) -> str:
    """Training curves of the fine-tuning run: total loss, its parts, and attention focus."""
    folder = exp / "finetune"
    if not folder.is_dir():
        return _note("no fine-tuning run (the finetune stage has not run)")
    series = read_loss_logs(folder)
    if not series:
        return _note(f"no loss log found in {folder} (looked for *.csv and *.jsonl with a step column)")
    panels = [
        ("loss", {k: v for k, v in series.items() if k in ("loss", "val_loss")}),
        ("loss parts", {k: v for k, v in series.items() if "loss" in k and k not in ("loss", "val_loss")}),
        ("attention focus (1 = sharp)", {k: v for k, v in series.items() if "focus" in k}),
    ]
    panels = [(title, part) for title, part in panels if part]
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.5), squeeze=False)
    for ax, (title, part) in zip(axes[0], panels):
        _plot_panel(ax, part, title)
    fig.tight_layout()
    fig.savefig(out / "loss.png", dpi=100)
    plt.close(fig)
    last = [(name, f"{points[-1][0]:g}", f"{points[-1][1]:.4f}") for name, points in series.items()]
    return ('<img src="loss.png" alt="training curves">'
            + _details("last values", "\n".join(f"{n:24s} step {s:>6s}  {v}" for n, s, v in last)))


METRICS = (("mel_l1", "teacher-forced mel L1", "lower"), ("mcd", "mel cepstral distortion (dB)", "lower"),
           ("focus", "attention focus", "higher"), ("monotonicity", "monotonic attention", "higher"),
           ("coverage", "symbols attended", "higher"), ("length_ratio", "length / recording's", "1"))


def metrics_section(exp: Path) -> str:
    """``tts-adapt evaluate`` summaries of the model before and after fine-tuning."""
    runs = {model: _load_json(exp / "samples" / f"evaluate_{model}.json") for model, _ in EVALUATED}
    if not any(runs.values()):
        return _note("no objective metrics (the samples stage has not run)")
    shown = [model for model, _ in EVALUATED]
    summaries = {model: (runs[model] or {}).get("summary", {}) for model in shown}
    items = next((s.get("items") for s in summaries.values() if s.get("items")), "?")
    rows = []
    for key, label, better in METRICS:
        values = [summaries[m].get(key) for m in shown]
        if any(v is not None for v in values):
            rows.append([label] + [f"{v:.3f}" if isinstance(v, (int, float)) else "-" for v in values] + [better])
    return (f"<p>{_esc(items)} recordings that no model trained on (<code>tts-adapt evaluate</code>).</p>"
            + _table(rows, ("metric", *(dict(EVALUATED)[m] for m in shown), "better")))


# The pretrained model as the folded speaker is not scored: verify proves the adapted model computes the same.
EVALUATED = (("before", "before fine-tuning"), ("after", "after fine-tuning"))


def _rate(value: dict[str, Any]) -> str:
    """'0.12 (0.09-0.15)': the CER with its bootstrap 95% interval when the run has one."""
    if value.get("cer_low") is None:
        return f"{value['cer']:.2f}"
    return f"{value['cer']:.2f} ({value['cer_low']:.2f}-{value['cer_high']:.2f})"


def _separation(before: dict[str, Any], after: dict[str, Any]) -> str:
    """Whether fine-tuning changed intelligibility by more than the sentences can tell."""
    if before.get("cer_low") is None or after.get("cer_low") is None:
        return ""
    if after["cer_high"] < before["cer_low"]:
        return "Fine-tuning made the voice more intelligible: the 95% intervals separate."
    if before["cer_high"] < after["cer_low"]:
        return "Fine-tuning made the voice less intelligible: the 95% intervals separate."
    return "The 95% intervals before and after fine-tuning overlap: these sentences cannot tell the two apart."


def intelligibility_section(exp: Path) -> str:
    """What an offline recogniser understood, before and after fine-tuning, beside the ceilings."""
    runs = {model: (_load_json(exp / "samples" / f"evaluate_{model}.json") or {}).get("intelligibility")
            for model, _ in EVALUATED}
    scored = {model: value for model, value in runs.items() if value and value.get("scored")}
    if not scored:
        reasons = {value.get("reason") for value in runs.values() if value}
        return _note("not scored" + (f": {', '.join(sorted(filter(None, reasons)))}" if reasons else
                                     " (the samples stage has not run)"))
    labels = dict(EVALUATED)
    said = "; ".join(f"{labels[model]}, {max(0.0, 1 - value['wer']):.0%}" for model, value in scored.items())
    rows = [[labels[model], value.get("vocoder", "Griffin-Lim"), f"{value['wer']:.2f}", _rate(value)]
            for model, value in scored.items()]
    recording = next((v["ceilings"]["recording"] for v in scored.values() if "recording" in v.get("ceilings", {})),
                     None)
    if recording is not None:
        rows.append(["the recordings themselves", "-", f"{recording['wer']:.2f}", _rate(recording)])
    for model, value in scored.items():  # each vocoder on the recordings' own mels: what it can carry
        if "vocoded" in value.get("ceilings", {}):
            vocoded = value["ceilings"]["vocoded"]
            rows.append([f"the recordings' own mels ({labels[model]}'s renderer)", value.get("vocoder", "Griffin-Lim"),
                         f"{vocoded['wer']:.2f}", _rate(vocoded)])
    limits = f" ({max(0.0, 1 - recording['wer']):.0%} on the recordings themselves)" if recording else ""
    verdict = _separation(scored["before"], scored["after"]) if {"before", "after"} <= set(scored) else ""
    items = (_load_json(exp / "samples" / "evaluate_after.json") or {}).get("items")
    return (f"<p><strong>Share of the words an offline recogniser ({_esc(next(iter(scored.values())).get('recogniser', ''))}) "
            f"understood in the held-out sentences: {_esc(said)}{_esc(limits)}.</strong> {_esc(verdict)}</p>"
            + _table(rows, ("audio", "rendered by", "word error rate", "character error rate (95% interval)"))
            + "<p>Same " + (f"{items} " if items else "") + "sentences in every row, never trained on by the "
              "acoustic model or the vocoder. Intervals: bootstrap over sentences. The rows on the recordings' "
              "own mels show what a perfect acoustic model could reach with each renderer.</p>")


def _reference_mel(wav: Path, manifest: Path) -> np.ndarray | None:
    """The recording's mel, computed the way the model's features were."""
    from tts_adapt.audio.config import AudioConfig
    from tts_adapt.audio.features import wav_to_mel
    from tts_adapt.audio.io import load_audio

    from tts_adapt.errors import UserError

    config = _load_json(manifest)
    try:
        cfg = AudioConfig.from_dict(config["audio"]) if config and "audio" in config else AudioConfig()
        return wav_to_mel(load_audio(wav, cfg), cfg)
    except UserError as exc:  # e.g. a silent file: the page shows the other mels
        print(f"no mel for {wav}: {exc}", file=sys.stderr)
        return None


def _mel_plot(mels: list[tuple[str, np.ndarray]], path: Path) -> None:
    fig, axes = plt.subplots(1, len(mels), figsize=(4 * len(mels), 2.6), squeeze=False)
    low = min(float(np.min(mel)) for _, mel in mels)
    high = max(float(np.max(mel)) for _, mel in mels)  # one colour scale: the panels compare
    for ax, (title, mel) in zip(axes[0], mels):
        ax.imshow(mel.T, origin="lower", aspect="auto", interpolation="none", cmap="magma", vmin=low, vmax=high)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("frame")
    axes[0][0].set_ylabel("mel band")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def samples_section(exp: Path, out: Path) -> str:
    folder = exp / "samples"
    if not folder.is_dir():
        return _note("no samples (the samples stage has not run)")
    texts = {}
    listing = folder / "texts.csv"
    if listing.is_file():
        for line in listing.read_text(encoding="utf-8").splitlines():
            uid, _, text = line.partition("|")
            texts[uid] = text
    ids = sorted({p.stem for p in folder.rglob("*.wav")})
    if not ids:
        return _note("the samples stage produced no audio")
    (out / "samples").mkdir()
    parts = []
    for uid in ids:
        players, plots, mels = [], [], []
        for model, label in MODELS:
            wav = folder / model / f"{uid}.wav"
            if wav.is_file():
                target = out / "samples" / f"{uid}.{model}.wav"
                shutil.copy(wav, target)
                players.append(f'<div>{_esc(label)}<br><audio controls preload="none" '
                               f'src="samples/{target.name}"></audio></div>')
            else:
                players.append(f"<div>{_esc(label)}<br>{_note('missing')}</div>")
            png = folder / model / f"{uid}.png"
            if png.is_file():
                shutil.copy(png, out / "samples" / f"{uid}.{model}.align.png")
                plots.append(f'<figure><img src="samples/{uid}.{model}.align.png" alt="alignment {model}">'
                             f"<figcaption>alignment, {_esc(label)}</figcaption></figure>")
            npy = folder / model / f"{uid}.npy"
            if npy.is_file():
                mels.append((label, np.load(npy)))
            elif model == "reference" and wav.is_file():
                mels.append((label, _reference_mel(wav, exp / "adapted" / "manifest.json")))
        mels = [(label, mel) for label, mel in mels if mel is not None]
        if mels:
            _mel_plot(mels, out / "samples" / f"{uid}.mels.png")
            plots.append(f'<figure><img src="samples/{uid}.mels.png" alt="mels"><figcaption>mel spectrograms'
                         "</figcaption></figure>")
        parts.append(f'<div class="sample"><h3>{_esc(uid)}</h3><p>“{_esc(texts.get(uid, "?"))}”</p>'
                     f'<div class="players">{"".join(players)}</div>{"".join(plots)}</div>')
    return "".join(parts)


def make_report(exp: Path, output: Path, title: str, about: str = "") -> Path:
    with atomic_output_dir(output) as out:
        sections = [
            ("Can it be understood?", intelligibility_section(exp)),
            ("Data", data_section(exp)),
            ("Symbol table: the voice's vs the pretrained model's", symbols_section(exp, out)),
            ("Pretrained speakers ranked on this voice", speaker_section(exp)),
            ("Surgery plan", plan_section(exp)),
            ("Verify: the adapted model before fine-tuning", verify_section(exp)),
            ("Fine-tuning", loss_section(exp, out)),
            ("Before and after fine-tuning: objective metrics", metrics_section(exp)),
            ("Held-out sentences", samples_section(exp, out)),
        ]
        body = "".join(f"<h2>{_esc(title)}</h2>{content}" for title, content in sections)
        document = page(f"Adapting the pretrained model to {title}", f"<p>{_esc(about)}</p>{body}",
                        extra_style=STYLE)
        (out / "index.html").write_text(document, encoding="utf-8")
    return output / "index.html"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exp", required=True, type=Path, help="the recipe's exp folder (exp/allison)")
    parser.add_argument("--output", required=True, type=Path, help="new folder for the report")
    parser.add_argument("--title", required=True, help="the voice's name")
    parser.add_argument("--about", default="", help="one line on the voice: source, licence")
    args = parser.parse_args()
    print(f"report -> {make_report(args.exp, args.output, args.title, args.about)}")


if __name__ == "__main__":
    sys.exit(main())
