"""Pitch per frame by pYIN: librosa's, with its Viterbi pass run over the band its transition matrix has.

``librosa.pyin`` decodes its pitch HMM with a dense Viterbi: at 50-500 Hz and 0.1 semitone, 798 states
(399 pitch bins, voiced and unvoiced) and every pair of them per frame, 76 % of its time. Its transition
matrix is a band: a pitch moves at most 25 bins from one frame to the next, so a state has 102
predecessors with a transition probability above zero. The others still take part, through the
epsilon librosa adds before the logarithm (one of them wins where every banded predecessor is far
less likely), so they are not dropped: all of them have the same log-transition, and the best is the
first of the previous frame's values, in descending order, outside the band. Ties go to the lowest
state, as ``np.argmax`` gives them. The pitch is librosa's to the bit (tests/evaluation/test_pitch.py
compares them on recordings and on synthesised speech).

Everything else (the YIN frames, the observation probabilities, the matrix itself) is librosa's own
code, reached through its module; where that is not there (another librosa), ``librosa.pyin`` runs.
"""

from __future__ import annotations

import functools

import numpy as np


def pyin_f0(wav: np.ndarray, *, fmin: float, fmax: float, sr: int, frame_length: int,
            hop_length: int) -> np.ndarray:
    """``librosa.pyin(...)[0]`` with its defaults otherwise: F0 in Hz per frame, NaN where unvoiced."""
    import librosa

    internals = _librosa_internals()
    if internals is None:
        return librosa.pyin(wav, fmin=fmin, fmax=fmax, sr=sr, frame_length=frame_length, hop_length=hop_length)[0]
    observation_probs, transition, p_init, n_pitch_bins, freqs = _pyin_model(
        internals, np.asarray(wav), fmin, fmax, sr, frame_length, hop_length)
    states = viterbi(observation_probs, transition, p_init)
    f0 = freqs[states % n_pitch_bins]
    f0[states >= n_pitch_bins] = np.nan
    return f0


def viterbi(prob: np.ndarray, transition: np.ndarray, p_init: np.ndarray) -> np.ndarray:
    """``librosa.sequence.viterbi(prob, transition, p_init=p_init)`` for ``prob`` [states, frames], the same
    states; in time linear in the band's width where ``transition`` has, per column, its nonzero rows
    in at most two runs (pYIN's voiced and unvoiced blocks)."""
    import librosa

    runs = _column_runs(transition)
    if runs is None:
        return librosa.sequence.viterbi(prob, transition, p_init=p_init)
    epsilon = np.finfo(prob.dtype).tiny  # librosa's tiny(prob): the logarithms below are its, to the bit
    log_trans = np.log(transition + epsilon)
    log_prob = np.log(prob + epsilon)
    log_p_init = np.log(p_init + epsilon)
    zeros = np.argwhere(transition == 0)  # every one of them has this log-transition, as librosa computed it
    outside = float(log_trans[tuple(zeros[0])]) if len(zeros) else -np.inf
    return _banded_viterbi(np.ascontiguousarray(log_prob.T), log_trans, log_p_init, runs, outside)


def _column_runs(transition: np.ndarray) -> np.ndarray | None:
    """Per column j, the nonzero rows as two half-open runs ``[[start, stop], [start, stop]]`` (the second may
    be empty); None when a column's nonzero rows are not two runs."""
    nonzero = transition != 0  # [rows, columns]
    runs = np.zeros((transition.shape[1], 2, 2), np.int64)
    for j in range(transition.shape[1]):
        rows = np.flatnonzero(nonzero[:, j])
        breaks = np.flatnonzero(np.diff(rows) > 1)
        if len(rows) == 0 or len(breaks) > 1:
            return None
        starts = np.concatenate([[rows[0]], rows[breaks + 1]])
        stops = np.concatenate([rows[breaks] + 1, [rows[-1] + 1]])
        runs[j, : len(starts), 0], runs[j, : len(starts), 1] = starts, stops
    return runs


@functools.lru_cache(maxsize=1)
def _librosa_internals():
    """librosa's pYIN steps (0.11's module), or None where this librosa lays them out otherwise."""
    import inspect

    import librosa
    from librosa.core import pitch

    names = ("_cumulative_mean_normalized_difference", "_parabolic_interpolation", "__pyin_helper")
    found = {name: getattr(pitch, name, None) for name in names}
    if None in found.values() or not librosa.__version__.startswith("0.11."):
        return None
    cmnd = inspect.signature(found["_cumulative_mean_normalized_difference"]).parameters
    if list(cmnd) != ["y_frames", "min_period", "max_period"]:
        return None
    return found


def _pyin_model(internals, y, fmin, fmax, sr, frame_length, hop_length):
    """The pitch HMM ``librosa.pyin`` decodes (its defaults: 100 thresholds, beta (2, 18), Boltzmann 2,
    0.1 semitone, 35.92 octaves/s, switch 0.01, no-trough 0.01, centred frames, zero padding)."""
    import scipy.stats
    from librosa import sequence, util

    padding = [(0, 0) for _ in y.shape]
    padding[-1] = (frame_length // 2, frame_length // 2)
    y = np.pad(y, padding, mode="constant")
    y_frames = util.frame(y, frame_length=frame_length, hop_length=hop_length)
    min_period = int(np.floor(sr / fmax))
    max_period = min(int(np.ceil(sr / fmin)), frame_length - 1)
    yin_frames = internals["_cumulative_mean_normalized_difference"](y_frames, min_period, max_period)
    parabolic_shifts = internals["_parabolic_interpolation"](yin_frames)
    thresholds = np.linspace(0, 1, 100 + 1)
    beta_probs = np.diff(scipy.stats.beta.cdf(thresholds, 2, 18))
    n_bins_per_semitone = int(np.ceil(1.0 / 0.1))
    n_pitch_bins = int(np.floor(12 * n_bins_per_semitone * np.log2(fmax / fmin))) + 1
    observation_probs, _ = internals["__pyin_helper"](
        yin_frames, parabolic_shifts, sr, thresholds, 2, beta_probs, 0.01, min_period, fmin, n_pitch_bins,
        n_bins_per_semitone)
    max_semitones_per_frame = round(35.92 * 12 * hop_length / sr)
    transition_width = max_semitones_per_frame * n_bins_per_semitone + 1
    transition = sequence.transition_local(n_pitch_bins, transition_width, window="triangle", wrap=False)
    transition = np.kron(sequence.transition_loop(2, 1 - 0.01), transition)
    p_init = np.ones(2 * n_pitch_bins) / (2 * n_pitch_bins)
    freqs = fmin * 2 ** (np.arange(n_pitch_bins) / (12 * n_bins_per_semitone))
    return observation_probs[0], transition, p_init, n_pitch_bins, freqs


def _banded_viterbi(log_prob, log_trans, log_p_init, runs, outside):
    return _compiled()(log_prob, log_trans, log_p_init, runs, outside)


@functools.lru_cache(maxsize=1)
def _compiled():
    """:func:`_banded` compiled by numba (librosa's own dependency) on first use, kept in __pycache__ where
    that can be written (about 2 s saved per process)."""
    import numba

    try:
        return numba.njit(cache=True)(_banded)
    except RuntimeError:  # no place to keep the compiled code: compiled in each process
        return numba.njit(_banded)


def _banded(log_prob, log_trans, log_p_init, runs, outside):
    """The Viterbi states for ``log_prob`` [frames, states]: each state's best predecessor within its runs,
    then the best outside them (all of which have the log-transition ``outside``)."""
    n_steps, n_states = log_prob.shape
    value = np.zeros((n_steps, n_states))
    ptr = np.zeros((n_steps, n_states), np.uint16)
    in_band = np.zeros(n_states, np.bool_)
    value[0] = log_prob[0] + log_p_init
    for t in range(1, n_steps):
        previous = value[t - 1]
        through_outside = previous + outside
        order = np.argsort(-through_outside, kind="mergesort")  # descending; equal values by state
        for j in range(n_states):
            best, arg = -np.inf, -1
            for run in range(2):
                for k in range(runs[j, run, 0], runs[j, run, 1]):
                    in_band[k] = True
                    candidate = previous[k] + log_trans[k, j]
                    if candidate > best:
                        best, arg = candidate, k
            for m in range(n_states):  # the best predecessor outside the band
                k = order[m]
                if not in_band[k]:
                    candidate = through_outside[k]
                    if candidate > best or (candidate == best and k < arg):
                        best, arg = candidate, k
                    break
            for run in range(2):
                for k in range(runs[j, run, 0], runs[j, run, 1]):
                    in_band[k] = False
            ptr[t, j] = arg
            value[t, j] = log_prob[t, j] + best
    state = np.zeros(n_steps, np.int64)
    state[-1] = np.argmax(value[-1])
    for t in range(n_steps - 2, -1, -1):
        state[t] = ptr[t + 1, state[t + 1]]
    return state
