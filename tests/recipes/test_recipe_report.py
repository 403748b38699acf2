"""The voice recipes' HTML report (recipes/common/make_report.py) and the speaker pick."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from recipe_modules import load

report = load("common/make_report.py")
best = load("common/best_speaker.py")


@pytest.fixture
def exp(tmp_path):
    exp = tmp_path / "exp" / "voice"
    (exp / "symbols").mkdir(parents=True)
    (exp / "symbols" / "compare.html").write_text("<html><body>SYMBOL REPORT</body></html>")
    (exp / "symbols" / "compare.json").write_text(json.dumps({
        "symbols": [{"symbol": '"', "status": "added", "old_id": None, "new_id": 33, "init": "mean", "count": 4},
                    {"symbol": "a", "status": "moved", "old_id": 3, "new_id": 1, "init": "copy", "count": 900}],
        "summary": {"kept": 4, "moved": 29, "added": 1, "removed": 1}}))
    (exp / "data").mkdir()
    (exp / "data" / "summary.json").write_text(json.dumps({"utterances": 541, "minutes": 23.8}))
    (exp / "prepared").mkdir()
    (exp / "prepared" / "prepared.json").write_text(json.dumps(
        {"items": 518, "skipped": [{"id": "beep", "reason": "too short"}]}))
    (exp / "suggest").mkdir()
    (exp / "suggest" / "speakers.json").write_text(json.dumps(
        {"best": "slt", "ranking": [{"rank": 1, "id": 3, "name": "slt", "loss": 0.41},
                                    {"rank": 2, "id": 0, "name": "awb", "loss": 0.57}]}))
    (exp / "verify.json").write_text(json.dumps({
        "speaker": {"id": 3, "name": "slt"}, "max_abs_diff": 3.1e-6, "max_rel_diff": 5.374128622364221e-07,
        "tolerance": 1e-5, "ok": True, "outputs": {"mel": {"max_abs_diff": 1.9e-6, "max_rel_diff": 4.5e-7}}}))
    (exp / "adapt_plan.txt").write_text("fold  decoder/lstm/kernel  rows 512:576 -> bias\n")
    (exp / "adapt_plan.json").write_text(json.dumps({"dry_run": True, "plan": {
        "source": "pretrained/ckpt-5", "dialect": "own",
        "speaker": {"id": 6, "name": "slt", "vector_source": "speaker table row 6 (slt)"},
        "options": {"new_rows": "mean"}, "summary": {"variables": 69, "tensors": 176, "variables_by_action": {"copy": 64, "fold": 5},
                    "tensors_by_action": {"copy": 171, "fold": 5}},
        "actions": [
            {"key": "dec/kernel", "variable": "dec/kernel", "role": "weight", "action": "drop_rows",
             "shape_before": [160, 64], "shape_after": [128, 64], "reason": "speaker rows [128:160) dropped"},
            {"key": "dec/kernel/.OPTIMIZER_SLOT/m", "variable": "dec/kernel", "role": "slot", "action": "drop_rows"},
            {"key": "enc/kernel", "variable": "enc/kernel", "role": "weight", "action": "copy"}]}}))
    (exp / "finetune").mkdir()
    (exp / "finetune" / "metrics.csv").write_text(
        "step,loss,val_loss,mel_loss,fr_focus,lr\n"
        + "".join(f"{s},{2 / (s + 1):.4f},{2.5 / (s + 1):.4f},{1 / (s + 1):.4f},{s / 100},0.001\n"
                  for s in range(0, 100, 10)))
    samples = exp / "samples"
    tone = (0.3 * np.sin(2 * np.pi * 220 * np.arange(8000) / 16000)).astype(np.float32)
    for model in ("reference", "before", "after"):
        (samples / model).mkdir(parents=True)
        sf.write(samples / model / "p1.wav", tone, 16000)
    for model in ("before", "after"):
        np.save(samples / model / "p1.npy", np.random.default_rng(0).normal(size=(40, 80)).astype(np.float32))
        (samples / model / "p1.png").write_bytes(b"\x89PNG fake")
    (samples / "texts.csv").write_text("p1|please hold the line.\n")
    recording = {"wer": 0.1, "cer": 0.05, "cer_low": 0.03, "cer_high": 0.08}
    for model, mcd, wer, low, high, vocoder in (("before", 14.2, 0.8, 0.3, 0.5, "vocoder pretrained/vocoder (15 steps)"),
                                                ("after", 9.75, 0.4, 0.12, 0.25, "vocoder voice/vocoder (20 steps)")):
        ceilings = {"recording": recording, "vocoded": {"wer": 0.25, "cer": 0.12, "cer_low": 0.1, "cer_high": 0.2}}
        (samples / f"evaluate_{model}.json").write_text(json.dumps(
            {"items": 16, "summary": {"mel_l1": 0.9, "mcd": mcd, "focus": 0.5, "items": 16},
             "intelligibility": {"scored": True, "recogniser": "pocketsphinx en-us", "wer": wer, "cer": wer / 2,
                                 "cer_low": low, "cer_high": high, "vocoder": vocoder, "ceilings": ceilings}}))
    return exp


def test_report_has_every_section_and_its_files(exp, tmp_path):
    page_path = report.make_report(exp, tmp_path / "report", "voice", "Voice: test data, CC0 <really>")
    out = tmp_path / "report"
    page = page_path.read_text(encoding="utf-8")
    assert page_path == out / "index.html"
    assert "CC0 &lt;really&gt;" in page  # escaped
    assert 'src="symbols.html"' in page and (out / "symbols.html").read_text().count("SYMBOL REPORT") == 1
    assert "<td>added</td>" in page and "<td>mean</td>" in page
    assert "<td>slt</td><td>0.41</td>" in page and "<th>rank</th>" in page
    assert "fold  decoder/lstm/kernel" in page and "speaker table row 6 (slt)" in page
    assert "<td>dec/kernel</td><td>drop_rows</td><td>[160, 64] -&gt; [128, 64]</td>" in page
    assert page.count("<td>dec/kernel</td>") == 1 and "<td>enc/kernel</td>" not in page  # slots, copies: no rows
    assert ("Of the 69 variables of <code>pretrained/ckpt-5</code> (own dialect, 176 tensors with their optimizer "
            "slots): 64 variables copied unchanged; 5 variables took the folded speaker into their bias.") in page
    assert "tensors_by_action.fold: 5" in page  # the raw figures, folded away in <details>
    assert ("The adapted model computes the same outputs as the pretrained model speaking as slt: the largest "
            "relative difference over every output is 5.4e-07 (tolerance 1e-05).") in page
    assert "<td>mel</td><td>1.9e-06</td><td>4.5e-07</td>" in page and "5.374128622364221e-07" not in page.split(
        "<details>")[0]
    assert (out / "loss.png").stat().st_size > 1000
    assert "val_loss                 step     90  0.0275" in page and "fr_focus" in page and "lr " not in page
    assert "please hold the line." in page
    assert "<td>mel cepstral distortion (dB)</td><td>14.200</td><td>9.750</td><td>lower</td>" in page
    assert "16 recordings that no model trained on" in page
    assert ("understood in the held-out sentences: before fine-tuning, 20%; after fine-tuning, 60% "
            "(90% on the recordings themselves).") in page
    assert "more intelligible: the 95% intervals separate" in page
    assert ("<td>after fine-tuning</td><td>vocoder voice/vocoder (20 steps)</td><td>0.40</td>"
            "<td>0.20 (0.12-0.25)</td>") in page
    assert ("<td>the recordings&#x27; own mels (before fine-tuning&#x27;s renderer)</td>"
            "<td>vocoder pretrained/vocoder (15 steps)</td><td>0.25</td><td>0.12 (0.10-0.20)</td>") in page
    assert "Same 16 sentences in every row" in page
    assert page.index("Can it be understood?") < page.index("<h2>Data")  # the verdict comes first
    for model in ("reference", "before", "after"):
        assert f'src="samples/p1.{model}.wav"' in page and (out / "samples" / f"p1.{model}.wav").is_file()
    assert (out / "samples" / "p1.before.align.png").is_file() and (out / "samples" / "p1.mels.png").is_file()
    assert "<td>utterances</td><td>541</td>" in page and "beep: too short" in page
    assert 'class="note"' not in page


def test_partial_run_gives_notes_not_errors(tmp_path):
    exp = tmp_path / "exp" / "voice"
    exp.mkdir(parents=True)
    page = report.make_report(exp, tmp_path / "report", "voice").read_text(encoding="utf-8")
    assert page.count('class="note"') == 9


def test_loss_logs_from_csv_and_jsonl(tmp_path):
    (tmp_path / "log.jsonl").write_text(
        '{"step": 1, "loss": 2.0}\n{"step": 2, "loss": 1.5, "mel_loss": 1.0, "focus": 0.4}\n')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "val.csv").write_text("step,val_loss\n2,1.8\n1,2.2\n")
    (tmp_path / "other.csv").write_text("name,value\nx,1\n")  # no step column: not a log
    series = report.read_loss_logs(tmp_path)
    assert series == {"loss": [(1.0, 2.0), (2.0, 1.5)], "mel_loss": [(2.0, 1.0)], "focus": [(2.0, 0.4)],
                      "val_loss": [(1.0, 2.2), (2.0, 1.8)]}


def test_best_speaker_is_the_rankings_best():
    document = {"best": "slt", "ranking": [{"rank": 1, "id": 3, "name": "slt", "loss": 0.41},
                                          {"rank": 2, "id": 0, "name": "awb", "loss": 0.57}]}
    assert best.best_speaker(document) == "slt"
    assert best.best_speaker({"best": "2", "ranking": []}) == "2"  # an unnamed speaker goes by its id
    with pytest.raises(SystemExit, match="no best speaker"):
        best.best_speaker({"ranking": []})


def test_the_verdict_says_whether_the_intervals_separate():
    before = {"cer": 0.17, "cer_low": 0.12, "cer_high": 0.24}
    assert "less intelligible" in report._separation(before, {"cer": 0.3, "cer_low": 0.25, "cer_high": 0.35})
    assert "cannot tell" in report._separation(before, {"cer": 0.26, "cer_low": 0.22, "cer_high": 0.31})
    assert report._separation({"cer": 0.2}, before) == ""  # a run from before intervals: no claim
