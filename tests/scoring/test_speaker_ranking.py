"""suggest-speaker: the speaker the new voice was spoken by ranks first; adapt --fold-speaker auto folds it."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest
from tests.cli_testing import run_cli
from tests.tiny_checkpoints import (
    NEW_SYMBOLS,
    NEW_VOICE_TEXTS,
    SPEAKERS,
    SYMBOLS,
    make_source,
    spoken_by,
    write_prepared,
    write_table,
)

from tts_adapt.corpus.prepared import PreparedRecord
from tts_adapt.errors import UserError
from tts_adapt.manifest import read_manifest
from tts_adapt.scoring.speaker_ranking import SkippedItem, SpeakerRanking, rank_speakers

TRUE_SPEAKER = 2


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A source model whose outputs do not depend on the teacher-forced frames, and a 'new voice'
    recorded by its speaker 2, so speaker 2's loss is ~0 and every other speaker's is not."""
    root = tmp_path_factory.mktemp("suggest")
    model = make_source(root / "src", seed=7, frame_independent=True)
    mels = spoken_by(model, TRUE_SPEAKER, NEW_VOICE_TEXTS)
    splits = ["train", "val"] * (len(mels) // 2)
    write_prepared(root / "prepared", NEW_VOICE_TEXTS, mels, splits=splits)
    return {"root": root, "model": model, "mels": mels}


def per_item_loss(model, speaker, texts, mels):
    """The loss computed the slow, obvious way: one unpadded item at a time."""
    from tts_adapt.symbols.frontend import text_to_ids
    from tts_adapt.symbols.table import SymbolTable

    table, losses = SymbolTable.from_list(SYMBOLS), []
    for text, mel in zip(texts, mels):
        ids = np.array([text_to_ids(text, table)], np.int32)
        out = model({"text": ids, "text_len": np.array([ids.shape[1]], np.int32), "mel": mel[None],
                     "speaker": np.array([speaker], np.int32)}, training=False)
        losses.append(np.mean([np.abs(out[k].numpy()[0] - mel).mean() for k in ("mel", "mel_post")]))
    return float(np.mean(losses))


def test_ranks_every_speaker_with_the_true_one_first(world):
    root = world["root"]
    ranking = rank_speakers(root / "src", root / "prepared").ranking
    assert [r.id for r in ranking][0] == TRUE_SPEAKER and [r.rank for r in ranking] == [1, 2, 3]
    assert sorted(r.id for r in ranking) == [0, 1, 2]
    assert {r.id: r.name for r in ranking} == dict(enumerate(SPEAKERS))
    losses = [r.loss for r in ranking]
    assert losses == sorted(losses)
    assert losses[0] < 1e-4 < 1e-2 < losses[1]


def test_batched_losses_match_item_by_item(world):
    """Padding items of different lengths into one batch must not change any item's loss."""
    root = world["root"]
    assert len({m.shape[0] for m in world["mels"]}) > 1
    for entry in rank_speakers(root / "src", root / "prepared").ranking:
        expected = per_item_loss(world["model"], entry.id, NEW_VOICE_TEXTS, world["mels"])
        assert entry.loss == pytest.approx(expected, rel=1e-4, abs=1e-6)


def test_sample_is_seeded_and_unencodable_items_are_skipped(world, tmp_path):
    texts = [*NEW_VOICE_TEXTS, "zq"]  # z and q are not in the source table
    prepared = write_prepared(tmp_path / "prepared", texts, [*world["mels"], world["mels"][0]])
    ranking = rank_speakers(world["root"] / "src", prepared)
    assert ranking.items_skipped == (SkippedItem("utt006", "cannot encode z q"),)
    assert len(ranking.items) == len(NEW_VOICE_TEXTS)
    picks = []
    for _ in range(2):
        ranking = rank_speakers(world["root"] / "src", prepared, max_items=3, seed=1)
        picks.append(list(ranking.items) + [s.id for s in ranking.items_skipped])
    assert picks[0] == picks[1] and len(picks[0]) == 3


def test_cli_json_names_the_best_speaker(world, capsys):
    root = world["root"]
    code, out, _ = run_cli(["suggest-speaker", root / "src", "--data", root / "prepared", "--format", "json"], capsys)
    assert code == 0
    printed = json.loads(out)
    ranking = SpeakerRanking.from_json(printed, "suggest-speaker --format json")  # as recipes and the report read it
    assert ranking.to_json() == printed  # nothing printed that the reader drops
    assert ranking.best == SPEAKERS[TRUE_SPEAKER] and ranking.items_scored == len(NEW_VOICE_TEXTS)
    assert [r.rank for r in ranking.ranking] == [1, 2, 3] and ranking.ranking[0].id == TRUE_SPEAKER


def test_cli_text_table(world, capsys):
    root = world["root"]
    code, out, _ = run_cli(["suggest-speaker", root / "src", "--data", root / "prepared", "--max-items", "4"], capsys)
    assert code == 0
    assert "on 4 utterances" in out and f"nearest: {SPEAKERS[TRUE_SPEAKER]}" in out


def test_adapt_fold_auto_folds_the_first_ranked(world, capsys, tmp_path):
    root = world["root"]
    table = write_table(tmp_path / "new.txt", NEW_SYMBOLS)
    code, _, err = run_cli(["adapt", root / "src", "--output", tmp_path / "adapted", "--symbols", table,
                            "--fold-speaker", "auto", "--data", root / "prepared"], capsys)
    assert code == 0, err
    assert f"nearest pretrained speaker is {SPEAKERS[TRUE_SPEAKER]}" in err
    folded = read_manifest(tmp_path / "adapted").folded_speaker
    assert folded["id"] == TRUE_SPEAKER and folded["name"] == SPEAKERS[TRUE_SPEAKER]


def test_the_python_api_folds_auto_as_the_cli_does(world, tmp_path):
    from tts_adapt.surgery.adapt import adapt

    root = world["root"]
    adapt(root / "src", tmp_path / "adapted", None, fold_speaker="auto", data=root / "prepared")
    assert read_manifest(tmp_path / "adapted").folded_speaker["id"] == TRUE_SPEAKER
    with pytest.raises(UserError, match="auto needs --data"):
        adapt(root / "src", tmp_path / "other", None, fold_speaker="auto")


def test_features_made_another_way_are_refused(world, tmp_path):
    prepared = tmp_path / "prepared"
    shutil.copytree(world["root"] / "prepared", prepared)
    info = PreparedRecord.read(prepared / "prepared.json")
    other = dataclasses.replace(info, audio=dataclasses.replace(info.audio, sample_rate=22050))
    (prepared / "prepared.json").write_text(other.to_text(), encoding="utf-8")
    with pytest.raises(UserError, match="sample_rate"):
        rank_speakers(world["root"] / "src", prepared)


def test_single_speaker_model_has_nothing_to_rank(world, tmp_path):
    from tests.tiny_checkpoints import randomise, save_model, tiny_config

    from tts_adapt.model.tacotron import Tacotron

    model = Tacotron(tiny_config(), len(SYMBOLS), 0)
    randomise(model)
    save_model(tmp_path / "single", model, speakers=[])
    with pytest.raises(UserError, match="single-speaker"):
        rank_speakers(tmp_path / "single", world["root"] / "prepared")
