"""TF1 Tacotron-2 checkpoints made by TensorFlow itself, and their forward pass with TF1 semantics.

The proof of ``tts-adapt import`` must not lean on the toolkit's model, so this module knows
nothing of it. Variable names are those the sources' TF1 layers give their weights (Real-Time-
Voice-Cloning at 5425557 ``synthesizer/models/``, Rayhane-mamah/Tacotron-2 ``tacotron/models/``):
``tf.layers`` name a dense ``kernel``/``bias`` under their layer name, ``conv1d`` and
``batch_normalization`` likewise, an ``LSTMCell`` one ``kernel`` [input + units, 4 * units]
(gates i, j, f, o; ``forget_bias`` 1.0 added at run time) and a ``bias``, ``dynamic_decode``
opens the ``decoder`` scope, ``bidirectional_dynamic_rnn`` ``bidirectional_rnn/fw|bw``,
``MultiRNNCell`` ``multi_rnn_cell/cell_<i>``; the attention's memory layer is built outside the
decoder, its query and location layers inside ``Location_Sensitive_Attention``. Here they are made
with ``tf.compat.v1.get_variable`` (TF 2.21 has no ``tf.compat.v1`` layers or RNN cells), trained a
few Adam steps in a ``tf.compat.v1`` graph so the slots are TensorFlow's own, and saved by a Saver.

:func:`build_forward` is the network as those sources run it at inference, written from their
semantics: encoder convolutions over the padded input, batch norm with moving statistics,
zoneout LSTMs whose output is the new h while the state they carry is the fixed mix
``(1 - z) new + z previous``, Bahdanau attention over the masked memory with location features
from the cumulative alignments and a ``-inf`` score on padding, a zero first context, teacher
forcing on every r-th frame, prenet dropout off.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

SCOPE = "Tacotron_model/inference"
RTVC_SYMBOLS = ["_", "~", *"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!'\"(),-.:;? "]


@dataclass(frozen=True)
class Dims:
    n_symbols: int = len(RTVC_SYMBOLS)
    embed: int = 8
    enc_convs: int = 3
    enc_channels: int = 12
    enc_kernel: int = 5
    enc_units: int = 6  # per direction
    speaker: int = 4  # 0: no speaker vector (Rayhane-mamah)
    attention: int = 7
    att_filters: int = 3
    att_kernel: int = 5
    prenet: tuple[int, ...] = (10, 10)
    dec_layers: int = 2
    dec_units: int = 9
    postnet_layers: int = 5
    postnet_channels: int = 11
    postnet_kernel: int = 5
    n_mels: int = 6
    r: int = 2
    zoneout: float = 0.1
    bn_after_activation: bool = False  # Rayhane-mamah's batch_norm_position="after"
    epsilon: float = 1e-3  # tf.layers.batch_normalization's default
    clip: tuple[float, float] | None = None  # Rayhane-mamah's clip_outputs range
    linear_postnet: bool = False  # Rayhane-mamah's predict_linear: a CBHG to linear spectrograms (never read here)

    @property
    def memory(self) -> int:
        return 2 * self.enc_units + self.speaker


RTVC_FULL = Dims(embed=512, enc_channels=512, enc_units=256, speaker=256, attention=128, att_filters=32,
                 att_kernel=31, prenet=(256, 256), dec_units=1024, postnet_channels=512, n_mels=80, r=2)
RAYHANE_SMALL = Dims(speaker=0, r=1, bn_after_activation=True, clip=(-1.1, 1.0), linear_postnet=True)
LINEAR_POSTNET = {"CBHG_postnet/CBHG_postnet_highwaynet_1/H/kernel": (4, 4),  # two of its many variables
                  "cbhg_linear_specs_projection/projection_cbhg_linear_specs_projection/kernel": (4, 9)}


def _conv_names(prefix: str, layers: int, postnet: bool = False) -> list[str]:
    """``conv_layer_<n>_<scope>``; the sources' Postnet names its last layer 5 whatever the count."""
    numbers = [i + 1 for i in range(layers)]
    if postnet:
        numbers[-1] = 5
    return [f"{prefix}/conv_layer_{n}_{prefix}" for n in numbers]


def names(d: Dims) -> dict[str, tuple[int, ...]]:
    """Every variable of the network (as the sources name it) with its shape."""
    out: dict[str, tuple[int, ...]] = {"inputs_embedding": (d.n_symbols, d.embed)}

    def conv(prefix, k, cin, cout):
        out[f"{prefix}/conv1d/kernel"] = (k, cin, cout)
        out[f"{prefix}/conv1d/bias"] = (cout,)
        for stat in ("gamma", "beta", "moving_mean", "moving_variance"):
            out[f"{prefix}/batch_normalization/{stat}"] = (cout,)

    channels = d.embed
    for prefix in _conv_names("encoder_convolutions", d.enc_convs):
        conv(prefix, d.enc_kernel, channels, d.enc_channels)
        channels = d.enc_channels
    for direction in ("fw", "bw"):
        cell = f"encoder_LSTM/bidirectional_rnn/{direction}/encoder_{direction}_LSTM"
        out[f"{cell}/kernel"] = (d.enc_channels + d.enc_units, 4 * d.enc_units)
        out[f"{cell}/bias"] = (4 * d.enc_units,)
    out["memory_layer/kernel"] = (d.memory, d.attention)
    width = d.n_mels
    for i, units in enumerate(d.prenet):
        out[f"decoder/decoder_prenet/dense_{i + 1}/kernel"] = (width, units)
        out[f"decoder/decoder_prenet/dense_{i + 1}/bias"] = (units,)
        width = units
    width = d.prenet[-1] + d.memory
    for i in range(d.dec_layers):
        cell = f"decoder/decoder_LSTM/multi_rnn_cell/cell_{i}/decoder_LSTM_{i + 1}"
        out[f"{cell}/kernel"] = (width + d.dec_units, 4 * d.dec_units)
        out[f"{cell}/bias"] = (4 * d.dec_units,)
        width = d.dec_units
    att = "decoder/Location_Sensitive_Attention"
    out[f"{att}/query_layer/kernel"] = (d.dec_units, d.attention)
    out[f"{att}/location_features_convolution/kernel"] = (d.att_kernel, 1, d.att_filters)
    out[f"{att}/location_features_convolution/bias"] = (d.att_filters,)
    out[f"{att}/location_features_layer/kernel"] = (d.att_filters, d.attention)
    out[f"{att}/attention_variable_projection"] = (d.attention,)
    out[f"{att}/attention_bias"] = (d.attention,)
    for scope, units in (("linear_transform_projection", d.n_mels * d.r), ("stop_token_projection", d.r)):
        out[f"decoder/{scope}/projection_{scope}/kernel"] = (d.dec_units + d.memory, units)
        out[f"decoder/{scope}/projection_{scope}/bias"] = (units,)
    channels = d.n_mels
    for prefix in _conv_names("postnet_convolutions", d.postnet_layers, postnet=True):
        conv(prefix, d.postnet_kernel, channels, d.postnet_channels)
        channels = d.postnet_channels
    out["postnet_projection/projection_postnet_projection/kernel"] = (d.postnet_channels, d.n_mels)
    out["postnet_projection/projection_postnet_projection/bias"] = (d.n_mels,)
    if d.linear_postnet:
        out.update(LINEAR_POSTNET)
    return {f"{SCOPE}/{k}": v for k, v in out.items()}


def make_variables(d: Dims, seed: int) -> dict[str, tf.Variable]:
    """Graph variables with values large enough that a misplaced row or gate shows.

    A matrix's values shrink with its fan-in, as a trained network's do: at RTVC's size, weights of
    a fixed scale would drive every unit far into saturation, where float32 rounding is amplified
    layer by layer and no comparison of two implementations means anything.
    """
    rng = np.random.default_rng(seed)
    variables = {}
    for name, shape in names(d).items():
        value = rng.normal(0.0, 0.4 if len(shape) < 2 else 1.5 / np.sqrt(np.prod(shape[:-1])), shape)
        if name.endswith("moving_variance"):
            value = 0.5 + np.abs(value)
        elif name.endswith("gamma"):
            value = 1.0 + 0.3 * value
        variables[name] = tf.compat.v1.get_variable(
            name, initializer=value.astype(np.float32), trainable="moving_" not in name)
    return variables


@dataclass
class Inputs:
    text: np.ndarray  # int32 [batch, time], no padding (see docs/import-tf1.md: TF1 convolutions see padding)
    mel: np.ndarray  # float32 [batch, steps * r, n_mels]
    speaker: np.ndarray | None  # float32 [batch, speaker] or None
    text_len: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.text_len = np.full([self.text.shape[0]], self.text.shape[1], np.int32)


def make_inputs(d: Dims, seed: int = 0, batch: int = 2, time: int = 9, steps: int = 5) -> Inputs:
    rng = np.random.default_rng(seed)
    speaker = rng.normal(0, 1, (batch, d.speaker)).astype(np.float32) if d.speaker else None
    return Inputs(rng.integers(0, d.n_symbols, (batch, time)).astype(np.int32),
                  rng.uniform(-4, 4, (batch, steps * d.r, d.n_mels)).astype(np.float32), speaker)


def _dense(x, w, prefix, activation=None):
    y = tf.tensordot(x, w[f"{prefix}/kernel"], 1) + w[f"{prefix}/bias"]
    return y if activation is None else activation(y)


def _conv_bn(x, w, prefix, activation, d: Dims):
    """conv1d (same padding, bias) and batch norm with moving statistics, in the source's order."""
    y = tf.nn.conv1d(x, w[f"{prefix}/conv1d/kernel"], 1, "SAME") + w[f"{prefix}/conv1d/bias"]
    bn = lambda t: tf.nn.batch_normalization(  # noqa: E731
        t, w[f"{prefix}/batch_normalization/moving_mean"], w[f"{prefix}/batch_normalization/moving_variance"],
        w[f"{prefix}/batch_normalization/beta"], w[f"{prefix}/batch_normalization/gamma"], d.epsilon)
    return bn(activation(y)) if d.bn_after_activation else activation(bn(y))


def _zoneout_lstm(x, state, w, prefix, z):
    """TF1 LSTMCell (forget_bias 1.0 at run time) in ZoneoutLSTMCell at inference: (output, state)."""
    c_prev, h_prev = state
    i, j, f, o = tf.split(tf.matmul(tf.concat([x, h_prev], 1), w[f"{prefix}/kernel"]) + w[f"{prefix}/bias"], 4, 1)
    c = tf.sigmoid(f + 1.0) * c_prev + tf.sigmoid(i) * tf.tanh(j)
    h = tf.sigmoid(o) * tf.tanh(c)
    return h, ((1 - z) * c + z * c_prev, (1 - z) * h + z * h_prev)


def _rnn(x, lengths, w, prefix, d: Dims):
    """dynamic_rnn with sequence_length: outputs zero and state carried past each item's end."""
    batch, time = x.shape[0], x.shape[1]
    state = (tf.zeros([batch, d.enc_units]), tf.zeros([batch, d.enc_units]))
    outputs = []
    for t in range(time):
        out, new = _zoneout_lstm(x[:, t], state, w, prefix, d.zoneout)
        alive = tf.cast(t < lengths, tf.float32)[:, None]
        outputs.append(out * alive)
        state = tuple(alive * n + (1 - alive) * s for n, s in zip(new, state))
    return tf.stack(outputs, 1)


def build_forward(w: dict, d: Dims, text, text_len, mel, speaker=None) -> dict[str, tf.Tensor]:
    """The teacher-forced network in the graph: mel, mel_post [B, F, n_mels], stop_logits [B, F],
    alignment [B, steps, time] (text, mel and speaker as constants or placeholders of static shape)."""
    s = SCOPE
    x = tf.nn.embedding_lookup(w[f"{s}/inputs_embedding"], text)  # [B, T, embed]
    for prefix in _conv_names("encoder_convolutions", d.enc_convs):
        x = _conv_bn(x, w, f"{s}/{prefix}", tf.nn.relu, d)  # dropout off at inference
    fw = _rnn(x, text_len, w, f"{s}/encoder_LSTM/bidirectional_rnn/fw/encoder_fw_LSTM", d)
    reverse = lambda t: tf.reverse_sequence(t, text_len, seq_axis=1, batch_axis=0)  # noqa: E731
    bw = reverse(_rnn(reverse(x), text_len, w, f"{s}/encoder_LSTM/bidirectional_rnn/bw/encoder_bw_LSTM", d))
    memory = tf.concat([fw, bw], 2)  # [B, T, 2 * enc_units]
    batch, time = memory.shape[0], memory.shape[1]
    if d.speaker:
        memory = tf.concat([memory, tf.tile(speaker[:, None, :], [1, time, 1])], 2)  # [B, T, memory]
    valid = tf.sequence_mask(text_len, time)
    values = memory * tf.cast(valid, tf.float32)[:, :, None]  # _prepare_memory
    keys = tf.tensordot(values, w[f"{s}/memory_layer/kernel"], 1)  # [B, T, attention]
    att = f"{s}/decoder/Location_Sensitive_Attention"
    states = [(tf.zeros([batch, d.dec_units]), tf.zeros([batch, d.dec_units])) for _ in range(d.dec_layers)]
    context = tf.zeros([batch, d.memory])
    cumulative = tf.zeros([batch, time])
    previous = tf.concat([tf.zeros([batch, 1, d.n_mels]), mel[:, d.r - 1::d.r][:, :-1]], 1)  # go frame first
    frames, stops, alignments = [], [], []
    for t in range(mel.shape[1] // d.r):
        p = previous[:, t]
        for i in range(len(d.prenet)):
            p = _dense(p, w, f"{s}/decoder/decoder_prenet/dense_{i + 1}", tf.nn.relu)
        out = tf.concat([p, context], -1)
        for i in range(d.dec_layers):
            out, states[i] = _zoneout_lstm(out, states[i], w,
                                           f"{s}/decoder/decoder_LSTM/multi_rnn_cell/cell_{i}/decoder_LSTM_{i + 1}",
                                           d.zoneout)
        query = tf.matmul(out, w[f"{att}/query_layer/kernel"])[:, None, :]
        f = tf.nn.conv1d(cumulative[:, :, None], w[f"{att}/location_features_convolution/kernel"], 1, "SAME")
        f = f + w[f"{att}/location_features_convolution/bias"]
        location = tf.tensordot(f, w[f"{att}/location_features_layer/kernel"], 1)
        energy = tf.reduce_sum(w[f"{att}/attention_variable_projection"]
                               * tf.tanh(keys + query + location + w[f"{att}/attention_bias"]), 2)
        energy = tf.where(valid, energy, tf.fill(tf.shape(energy), -np.inf))
        alignment = tf.nn.softmax(energy, -1)
        context = tf.matmul(alignment[:, None, :], values)[:, 0]
        cumulative = cumulative + alignment
        projections_input = tf.concat([out, context], -1)
        frames.append(_dense(projections_input, w,
                             f"{s}/decoder/linear_transform_projection/projection_linear_transform_projection"))
        stops.append(_dense(projections_input, w,
                            f"{s}/decoder/stop_token_projection/projection_stop_token_projection"))
        alignments.append(alignment)
    clip = (lambda t: t) if d.clip is None else (lambda t: tf.minimum(tf.maximum(t, d.clip[0]), d.clip[1]))
    decoded = clip(tf.reshape(tf.stack(frames, 1), [batch, -1, d.n_mels]))
    x = decoded
    prefixes = _conv_names("postnet_convolutions", d.postnet_layers, postnet=True)
    for n, prefix in enumerate(prefixes):
        x = _conv_bn(x, w, f"{s}/{prefix}", tf.identity if n == len(prefixes) - 1 else tf.tanh, d)
    residual = _dense(x, w, f"{s}/postnet_projection/projection_postnet_projection")
    return {"mel": decoded, "mel_post": clip(decoded + residual),
            "stop_logits": tf.reshape(tf.stack(stops, 1), [batch, -1]), "alignment": tf.stack(alignments, 1)}


def make_checkpoint(directory, d: Dims, seed: int = 0, adam_steps: int = 2) -> str:
    """Train the network ``adam_steps`` Adam steps (teacher-forced) and save it with a Saver; returns the prefix."""
    graph = tf.Graph()
    data = make_inputs(d, seed=seed + 1)
    with graph.as_default():
        w = make_variables(d, seed)
        outputs = build_forward(w, d, tf.constant(data.text), tf.constant(data.text_len), tf.constant(data.mel),
                                None if data.speaker is None else tf.constant(data.speaker))
        loss = (tf.reduce_mean(tf.square(outputs["mel"] - data.mel))
                + tf.reduce_mean(tf.square(outputs["mel_post"] - data.mel)) + tf.reduce_mean(outputs["stop_logits"]))
        if d.linear_postnet:  # trained too, so it has Adam slots as in a real checkpoint
            loss += sum(tf.reduce_sum(w[f"{SCOPE}/{name}"]) for name in LINEAR_POSTNET)
        step = tf.compat.v1.train.get_or_create_global_step()
        train = tf.compat.v1.train.AdamOptimizer(1e-3).minimize(loss, global_step=step)
        saver = tf.compat.v1.train.Saver()
        with tf.compat.v1.Session(graph=graph) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            for _ in range(adam_steps):
                sess.run(train)
            return saver.save(sess, f"{directory}/tacotron_model.ckpt", global_step=step)


def reference_outputs(prefix: str, d: Dims, data: Inputs) -> dict[str, np.ndarray]:
    """The TF1 network's outputs for ``data``: its weights restored by a Saver into a fresh graph."""
    graph = tf.Graph()
    with graph.as_default():
        w = {name: tf.compat.v1.get_variable(name, shape) for name, shape in names(d).items()}
        outputs = build_forward(w, d, tf.constant(data.text), tf.constant(data.text_len), tf.constant(data.mel),
                                None if data.speaker is None else tf.constant(data.speaker))
        with tf.compat.v1.Session(graph=graph) as sess:
            tf.compat.v1.train.Saver(w).restore(sess, prefix)
            return sess.run(outputs)
