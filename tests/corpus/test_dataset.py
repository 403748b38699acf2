"""make_dataset: shapes, padding, stop targets, speaker ids, seeded shuffling, table-driven encoding."""

from __future__ import annotations

import numpy as np
import pytest
from tests.corpus.corpus_testdata import LETTERS, good_items

from tts_adapt.audio.features import MEL_MIN
from tts_adapt.corpus import prepared as cache
from tts_adapt.corpus.dataset import make_dataset
from tts_adapt.corpus.metadata import read_metadata
from tts_adapt.corpus.prepare import PrepareOptions, prepare
from tts_adapt.errors import UserError
from tts_adapt.symbols.frontend import text_to_ids
from tts_adapt.symbols.table import SymbolTable

SPEAKERS = ["bob", "alice"]  # not sorted: ids follow this list, not the cache


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    (root / "metadata.csv").write_text("\n".join(good_items(root, count=9)) + "\n", encoding="utf-8")
    out = root / "prepared"
    prepare(read_metadata(root / "metadata.csv"), out, PrepareOptions(table=LETTERS, val_fraction=0.25))
    return out


def batches(prepared, **kwargs):
    options = dict(table=LETTERS, speakers=SPEAKERS, batch_size=4, reduction=3, split="train",
                   shuffle=True, seed=0, repeat=False)
    options.update(kwargs)
    return [{k: v.numpy() for k, v in b.items()} for b in make_dataset(prepared, **options)]


def test_batches_are_padded_with_stop_targets(prepared):
    items = cache.read_items(prepared, "train").set_index("id")
    seen = 0
    for batch in batches(prepared):
        size, frames, n_mels = batch["mel"].shape
        assert n_mels == 80 and frames % 3 == 0 and frames >= batch["mel_len"].max()
        assert batch["text"].dtype == np.int32 and batch["mel"].dtype == np.float32
        assert batch["stop"].shape == (size, frames)
        for b in range(size):
            n, t = batch["mel_len"][b], batch["text_len"][b]
            assert np.all(batch["mel"][b, n:] == MEL_MIN) and np.any(batch["mel"][b, :n] != MEL_MIN)
            assert np.all(batch["text"][b, t:] == 0)
            np.testing.assert_array_equal(batch["stop"][b], (np.arange(frames) >= n - 1).astype(np.float32))
        seen += size
    assert seen == len(items)


def test_every_item_once_with_its_own_features_text_and_speaker(prepared):
    items = cache.read_items(prepared, "train")
    by_length = {}
    for batch in batches(prepared, shuffle=False):
        for b in range(len(batch["mel_len"])):
            key = tuple(batch["text"][b, : batch["text_len"][b]])
            by_length[key] = (batch["mel"][b, : batch["mel_len"][b]], batch["speaker"][b])
    assert len(by_length) == len(items)
    for row in items.to_dict("records"):
        mel, speaker = by_length[tuple(text_to_ids(row["text"], LETTERS))]
        np.testing.assert_array_equal(mel, np.load(cache.mel_path(prepared, row["id"])))
        assert speaker == SPEAKERS.index(row["speaker"])


def test_without_speakers_every_id_is_zero(prepared):
    assert all(np.all(b["speaker"] == 0) for b in batches(prepared, speakers=None))


def test_unknown_speaker_is_named(prepared):
    with pytest.raises(UserError, match="alice"):
        make_dataset(prepared, LETTERS, ["bob", "carol"], batch_size=2, reduction=1)


def test_text_rows_follow_the_symbol_table(prepared):
    reversed_table = SymbolTable.from_list(reversed(LETTERS.symbols))
    plain = batches(prepared, shuffle=False)
    flipped = batches(prepared, shuffle=False, table=reversed_table)
    last = len(LETTERS) - 1
    for a, b in zip(plain, flipped):
        for i, n in enumerate(a["text_len"]):
            np.testing.assert_array_equal(b["text"][i, :n], last - a["text"][i, :n])


def test_items_the_table_cannot_encode_are_listed(prepared):
    no_w = SymbolTable.from_list([s for s in LETTERS.symbols if s != "w"])  # "two", "well"
    with pytest.raises(UserError, match=r"cannot be encoded.*alice_000 \(w\)"):
        make_dataset(prepared, no_w, SPEAKERS, batch_size=2, reduction=1)


def test_shuffle_is_seeded(prepared):
    def order(seed):
        return [tuple(b["mel_len"]) for b in batches(prepared, seed=seed, batch_size=1)]

    assert order(1) == order(1)
    assert order(1) != order(2)
    assert sorted(order(1)) == sorted(order(2))


def test_repeat_keeps_going_and_val_split_is_separate(prepared):
    import tensorflow as tf

    train = make_dataset(prepared, LETTERS, SPEAKERS, batch_size=2, reduction=2)
    assert sum(1 for _ in train.take(20)) == 20  # more batches than one epoch holds
    val = batches(prepared, split="val", shuffle=False)
    assert sum(len(b["mel_len"]) for b in val) == len(cache.read_items(prepared, "val")) > 0
    assert isinstance(train, tf.data.Dataset)


def test_bucket_count_grows_with_the_corpus():
    from tts_adapt.corpus.dataset import BATCHES_PER_BUCKET, MAX_BUCKETS, bucket_boundaries

    lengths = np.random.default_rng(0).integers(50, 900, size=5000)
    assert bucket_boundaries(lengths[:BATCHES_PER_BUCKET * 32 - 1], batch_size=32) == []  # too few items to split
    assert len(bucket_boundaries(lengths[:512], batch_size=32)) == 512 // (BATCHES_PER_BUCKET * 32) - 1
    edges = bucket_boundaries(lengths, batch_size=32)
    assert len(edges) == MAX_BUCKETS - 1 and edges == sorted(edges)
    counts = np.bincount(np.searchsorted(edges, lengths, side="right"))
    assert counts.min() > 0.5 * counts.max()  # quantile edges: buckets of similar size
