"""Property tests of the row operations: random tables and segments, kept rows identical."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from tts_adapt.surgery.rows import drop_segments, remap_rows, speaker_contribution
from tts_adapt.symbols.mapping import map_symbols
from tts_adapt.symbols.table import SymbolTable

alphabet = st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r")
tables = st.lists(st.text(alphabet, min_size=1, max_size=2), min_size=1, max_size=30, unique=True)


@settings(max_examples=80, deadline=None)
@given(old=tables, new=tables, dim=st.integers(1, 4), strategy=st.sampled_from(["mean", "normal", "zero"]))
def test_remap_keeps_rows_by_symbol(old, new, dim, strategy):
    old_t, new_t = SymbolTable.from_list(old), SymbolTable.from_list(new)
    sources = map_symbols(old_t, new_t, strategy)
    assert [s.new_id for s in sources] == list(range(len(new_t)))
    weights = np.random.default_rng(0).standard_normal((len(old_t), dim)).astype(np.float32)
    slot = np.abs(weights) + 1
    out = remap_rows(weights, sources, strategy, False, np.random.default_rng(1))
    out_slot = remap_rows(slot, sources, strategy, True, np.random.default_rng(1))
    assert out.shape == (len(new_t), dim) and out.dtype == weights.dtype
    for s in sources:
        if s.kind == "copy":
            assert old_t.symbols[s.old_id] == s.symbol
            np.testing.assert_array_equal(out[s.new_id], weights[s.old_id])
            np.testing.assert_array_equal(out_slot[s.new_id], slot[s.old_id])
        else:
            assert s.symbol not in old_t
            assert not out_slot[s.new_id].any(), "slot rows of new symbols start at zero"
            if s.kind == "alias":
                np.testing.assert_array_equal(out[s.new_id], weights[s.old_id])
            elif strategy == "zero":
                assert not out[s.new_id].any()
            assert np.all(np.isfinite(out[s.new_id]))


@st.composite
def kernels_with_segments(draw):
    rows = draw(st.integers(2, 40))
    cuts = sorted(draw(st.lists(st.integers(0, rows), min_size=2, max_size=6, unique=True)))
    segments = [(a, b) for a, b in zip(cuts[::2], cuts[1::2]) if b > a]
    cols = draw(st.integers(1, 5))
    return rows, cols, segments


@settings(max_examples=80, deadline=None)
@given(case=kernels_with_segments())
def test_drop_segments_keeps_every_other_row_in_order(case):
    rows, cols, segments = case
    kernel = np.arange(rows * cols, dtype=np.float32).reshape(rows, cols)
    dropped = {r for a, b in segments for r in range(a, b)}
    kept = [r for r in range(rows) if r not in dropped]
    out = drop_segments(kernel, segments)
    assert out.shape == (len(kept), cols)
    np.testing.assert_array_equal(out, kernel[kept])
    np.testing.assert_array_equal(drop_segments(tf.constant(kernel), segments).numpy(), kernel[kept])


@settings(max_examples=50, deadline=None)
@given(case=kernels_with_segments(), seed=st.integers(0, 2**16))
def test_fold_is_exact_for_any_input(case, seed):
    rows, cols, segments = case
    if not segments:
        return
    rng = np.random.default_rng(seed)
    kernel = rng.standard_normal((rows, cols))
    bias = rng.standard_normal(cols)
    x = rng.standard_normal(rows)
    vector = x[segments[0][0]:segments[0][1]]
    folded = bias + speaker_contribution(kernel, segments[0], vector)
    mask = np.ones(rows, bool)
    mask[segments[0][0]:segments[0][1]] = False
    np.testing.assert_allclose(x[mask] @ kernel[mask] + folded, x @ kernel + bias, rtol=1e-10, atol=1e-10)
