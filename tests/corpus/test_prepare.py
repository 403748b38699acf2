"""prepare: every bad item is skipped with its reason, features are normalised, re-runs reuse."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from tests.cli_testing import hold_output_lock
from tests.corpus.corpus_testdata import LETTERS, write_voice

from tts_adapt.audio.config import AudioConfig
from tts_adapt.audio.features import MEL_MAX, MEL_MIN
from tts_adapt.corpus import prepared
from tts_adapt.corpus.metadata import read_metadata
from tts_adapt.corpus.prepare import PrepareOptions, prepare
from tts_adapt.errors import UserError

OPTIONS = PrepareOptions(table=LETTERS, min_seconds=0.5, max_seconds=3.0, val_fraction=0.3)
GOOD = [f"{s}_{i:03d}" for i, s in zip(range(6), ["alice", "bob"] * 3)]


def run(corpus, output, options=OPTIONS):
    return prepare(read_metadata(corpus), output, options)


def test_keeps_good_items_and_skips_each_bad_one_with_its_reason(corpus, tmp_path):
    summary = run(corpus, tmp_path / "out")
    reasons = {s.id: s.reason for s in summary.skipped_items}
    assert reasons == {
        "bad_empty": "empty audio",
        "bad_garbage": "unreadable audio",
        "bad_short": "too short",
        "bad_long": "too long",
        "bad_accent": "unencodable text",
        "bad_missing": "missing audio",
        "bad_silent": "silent audio",
        "alice_000": "duplicate id",
    }
    assert summary.kept == 6 and summary.computed == 6 + 6  # text-rejected and duplicate items cost no audio work
    info = prepared.read_info(tmp_path / "out")  # the record readers get, checked field by field
    assert info.items == 6 and info.speakers == ("alice", "bob")
    assert info.symbols == tuple(LETTERS.symbols) and info.cleaners == ("english",)
    assert [s.id for s in info.skipped] == [  # in metadata order, whichever check caught them
        "bad_empty", "bad_garbage", "bad_short", "bad_long", "bad_accent", "bad_missing", "bad_silent", "alice_000"]
    assert "é" in next(s.detail for s in info.skipped if s.id == "bad_accent")


def test_items_and_features_agree(corpus, tmp_path):
    run(corpus, tmp_path / "out")
    items = prepared.read_items(tmp_path / "out")
    assert list(items["id"]) == GOOD
    assert items.loc[0, "cleaned"] == "utterance number zero, said well."
    assert set(items["split"]) == {"train", "val"}
    cfg = AudioConfig()
    for row in items.to_dict("records"):
        mel = np.load(prepared.mel_path(tmp_path / "out", row["id"]))
        assert mel.dtype == np.float32 and mel.shape == (row["n_frames"], cfg.n_mels)
        assert MEL_MIN <= mel.min() and mel.max() <= MEL_MAX and mel.max() > 0
        assert row["n_frames"] == 1 + round(row["seconds"] * cfg.sample_rate) // cfg.hop_length
    assert sorted(p.stem for p in (tmp_path / "out" / "mels").iterdir()) == sorted(GOOD)


def test_trimmed_durations_do_not_depend_on_the_sample_rate(corpus, tmp_path):
    run(corpus, tmp_path / "out")
    items = prepared.read_items(tmp_path / "out").set_index("id")
    cfg = AudioConfig()
    margin = 2 * (cfg.win_length / 2 + cfg.hop_length) / cfg.sample_rate  # trimming works in whole frames
    for i, item_id in enumerate(GOOD):  # each voice is 0.8 + 0.15 i seconds between silences
        assert 0.8 + 0.15 * i <= items.loc[item_id, "seconds"] <= 0.8 + 0.15 * i + margin


def test_split_is_deterministic_by_id(corpus, tmp_path):
    run(corpus, tmp_path / "a")
    run(corpus, tmp_path / "b")
    a, b = prepared.read_items(tmp_path / "a"), prepared.read_items(tmp_path / "b")
    assert list(a["split"]) == list(b["split"])


def test_rerun_reuses_up_to_date_features(corpus, tmp_path):
    out = tmp_path / "out"
    run(corpus, out)
    mel = prepared.mel_path(out, "bob_001")
    before = mel.stat().st_mtime_ns
    again = run(corpus, out)
    assert (again.kept, again.reused) == (6, 6)
    assert again.computed == 6  # only the bad audio is looked at again
    assert mel.stat().st_mtime_ns == before
    assert list(prepared.read_items(out)["id"]) == GOOD


def test_rerun_recomputes_audio_whose_bytes_changed_even_when_older_than_its_features(corpus, tmp_path):
    """cp -p, rsync -t and tar keep old modification times on new content: the cache goes by the bytes."""
    out = tmp_path / "out"
    run(corpus, out)
    before = np.load(prepared.mel_path(out, "bob_001"))
    wav = corpus.parent / "wavs" / "bob" / "001.wav"
    write_voice(wav, 16000, seconds=1.0, f0=300, seed=99)
    os.utime(wav, ns=(10**18, 10**18))  # 2001: long before the features were written
    again = run(corpus, out)
    assert (again.reused, again.computed) == (5, 1 + 6)
    assert np.load(prepared.mel_path(out, "bob_001")).shape != before.shape
    assert run(corpus, out).reused == 6  # and the new features are reused from then on


def test_touched_but_unchanged_audio_is_reused(corpus, tmp_path):
    out = tmp_path / "out"
    run(corpus, out)
    wav = corpus.parent / "wavs" / "bob" / "001.wav"
    future = prepared.mel_path(out, "bob_001").stat().st_mtime_ns + 10**9
    os.utime(wav, ns=(future, future))
    assert run(corpus, out).reused == 6


def test_the_same_ids_from_another_audio_folder_are_recomputed(corpus, tmp_path):
    out = tmp_path / "out"
    run(corpus, out)
    moved = tmp_path / "moved"
    shutil.copytree(corpus.parent, moved)
    again = run(moved / corpus.name, out)
    assert (again.reused, again.kept) == (0, 6)
    assert list(prepared.read_items(out)[prepared.AUDIO_COLUMN]) == [
        str((moved / "wavs" / s / f"{i:03d}.wav").resolve()) for s, i in zip(["alice", "bob"] * 3, range(6))]


def test_a_cache_made_before_digests_recomputes_instead_of_failing(corpus, tmp_path):
    out = tmp_path / "out"
    run(corpus, out)
    items = prepared.read_items(out).drop(columns=[prepared.DIGEST_COLUMN])
    (out / prepared.ITEMS_NAME).write_text(items.to_csv(index=False), encoding="utf-8")
    again = run(corpus, out)
    assert (again.reused, again.kept) == (0, 6)
    assert run(corpus, out).reused == 6


def test_changed_audio_config_recomputes_everything(corpus, tmp_path):
    out = tmp_path / "out"
    run(corpus, out)
    options = PrepareOptions(audio=AudioConfig(n_mels=40), table=LETTERS, min_seconds=0.5, max_seconds=3.0)
    again = run(corpus, out, options)
    assert again.reused == 0 and again.kept == 6
    assert np.load(prepared.mel_path(out, "alice_000")).shape[1] == 40


def test_griffin_lim_settings_do_not_invalidate_the_cache(corpus, tmp_path):
    out = tmp_path / "out"
    run(corpus, out)
    options = PrepareOptions(audio=AudioConfig(griffin_lim_iters=5), table=LETTERS, min_seconds=0.5, max_seconds=3.0)
    assert run(corpus, out, options).reused == 6


def test_items_dropped_from_the_metadata_lose_their_features(corpus, tmp_path):
    out = tmp_path / "out"
    run(corpus, out)
    lines = corpus.read_text().splitlines()
    corpus.write_text("\n".join(line for line in lines if not line.startswith("bob/001")) + "\n")
    run(corpus, out)
    assert not prepared.mel_path(out, "bob_001").exists()


def test_refuses_a_non_empty_directory_it_did_not_make(corpus, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="not empty"):
        run(corpus, out)
    assert (out / "notes.txt").read_text() == "mine"


def test_a_folder_holding_only_someone_elses_features_is_refused(corpus, tmp_path):
    out = tmp_path / "out"
    (out / "mels").mkdir(parents=True)
    (out / "mels" / "mine.npy").write_bytes(b"precious")
    with pytest.raises(UserError, match="not made by prepare"):
        run(corpus, out)
    assert (out / "mels" / "mine.npy").read_bytes() == b"precious"


def test_an_interrupted_run_with_new_settings_never_leaves_a_mixed_cache(corpus, tmp_path, monkeypatch):
    """Config A complete, config B interrupted half-way, A again: every feature is A's, none reused from B."""
    import dataclasses

    from tts_adapt.corpus import prepare as module

    out = tmp_path / "out"
    first = run(corpus, out)
    fresh = {i: np.load(prepared.mel_path(out, i)) for i in prepared.read_items(out)["id"]}
    real = module.process_item
    calls = []

    def interrupted(job):
        calls.append(job.id)
        if len(calls) > 2:
            raise KeyboardInterrupt
        return real(job)

    monkeypatch.setattr(module, "process_item", interrupted)
    other = dataclasses.replace(OPTIONS, audio=dataclasses.replace(OPTIONS.audio, fmax=4000.0))
    with pytest.raises(KeyboardInterrupt):
        run(corpus, out, other)
    assert not (out / prepared.INFO_NAME).exists()  # no longer a cache: nothing can read it as complete
    monkeypatch.setattr(module, "process_item", real)
    again = run(corpus, out)
    assert again.reused == 0 and again.kept == first.kept
    for item_id, mel in fresh.items():
        np.testing.assert_array_equal(np.load(prepared.mel_path(out, item_id)), mel)


def test_two_worker_processes_give_the_same_cache(corpus, tmp_path):
    run(corpus, tmp_path / "one")
    options = PrepareOptions(table=LETTERS, min_seconds=0.5, max_seconds=3.0, val_fraction=0.3, jobs=2)
    summary = run(corpus, tmp_path / "two", options)
    assert summary.kept == 6
    one, two = prepared.read_items(tmp_path / "one"), prepared.read_items(tmp_path / "two")
    assert one.equals(two)
    for item_id in GOOD:
        np.testing.assert_array_equal(np.load(prepared.mel_path(tmp_path / "one", item_id)),
                                      np.load(prepared.mel_path(tmp_path / "two", item_id)))


def test_without_a_table_only_empty_text_is_refused(corpus, tmp_path):
    lines = corpus.read_text().splitlines() + ["alice/blank.wav|alice|   "]
    corpus.write_text("\n".join(lines) + "\n")
    summary = run(corpus, tmp_path / "out", PrepareOptions(min_seconds=0.5, max_seconds=3.0))
    reasons = {s.id: s.reason for s in summary.skipped_items}
    assert "bad_accent" not in reasons
    assert reasons["alice_blank"] == "empty text"


def test_rerun_applies_new_duration_limits_to_reused_features(corpus, tmp_path):
    out = tmp_path / "out"
    run(corpus, out)
    options = PrepareOptions(table=LETTERS, min_seconds=0.5, max_seconds=1.2, val_fraction=0.3)
    again = run(corpus, out, options)
    too_long = {s.id for s in again.skipped_items if s.reason == "too long"}
    assert too_long == {"bob_003", "alice_004", "bob_005", "bad_long"}  # 1.25, 1.4, 1.55 s of speech
    assert again.kept == 3 and all(not prepared.mel_path(out, i).exists() for i in too_long)


def test_a_second_prepare_into_the_same_output_is_refused_while_the_first_runs(corpus, tmp_path):
    out = tmp_path / "out"
    run(corpus, out)
    before = (out / prepared.ITEMS_NAME).read_bytes()
    holder = hold_output_lock(out)  # another prepare, still running
    try:
        with pytest.raises(UserError, match=f"output {out} is in use by process {holder.pid}"):
            run(corpus, out, PrepareOptions(audio=AudioConfig(n_mels=40), table=LETTERS))
    finally:
        holder.communicate("")
    assert (out / prepared.ITEMS_NAME).read_bytes() == before and (out / prepared.INFO_NAME).is_file()


def test_a_full_disk_is_what_prepare_says_even_when_its_cleanup_fails(tmp_path, monkeypatch):
    """A first run that fills the disk removes what it wrote; a leftover it cannot remove must not replace
    'no space left on device' with its own error."""
    import errno
    import pathlib

    import tts_adapt.corpus.prepare as prepare_module

    output = tmp_path / "cache"

    def fills_the_disk(items, folder, options, progress):
        (folder / "half_written.npy").write_bytes(b"x")
        raise OSError(errno.ENOSPC, "No space left on device")

    unlink = pathlib.Path.unlink

    def cannot_remove(self, *args, **kwargs):
        if self.name == "half_written.npy":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return unlink(self, *args, **kwargs)

    monkeypatch.setattr(prepare_module, "_prepare", fills_the_disk)
    monkeypatch.setattr(pathlib.Path, "unlink", cannot_remove)
    with pytest.raises(OSError) as raised:
        prepare([], output, PrepareOptions())
    assert raised.value.errno == errno.ENOSPC
