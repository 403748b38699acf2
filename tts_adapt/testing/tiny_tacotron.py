"""A tiny Tacotron-shaped network with every kind of speaker site, for surgery tests.

The same ``forward`` runs on TF1 graph tensors (to train and save a real
``Saver`` checkpoint) and on eager tensors (to compare the multi-speaker model
with the adapted one). Speaker sites: the attention memory layer (no bias of its
own: folds into ``attention_bias``), the LSTM kernel whose rows are
``[prenet; context (encoder | speaker); h]`` (speaker rows in the middle), and the
frame projection fed by ``[h; context]`` (speaker rows at the end).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

EMB, ENC, SPK, ATT, PRENET, UNITS, MELS, STEPS = 8, 6, 4, 5, 3, 4, 2, 3
SCOPE = "Tacotron_model/inference"


def names() -> dict[str, str]:
    s = SCOPE
    return {
        "embedding": f"{s}/inputs_embedding",
        "speakers": f"{s}/speaker_embedding",
        "enc_kernel": f"{s}/encoder/kernel",
        "enc_bias": f"{s}/encoder/bias",
        "memory": f"{s}/memory_layer/kernel",
        "query": f"{s}/decoder/query_layer/kernel",
        "att_v": f"{s}/decoder/attention_v",
        "att_bias": f"{s}/decoder/attention_bias",
        "lstm_kernel": f"{s}/decoder/decoder_LSTM/kernel",
        "lstm_bias": f"{s}/decoder/decoder_LSTM/bias",
        "proj_kernel": f"{s}/decoder/frame_projection/kernel",
        "proj_bias": f"{s}/decoder/frame_projection/bias",
    }


def shapes(n_symbols: int, n_speakers: int) -> dict[str, tuple[int, ...]]:
    spk = SPK if n_speakers else 0
    memory = ENC + spk
    out = {
        "embedding": (n_symbols, EMB),
        "enc_kernel": (EMB, ENC),
        "enc_bias": (ENC,),
        "memory": (memory, ATT),
        "query": (UNITS, ATT),
        "att_v": (ATT,),
        "att_bias": (ATT,),
        "lstm_kernel": (PRENET + memory + UNITS, 4 * UNITS),
        "lstm_bias": (4 * UNITS,),
        "proj_kernel": (UNITS + memory, MELS),
        "proj_bias": (MELS,),
    }
    if n_speakers:
        out["speakers"] = (n_speakers, SPK)
    return out


def layout_dict(tf2: bool = False) -> dict:
    """The layout a user would write for the tiny checkpoint (TF1 names or TF2 object paths)."""
    n = {role: f"model/{object_path(role)}" for role in names()} if tf2 else names()
    return {
        "symbol_embedding": n["embedding"],
        "speaker_embedding": n["speakers"],
        "speaker_dim": SPK,
        "sites": [
            {"kernel": n["memory"], "speaker_rows": [ENC, ENC + SPK], "fold_into": n["att_bias"]},
            {"kernel": n["lstm_kernel"], "speaker_rows": [PRENET + ENC, PRENET + ENC + SPK], "fold_into": n["lstm_bias"]},
            {"kernel": n["proj_kernel"], "speaker_rows": [UNITS + ENC, UNITS + ENC + SPK], "fold_into": n["proj_bias"]},
        ],
    }


def forward(w: dict, text, speaker=None, prenet=None):
    """Mel frames [batch, steps, mels] from text ids [batch, time] (and speaker ids [batch])."""
    n = names()
    emb = tf.gather(w[n["embedding"]], text)  # [B, T, EMB]
    enc = tf.tanh(tf.einsum("bte,ec->btc", emb, w[n["enc_kernel"]]) + w[n["enc_bias"]])  # [B, T, ENC]
    memory = enc
    if speaker is not None:
        spk = tf.gather(w[n["speakers"]], speaker)  # [B, SPK]
        spk = tf.tile(spk[:, None, :], [1, tf.shape(enc)[1], 1])  # [B, T, SPK]
        memory = tf.concat([enc, spk], axis=-1)  # [B, T, ENC+SPK]
    keys = tf.einsum("btm,ma->bta", memory, w[n["memory"]])  # [B, T, ATT]
    batch = tf.shape(text)[0]
    h = tf.zeros([batch, UNITS])
    c = tf.zeros([batch, UNITS])
    frames = []
    for t in range(STEPS):
        query = tf.matmul(h, w[n["query"]])  # [B, ATT]
        score = tf.reduce_sum(w[n["att_v"]] * tf.tanh(keys + query[:, None, :] + w[n["att_bias"]]), -1)  # [B, T]
        alpha = tf.nn.softmax(score, axis=-1)
        context = tf.reduce_sum(alpha[:, :, None] * memory, axis=1)  # [B, ENC(+SPK)]
        x = tf.concat([prenet[:, t], context, h], axis=-1)  # [B, PRENET + memory + UNITS]
        i, j, f, o = tf.split(tf.matmul(x, w[n["lstm_kernel"]]) + w[n["lstm_bias"]], 4, axis=-1)
        c = tf.sigmoid(f + 1.0) * c + tf.sigmoid(i) * tf.tanh(j)  # TF1 LSTMCell: forget_bias added at run time
        h = tf.sigmoid(o) * tf.tanh(c)
        frames.append(tf.matmul(tf.concat([h, context], -1), w[n["proj_kernel"]]) + w[n["proj_bias"]])
    return tf.stack(frames, axis=1)  # [B, STEPS, MELS]


def inputs(n_symbols: int, n_speakers: int, seed: int = 0, batch: int = 3, time: int = 5):
    rng = np.random.default_rng(seed)
    return {
        "text": rng.integers(0, n_symbols, size=(batch, time)).astype(np.int32),
        "speaker": rng.integers(0, max(n_speakers, 1), size=(batch,)).astype(np.int32),
        "prenet": rng.standard_normal((batch, STEPS, PRENET)).astype(np.float32),
        "target": rng.standard_normal((batch, STEPS, MELS)).astype(np.float32),
    }


def make_tf1_checkpoint(directory, n_symbols: int, n_speakers: int, steps: int = 2, sharded: bool = False,
                        seed: int = 0) -> str:
    """Train the tiny graph a few Adam steps with tf.compat.v1 and save it with a Saver."""
    graph = tf.Graph()
    n = names()
    data = inputs(n_symbols, n_speakers, seed)
    with graph.as_default():
        tf.compat.v1.set_random_seed(seed)
        weights = {}
        for i, (role, shape) in enumerate(shapes(n_symbols, n_speakers).items()):
            device = "/cpu:1" if sharded and i % 2 else "/cpu:0"
            with tf.device(device):
                weights[n[role]] = tf.compat.v1.get_variable(
                    n[role], shape=shape, initializer=tf.compat.v1.random_normal_initializer(stddev=0.5))
        global_step = tf.compat.v1.train.get_or_create_global_step()
        out = forward(weights, tf.constant(data["text"]), tf.constant(data["speaker"]) if n_speakers else None,
                      tf.constant(data["prenet"]))
        loss = tf.reduce_mean(tf.square(out - data["target"]))
        train = tf.compat.v1.train.AdamOptimizer(0.01).minimize(loss, global_step=global_step)
        saver = tf.compat.v1.train.Saver(sharded=sharded)
        config = tf.compat.v1.ConfigProto(device_count={"CPU": 2})
        with tf.compat.v1.Session(graph=graph, config=config) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            for _ in range(steps):
                sess.run(train)
            return saver.save(sess, f"{directory}/model.ckpt", global_step=global_step)


def load_weights(prefix: str) -> dict[str, np.ndarray]:
    reader = tf.train.load_checkpoint(prefix)
    return {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()}


def object_path(role: str) -> str:
    """The TF2 object path of a weight (the TF1 name without the model scope)."""
    return names()[role][len(SCOPE) + 1:]


class ToyModule(tf.Module):
    """The tiny network as a ``tf.Module`` tree, for object-based (TF2) checkpoints."""

    def __init__(self, n_symbols: int, n_speakers: int, seed: int = 0) -> None:
        super().__init__(name="toy")
        rng = np.random.default_rng(seed)
        self.roles = tuple(shapes(n_symbols, n_speakers))  # strings only: variables are tracked by path
        for role, shape in shapes(n_symbols, n_speakers).items():
            *scopes, leaf = object_path(role).split("/")
            parent = self
            for scope in scopes:
                if not hasattr(parent, scope):
                    setattr(parent, scope, tf.Module(name=scope))
                parent = getattr(parent, scope)
            var = tf.Variable(rng.normal(0, 0.5, shape).astype(np.float32), name=leaf)
            setattr(parent, leaf, var)

    def variable(self, role: str) -> tf.Variable:
        node = self
        for part in object_path(role).split("/"):
            node = getattr(node, part)
        return node

    def weights(self) -> dict:
        n = names()
        return {n[role]: self.variable(role) for role in self.roles}


def make_tf2_checkpoint(directory, n_symbols: int, n_speakers: int, steps: int = 2, seed: int = 0) -> str:
    """Train the tiny module a few Adam steps eagerly and save it with ``tf.train.Checkpoint``."""
    module = ToyModule(n_symbols, n_speakers, seed)
    optimizer = tf.compat.v1.train.AdamOptimizer(0.01)
    data = inputs(n_symbols, n_speakers, seed)

    def loss():
        out = forward(module.weights(), data["text"], data["speaker"] if n_speakers else None, data["prenet"])
        return tf.reduce_mean(tf.square(out - data["target"]))

    for _ in range(steps):
        optimizer.minimize(loss, var_list=[module.variable(r) for r in module.roles])
    return tf.train.Checkpoint(model=module, optimizer=optimizer).save(f"{directory}/ckpt")
