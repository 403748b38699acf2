#!/usr/bin/env bash
# Pretrain the bundled multi-speaker model on a corpus synthesised offline from Debian voices.
#
# Usage: recipes/pretrain_multispeaker/run.sh [--stage N] [--stop-stage M] [--steps S] [--cleaners C] [--force true]
#                                            [--check-sentences K] [--eval-items N] [--corpus-config FILE]
#                                            [--plain-sentences FILE]
#
#   0 corpus   synthesise 1,000 sentences x 9 voices (flite, festival, espeak-ng) -> exp/pretrain/corpus
#   1 symbols  phoneme table from the corpus transcripts (and held-out sentences) -> exp/pretrain/symbols.txt
#   2 prepare  normalise every speaker identically, mel features                 -> exp/pretrain/prepared
#   3 train    train (resumes from exp/pretrain/train when interrupted)          -> exp/pretrain/train
#   4 check    evaluate on validation recordings (with the recogniser); plain sentences
#              heard in every voice; held-out sentences with alignment plots      -> exp/pretrain/check
#   5 bundle   the newest checkpoint alone (<= 40 MB), to copy to data/pretrained/multispeaker
#                                                                               -> exp/pretrain/bundle
#   6 vocoder  train the neural vocoder on the corpus recordings, paired with their own mels and
#              with the acoustic model's teacher-forced mels (resumes)           -> exp/pretrain/vocoder
#   7 vocbundle  the vocoder alone (float16, ~6 MB), to copy to data/pretrained/vocoder
#                                                                               -> exp/pretrain/vocoder_bundle
#
# Training takes one to two hours on 2 CPU cores, the vocoder (stage 6) about as long; run it in the background with
#   nohup recipes/pretrain_multispeaker/run.sh > exp/pretrain.out 2>&1 &
# and run the same command again to resume after an interruption.

recipe=pretrain
steps=15000           # training steps in all (a resumed run continues to this count)
cleaners=phonemes     # text front-end: phonemes (espeak-ng IPA) or english (characters)
check_sentences=3     # held-out sentences synthesised per speaker in stage 4
eval_items=45         # validation recordings scored by tts-adapt evaluate in stage 4
corpus_config=""      # the corpus description (default: conf/corpus.yaml)
plain_sentences=""    # stage 4 intelligibility sentences (default: data/eval/plain_sentences.txt)
vocoder_steps=20000   # stage 6: vocoder training steps in all (resumes to this count)
teacher=""            # stage 6: acoustic model for the teacher-forced mels (default: stage 3's exp/pretrain/train)
. "$(dirname "$0")/../common/stages.sh"
. "$REPO_ROOT/recipes/common/env.sh"
parse_options "$@"

conf=$RECIPE_DIR/conf
corpus_config=$(abs_path "${corpus_config:-$conf/corpus.yaml}")
plain_sentences=$(abs_path "${plain_sentences:-$REPO_ROOT/data/eval/plain_sentences.txt}")
exp=exp/$recipe
teacher=${teacher:+$(abs_path "$teacher")}; teacher=${teacher:-$exp/train}
debian_packages=(flite festival festvox-kdlpc16k espeak-ng wordnet-base fortunes-min)

((stage > 0)) || ensure_debian_packages "${debian_packages[@]}"
ensure_venv

# 0. The corpus: 1,000 sentences spoken by each Debian voice, and held-out sentences none of them reads.
stage_0() {
  fresh_dir "$exp/corpus"
  python "$RECIPE_DIR/local/make_corpus.py" --config "$corpus_config" --output "$exp/corpus"
}
run_stage 0 "corpus from Debian voices" --in "$corpus_config" --in "$RECIPE_DIR/local" \
  --out "$exp/corpus/metadata.csv" -- stage_0

# 1. The symbol table: every sentence the recipe will ever speak, training and held-out, must be encodable.
stage_1() {
  { cut -d'|' -f3 "$exp/corpus/metadata.csv"; cat "$exp/corpus/heldout.txt"; } \
    | awk '{ print NR "|" $0 }' > "$exp/all_sentences.csv"
  tts-adapt symbols suggest --transcripts "$exp/all_sentences.csv" --cleaners "$cleaners" --output "$exp/symbols.txt"
  echo "$(wc -l < "$exp/symbols.txt") symbols -> $exp/symbols.txt"
}
run_stage 1 "symbol table" --in "$exp/corpus/metadata.csv" --out "$exp/symbols.txt" --sig "cleaners=$cleaners" \
  -- stage_1

# 2. Features: every speaker normalised alike. No fresh_dir: prepare brings an earlier cache up to date
# (recomputing all if the audio settings changed).
stage_2() {
  tts-adapt prepare --metadata "$exp/corpus/metadata.csv" --wavs "$exp/corpus" --output "$exp/prepared" \
    --symbols "$exp/symbols.txt" --cleaners "$cleaners" --config "$conf/train.yaml"
}
run_stage 2 "prepare features" --in "$exp/corpus/metadata.csv" --in "$exp/symbols.txt" --in "$conf/train.yaml" \
  --out "$exp/prepared/prepared.json" --sig "cleaners=$cleaners" -- stage_2

# 3. Training. No fresh_dir: train continues from the newest checkpoint in its output directory (an hour's
# work is never deleted by a recipe; to start over, move exp/pretrain/train away).
stage_3() {
  tts-adapt train --data "$exp/prepared" --output "$exp/train" --config "$conf/train.yaml" --steps "$steps"
}
run_stage 3 "train ($steps steps)" --in "$exp/prepared/prepared.json" --in "$conf/train.yaml" \
  --out "$exp/train" --sig "steps=$steps" -- stage_3

# 4. The check: alignment and distortion on validation recordings (sentences no speaker trained on);
# intelligibility on plain sentences no speaker read, in every voice (the recogniser's verdict); the first
# --check-sentences held-out sentences in every voice, with mels and alignment plots (one process).
stage_4() {
  fresh_dir "$exp/check"
  mkdir -p "$exp/check"
  tts-adapt evaluate "$exp/train" --data "$exp/prepared" --max-items "$eval_items" \
    --output "$exp/check/evaluate.html" --format json > "$exp/check/evaluate.json"
  tts-adapt evaluate "$exp/train" --texts "$plain_sentences" --save-audio "$exp/check/plain" \
    --output "$exp/check/intelligibility.html" --format json > "$exp/check/intelligibility.json"
  awk -v n="$check_sentences" 'NR <= n { print "heldout" NR "|" $0 }' "$exp/corpus/heldout.txt" \
    > "$exp/check/heldout.csv"
  tts-adapt synthesize "$exp/train" --texts "$exp/check/heldout.csv" --all-speakers --seed 0 \
    --output-dir "$exp/check/heldout" --mels --alignments
  echo "scores: $exp/check/{evaluate,intelligibility}.html (and .json)"
  echo "held-out sentences with their alignment plots: $exp/check/heldout/<speaker>/"
}
run_stage 4 "held-out check" --in "$exp/train" --in "$plain_sentences" --out "$exp/check" \
  --sig "sentences=$check_sentences eval=$eval_items" -- stage_4

# 5. The newest checkpoint alone (<= 40 MB), with the check's scores, to copy to data/pretrained/multispeaker.
stage_5() {
  fresh_dir "$exp/bundle"
  python "$RECIPE_DIR/local/bundle.py" --train "$exp/train" --check "$exp/check" --output "$exp/bundle"
  echo "to ship it: rm -rf data/pretrained/multispeaker && cp -r $exp/bundle data/pretrained/multispeaker"
  echo "(and update data/pretrained/multispeaker/MODEL_CARD.md)"
}
run_stage 5 "bundle the model" --in "$exp/train" --in "$exp/check" --out "$exp/bundle/manifest.json" -- stage_5

# 6. The vocoder. No fresh_dir: hours of training resume from the newest checkpoint.
stage_6() {
  tts-adapt vocoder train "$exp/prepared" --teacher "$teacher" --output "$exp/vocoder" --steps "$vocoder_steps"
}
run_stage 6 "vocoder ($vocoder_steps steps)" --in "$exp/prepared/prepared.json" --in "$teacher" \
  --out "$exp/vocoder" --sig "steps=$vocoder_steps teacher=$teacher" -- stage_6

# 7. The vocoder alone, to copy to data/pretrained/vocoder.
stage_7() {
  fresh_dir "$exp/vocoder_bundle"
  mkdir -p "$exp/vocoder_bundle"
  cp "$exp/vocoder/vocoder.json" "$exp/vocoder/vocoder.weights.npz" "$exp/vocoder/metrics.csv" \
    "$exp/vocoder/training.png" "$exp/vocoder_bundle/"
  echo "to ship it: rm -rf data/pretrained/vocoder && cp -r $exp/vocoder_bundle data/pretrained/vocoder"
  echo "(and update data/pretrained/vocoder/VOCODER_CARD.md)"
}
run_stage 7 "bundle the vocoder" --in "$exp/vocoder" --out "$exp/vocoder_bundle/vocoder.json" -- stage_7
finish_recipe
