"""Benchmark: where a training step's time goes, and what share of the machine it uses.

The step is the training loop's own (``tts_adapt.training.loop.make_steps``) at the bundled
model's config and weights (``data/pretrained/multispeaker``), on the first batches the real
pipeline gives from a prepared cache (default ``exp/pretrain/prepared``; synthetic batches of
the same corpus's typical lengths when there is none), with training's thread settings.

* **Op time by part.** TensorFlow's profiler traces the steps; each op's own time is filed
  under the part its name says (``encoder/``, ``attention/``, ``postnet/``, the decoder's
  ``while/`` loop and ``prenet/``, ``losses/``, ``optimizer/``: clipping and Adam), forward
  or backward (``gradient_tape/``). Shares are of op time summed over the inter-op threads,
  so they add up to 100 % even where two ops ran at once; the tracer's own cost inflates
  small ops, so the shares lean towards the loops.
* **Input pipeline.** ``make_dataset`` alone, batches per second once warm (it overlaps the
  step through prefetch; its share is of step + pipeline, the cost were it not hidden), and
  the share of padding in an epoch's batches (frames, decoder steps, symbols).
* **Roofline.** The step's matmul and convolution FLOPs counted from the config's dimensions
  and each batch's padded shapes (forward multiply-adds x 2, training = 3 x forward: a
  backward matmul is two of the forward's size; elementwise ops left out), divided by the
  measured wall time, beside the dense float32 matmul FLOP/s of this machine measured in the
  same process (1024^3 matmuls, one at a time or one per inter-op thread at once: the faster)
  and a chain of the decoder LSTM's own matmul shape ([batch, 2 x units + memory] x [.., 4 x units]);
  the roofline ratio is against the faster of the two (small matmuls that stay in cache can win).
  Step passes and matmul measurements take turns for ``--rounds``; each one's best counts, so
  a busy spell from other work on the machine weighs on neither alone.

    .venv/bin/python benchmarks/step_profile.py [--data PREPARED] [--batches 4] [--rounds 3]
        [--json benchmarks/results/step_profile.json]   # the plot goes beside it (.png)
"""

from __future__ import annotations

import argparse
import collections
import glob
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "data" / "pretrained" / "multispeaker"
DEFAULT_DATA = REPO / "exp" / "pretrain" / "prepared"

# (part, pattern on an op's name): the first that matches takes the op
PARTS = (
    ("optimizer", r"(^|/)optimizer/"),
    ("losses", r"(^|/)losses/"),
    ("attention", r"(^|/)attention/"),
    ("encoder", r"(^|/)(encoder|symbol_embedding|speaker_embedding)(_\d+)?/"),
    ("postnet", r"(^|/)postnet(_\d+)?/"),
    ("decoder loop", r"(^|/)(while|prenet|decoder|TensorArrayV2\w*)(_\d+)?/"),
)
OTHER = "other"
TOP_OPS = 8  # the largest ops by own time, listed under the table
OP_EVENT = re.compile(r"^(?P<name>[^:]+):(?P<type>\w+)$")  # a TensorFlow op's trace: "scope/name:OpType"


def part_of(op_name: str) -> str:
    for part, pattern in PARTS:
        if re.search(pattern, op_name):
            return part
    return OTHER


# ---------------------------------------------------------------------------------------------- FLOPs


def forward_flops(c, batch: int, text: int, frames: int, memory_dim: int) -> dict[str, float]:
    """Multiply-adds x 2 of one teacher-forced pass's matmuls and convolutions, by part (own decoder)."""
    def mm(rows: float, inner: float, cols: float) -> float:
        return 2.0 * rows * inner * cols

    steps = frames // c.reduction
    encoder, width = 0.0, c.embed_dim
    for _ in range(c.encoder_conv_layers):
        encoder += mm(batch * text, c.encoder_conv_kernel * width, c.encoder_conv_channels)
        width = c.encoder_conv_channels
    u = c.encoder_lstm_units
    encoder += 2 * mm(batch * text, width + u, 4 * u)  # two directions
    ua, ud = c.attention_lstm_units, c.decoder_lstm_units
    attention = mm(batch * text, memory_dim, c.attention_dim) + steps * (
        mm(batch, ua, c.attention_dim)  # query
        + mm(batch * text, c.attention_kernel, c.attention_dim)  # location convolution (merged with its layer)
        + mm(batch * text, c.attention_dim, 1)  # energy
        + mm(batch, text, memory_dim))  # context
    decoder = mm(batch * steps, c.n_mels, c.prenet_units) + (c.prenet_layers - 1) * mm(
        batch * steps, c.prenet_units, c.prenet_units)
    decoder += steps * (mm(batch, c.prenet_units + memory_dim + ua, 4 * ua)
                        + mm(batch, ua + memory_dim + ud, 4 * ud)
                        + mm(batch, ud + memory_dim, c.reduction * (c.n_mels + 1)))  # frames and stop
    postnet, width = 0.0, c.n_mels
    for i in range(c.postnet_layers):
        out = c.n_mels if i == c.postnet_layers - 1 else c.postnet_channels
        postnet += mm(batch * frames, c.postnet_kernel * width, out)
        width = out
    return {"encoder": encoder, "attention": attention, "decoder loop": decoder, "postnet": postnet}


def step_flops(c, batch: dict, memory_dim: int) -> dict[str, float]:
    """Training FLOPs of one step: on the padded shapes (computed) and on the real lengths (useful)."""
    size, text = batch["text"].shape
    frames = batch["mel"].shape[1]
    padded = 3 * sum(forward_flops(c, size, text, frames, memory_dim).values())
    r = c.reduction
    useful = 3 * sum(sum(forward_flops(c, 1, int(t), -(-int(f) // r) * r, memory_dim).values())
                     for t, f in zip(batch["text_len"], batch["mel_len"]))
    return {"padded": padded, "useful": useful}


# ---------------------------------------------------------------------------------------------- inputs


def batches(data: Path | None, loaded, count: int) -> tuple[list[dict[str, np.ndarray]], str]:
    """The pipeline's first ``count`` batches (seed 0), or synthetic ones with the corpus's lengths."""
    if data is not None and data.is_dir():
        from tts_adapt.corpus.dataset import make_dataset

        dataset = make_dataset(data, loaded.table, list(loaded.speakers), 32, loaded.model.config.reduction, seed=0,
                               cleaners=loaded.cleaners)
        return [{k: v.numpy() for k, v in b.items()} for b in dataset.take(count)], str(data.relative_to(REPO))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from train_step import synthetic_batch

    return [synthetic_batch(loaded.model.config, 32, seed) for seed in range(count)], "synthetic"


def pipeline_cost(data: Path, loaded, batch_size: int, timed: int = 30) -> dict[str, float]:
    """Seconds per batch of the training pipeline alone once warm, and its padding over one epoch."""
    from tts_adapt.corpus.dataset import make_dataset

    config = loaded.model.config
    args = (data, loaded.table, list(loaded.speakers), batch_size, config.reduction)
    started = time.perf_counter()
    iterator = iter(make_dataset(*args, seed=1, cleaners=loaded.cleaners))
    next(iterator)
    first = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(timed):
        next(iterator)
    per_batch = (time.perf_counter() - started) / timed
    real = padded = real_steps = padded_steps = real_text = padded_text = 0
    for b in make_dataset(*args, seed=0, cleaners=loaded.cleaners, repeat=False):
        lengths = b["mel_len"].numpy()
        real += int(lengths.sum())
        padded += int(b["mel"].shape[0] * b["mel"].shape[1])
        real_steps += int((-(-lengths // config.reduction)).sum())
        padded_steps += int(b["mel"].shape[0] * b["mel"].shape[1] // config.reduction)
        real_text += int(b["text_len"].numpy().sum())
        padded_text += int(b["text"].shape[0] * b["text"].shape[1])
    return {"first_batch_s": first, "s_per_batch": per_batch,
            "padding_frames": 1 - real / padded, "padding_decoder_steps": 1 - real_steps / padded_steps,
            "padding_symbols": 1 - real_text / padded_text}


# ---------------------------------------------------------------------------------------------- timing


def matmul_flops_per_s(tf, rows: int, inner: int, cols: int, parallel: int, chain: int, repeats: int = 5) -> float:
    """FLOP/s of ``parallel`` independent chains of ``chain`` matmuls, [rows, inner] x [inner, cols] and
    back ([rows, cols] x [cols, inner]: as many FLOPs) in turn."""
    rng = np.random.default_rng(0)
    xs = [tf.constant(rng.normal(size=(rows, inner)).astype(np.float32)) for _ in range(parallel)]
    there = tf.constant((rng.normal(size=(inner, cols)) / np.sqrt(inner)).astype(np.float32))
    back = tf.constant((rng.normal(size=(cols, inner)) / np.sqrt(cols)).astype(np.float32))

    @tf.function
    def run(xs):
        outs = []
        for x in xs:
            for i in range(chain):
                x = tf.matmul(x, back if i % 2 else there)
            outs.append(tf.reduce_sum(x))
        return tf.add_n(outs)

    float(run(xs))
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        float(run(xs))
        best = min(best, time.perf_counter() - started)
    return 2.0 * rows * inner * cols * chain * parallel / best


def op_kind(name: str, op_type: str) -> str:
    """One name per op of the model's code: a gradient named by what it is the gradient of, a loop's
    op by its loop (``encoder/while``, ``while``: the decoder's), without copy numbers (``tacotron_1``)."""
    loop = re.match(r"(?:gradient_tape/)?(.*?)/while", name)
    tail = re.sub(r"^.*/while/", "", name.split("/gradients/")[-1])
    if loop:
        scope = re.sub(r"_\d+(?=/|$)", "", loop.group(1)).removeprefix("tacotron").strip("/")
        tail = f"{scope + '/' if scope else ''}while/{tail}"
    return re.sub(r"_\d+(?=/)", "", tail) + f" ({op_type})"


def profile_ops(tf, step, inputs: list, steps: int) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Op time (s per step) by part and direction, and by op kind, from a profiler trace of ``steps`` steps."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    seconds: dict[str, dict[str, float]] = collections.defaultdict(lambda: {"forward": 0.0, "backward": 0.0})
    kinds: dict[str, float] = collections.Counter()
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        for i in range(steps):
            float(step(*inputs[i % len(inputs)])["loss"])
        tf.profiler.experimental.stop()
        space = xplane_pb2.XSpace()
        space.ParseFromString(Path(glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True)[0]).read_bytes())
    for plane in space.planes:
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):  # the executor's threads
                continue
            for event in line.events:
                match = OP_EVENT.match(plane.event_metadata[event.metadata_id].name)
                if match:
                    name = match["name"]
                    direction = "backward" if name.startswith("gradient_tape/") else "forward"
                    seconds[part_of(name)][direction] += event.duration_ps * 1e-12 / steps
                    kinds[f"{direction} {op_kind(name, match['type'])}"] += event.duration_ps * 1e-12 / steps
    return dict(seconds), dict(kinds)


def run(args) -> dict:
    from tts_adapt.training.runtime import configure_threads, set_seed

    configure_threads()
    import tensorflow as tf

    from tts_adapt.model.loading import load_model
    from tts_adapt.training.config import TrainingConfig
    from tts_adapt.training.loop import make_optimizer, make_steps

    set_seed(0)
    loaded = load_model(MODEL)
    model, config = loaded.model, loaded.model.config
    data = Path(args.data) if args.data else DEFAULT_DATA
    fixed, source = batches(data, loaded, args.batches)
    training = TrainingConfig(batch_size=32)
    step, _ = make_steps(model, make_optimizer(training), training, model.trainable_variables)
    inputs = [({k: tf.constant(v) for k, v in b.items()}, tf.constant(training.learning_rate), tf.constant(1.0))
              for b in fixed]
    for i in range(len(inputs)):  # the first step traces; one of each batch warms every shape
        float(step(*inputs[i])["loss"])
    memory_dim = config.memory_dim(bool(loaded.speakers))
    threads = max(1, tf.config.threading.get_inter_op_parallelism_threads() or os.cpu_count() or 1)
    lstm_shape = (32, config.attention_lstm_units + memory_dim + config.decoder_lstm_units,
                  4 * config.decoder_lstm_units)
    times: list[list[float]] = [[] for _ in inputs]
    dense, small = 0.0, 0.0
    for _ in range(args.rounds):  # steps and matmuls interleaved; each one's best round counts (least disturbed)
        for i, batch_inputs in enumerate(inputs):
            started = time.perf_counter()
            float(step(*batch_inputs)["loss"])
            times[i].append(time.perf_counter() - started)
        # the machine's best: one chain, or one per inter-op thread at once
        dense = max(dense, *(matmul_flops_per_s(tf, 1024, 1024, 1024, parallel=p, chain=4)
                             for p in sorted({1, threads})))
        small = max(small, matmul_flops_per_s(tf, *lstm_shape, parallel=1, chain=64))
    per_batch = [min(t) for t in times]
    step_s = float(np.mean(per_batch))
    flops = [step_flops(config, b, memory_dim) for b in fixed]
    ops, kinds = profile_ops(tf, step, inputs, len(inputs))
    pipeline = pipeline_cost(data, loaded, 32) if data.is_dir() else None
    computed = float(np.mean([f["padded"] for f in flops]))
    useful = float(np.mean([f["useful"] for f in flops]))
    total_op = sum(sum(v.values()) for v in ops.values())
    import tts_adapt

    return {
        "code": str(Path(tts_adapt.__file__).parent.parent),  # which tree's tts_adapt ran (PYTHONPATH may choose)
        "model": str(MODEL.relative_to(REPO)),
        "data": source,
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg()[0],
        "threads": {"intra_op": tf.config.threading.get_intra_op_parallelism_threads(), "inter_op": threads},
        "batches": [{"text": list(b["text"].shape), "frames": int(b["mel"].shape[1]), "s_per_step": s}
                    for b, s in zip(fixed, per_batch)],
        "s_per_step": step_s,
        "op_seconds_per_step": ops,
        "op_seconds_total": total_op,
        "largest_ops": dict(collections.Counter(kinds).most_common(TOP_OPS)),
        "pipeline": pipeline,
        "flops_per_step": {"computed": computed, "useful": useful},
        "achieved_flops_per_s": computed / step_s,
        "dense_matmul_flops_per_s": dense,
        "lstm_matmul_flops_per_s": small,
        "lstm_matmul_shape": list(lstm_shape),
        "roofline_ratio": computed / step_s / max(dense, small),
    }


# ---------------------------------------------------------------------------------------------- reports


def shares(result: dict) -> list[tuple[str, float, float]]:
    """(part, forward share, backward share) of op time, the input pipeline counted beside the step."""
    ops = result["op_seconds_per_step"]
    step_total = result["op_seconds_total"]
    pipeline = result["pipeline"]["s_per_batch"] if result.get("pipeline") else 0.0
    # op time counts both threads; the pipeline's time is one batch's wall time on the whole machine
    pipeline_op = pipeline * step_total / result["s_per_step"]
    total = step_total + pipeline_op
    order = [part for part, _ in PARTS] + [OTHER]
    rows = [(part, ops[part]["forward"] / total, ops[part]["backward"] / total) for part in order if part in ops]
    if pipeline:
        rows.append(("input pipeline", pipeline_op / total, 0.0))
    return rows


def markdown(result: dict) -> str:
    """The results as markdown (docs/benchmarks.md renders the committed JSON with this)."""
    sizes = ", ".join(f"{b['text'][1]} symbols x {b['frames']} frames" for b in result["batches"])
    lines = [f"Batch 32 of `{result['data']}` ({sizes}), `{result['model']}`'s config, "
             f"{result['cpu_count']} CPUs (intra-op {result['threads']['intra_op']}, inter-op "
             f"{result['threads']['inter_op']} threads), load average {result['load_average']:.1f}: "
             f"**{result['s_per_step']:.3f} s/step**; a traced step: {result['op_seconds_total']:.3f} s of op time "
             "(both threads, the tracer's cost included).", "",
             "| part | forward | backward | share of op time |", "|---|---|---|---|"]
    for part, forward, backward in sorted(shares(result), key=lambda row: -(row[1] + row[2])):
        lines.append(f"| {part} | {forward:.1%} | {backward:.1%} | **{forward + backward:.1%}** |")
    gflops = result["flops_per_step"]
    peak = max(result["dense_matmul_flops_per_s"], result["lstm_matmul_flops_per_s"])
    lines += ["", "| FLOP/s (float32) | GFLOP/s | of the best matmul |", "|---|---|---|",
              f"| the step ({gflops['computed'] / 1e9:.1f} GFLOP on padded shapes, "
              f"{gflops['useful'] / 1e9:.1f} on real lengths) | {result['achieved_flops_per_s'] / 1e9:.1f} | "
              f"**{result['roofline_ratio']:.1%}** |",
              f"| a chain of the decoder LSTM's matmul {result['lstm_matmul_shape']} | "
              f"{result['lstm_matmul_flops_per_s'] / 1e9:.1f} | {result['lstm_matmul_flops_per_s'] / peak:.1%} |",
              f"| dense 1024^3 matmuls | {result['dense_matmul_flops_per_s'] / 1e9:.1f} | "
              f"{result['dense_matmul_flops_per_s'] / peak:.1%} |"]
    lines += ["", "Largest ops by own time (share of op time): " + "; ".join(
        f"{name} {seconds / result['op_seconds_total']:.1%}" for name, seconds in result["largest_ops"].items()) + "."]
    if result.get("pipeline"):
        p = result["pipeline"]
        lines += ["", f"Input pipeline alone: {p['s_per_batch'] * 1000:.0f} ms per batch once warm (first batch "
                  f"{p['first_batch_s']:.1f} s, loading the cache); padding in an epoch's batches: "
                  f"{p['padding_frames']:.1%} of mel frames, {p['padding_decoder_steps']:.1%} of decoder steps, "
                  f"{p['padding_symbols']:.1%} of symbols."]
    return "\n".join(lines)


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted(shares(result), key=lambda row: row[1] + row[2])
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [3, 2]})
    names = [row[0] for row in rows]
    left.barh(names, [row[1] * 100 for row in rows], label="forward", color="#4c72b0")
    left.barh(names, [row[2] * 100 for row in rows], left=[row[1] * 100 for row in rows], label="backward",
              color="#dd8452")
    left.set_xlabel("share of op time, %")
    left.set_title(f"training step, batch 32: {result['s_per_step']:.2f} s")
    left.legend(loc="lower right")
    bars = {"dense\nmatmul": result["dense_matmul_flops_per_s"],
            "LSTM-shaped\nmatmul": result["lstm_matmul_flops_per_s"], "training\nstep": result["achieved_flops_per_s"]}
    right.bar(list(bars), [v / 1e9 for v in bars.values()], color=["#999999", "#c4ad66", "#55a868"])
    right.set_ylabel("GFLOP/s (float32)")
    right.set_title(f"roofline ratio {result['roofline_ratio']:.1%} (of the best matmul)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help=f"prepared cache (default {DEFAULT_DATA.relative_to(REPO)} if present)")
    parser.add_argument("--batches", type=int, default=4, help="fixed batches the steps cycle through")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over the batches, each beside the "
                        "matmul measurements; the best counts")
    parser.add_argument("--json", help="write the results here, and the plot beside it (.png)")
    args = parser.parse_args()
    result = run(args)
    print(markdown(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        plot(result, Path(args.json).with_suffix(".png"))


if __name__ == "__main__":
    main()
