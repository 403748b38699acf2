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

stage_corpus() {
  fresh_dir "$exp/corpus"
  python "$RECIPE_DIR/local/make_corpus.py" --config "$corpus_config" --output "$exp/corpus"
}

stage_symbols() {
  # Every sentence the recipe will ever speak, training and held-out, must be encodable.
  { cut -d'|' -f3 "$exp/corpus/metadata.csv"; cat "$exp/corpus/heldout.txt"; } \
    | awk '{ print NR "|" $0 }' > "$exp/all_sentences.csv"
  tts-adapt symbols suggest --transcripts "$exp/all_sentences.csv" --cleaners "$cleaners" --output "$exp/symbols.txt"
  echo "$(wc -l < "$exp/symbols.txt") symbols -> $exp/symbols.txt"
}

stage_prepare() {
  # No fresh_dir: prepare brings an earlier cache up to date (recomputing all if the audio settings changed).
  tts-adapt prepare --metadata "$exp/corpus/metadata.csv" --wavs "$exp/corpus" --output "$exp/prepared" \
    --symbols "$exp/symbols.txt" --cleaners "$cleaners" --config "$conf/train.yaml"
}

stage_train() {
  # No fresh_dir: train continues from the newest checkpoint in its output directory (an hour's
  # work is never deleted by a recipe; to start over, move exp/pretrain/train away).
  tts-adapt train --data "$exp/prepared" --output "$exp/train" --config "$conf/train.yaml" --steps "$steps"
}

stage_check() {
  fresh_dir "$exp/check"
  mkdir -p "$exp/check"
  # Alignment and distortion on validation recordings (sentences no speaker trained on).
  tts-adapt evaluate "$exp/train" --data "$exp/prepared" --max-items "$eval_items" \
    --output "$exp/check/evaluate.html" --format json > "$exp/check/evaluate.json"
  python -c 'import json, sys; print("validation:", json.load(open(sys.argv[1]))["summary"])' "$exp/check/evaluate.json"
  # Intelligibility on plain sentences that no speaker read, in every voice (the recogniser's verdict).
  tts-adapt evaluate "$exp/train" --texts "$plain_sentences" --save-audio "$exp/check/plain" \
    --output "$exp/check/intelligibility.html" --format json > "$exp/check/intelligibility.json"
  python -c 'import json, sys
heard = json.load(open(sys.argv[1]))["intelligibility"]
print(heard["sentence"])
for name, value in heard["by_speaker"].items():
    print("  {:8s} WER {wer:.2f}  CER {cer:.2f}".format(name, **value))' "$exp/check/intelligibility.json"
  local speakers speaker i=0 text
  speakers=$(python -c 'import json, sys; print(" ".join(json.load(open(sys.argv[1]))["speakers"]))' \
    "$exp/corpus/speakers.json")
  while IFS= read -r text && ((i < check_sentences)); do
    i=$((i + 1))
    for speaker in $speakers; do
      mkdir -p "$exp/check/$speaker"
      echo "$speaker $i: $text"
      tts-adapt synthesize "$exp/train" --text="$text" --speaker="$speaker" --seed 0 \
        --output "$exp/check/$speaker/heldout$i.wav" \
        --mel-output "$exp/check/$speaker/heldout$i.npy" \
        --alignment-output "$exp/check/$speaker/heldout$i.png"
    done
  done < "$exp/corpus/heldout.txt"
  echo "samples and alignment plots for held-out sentences -> $exp/check/<speaker>/"
}

stage_bundle() {
  fresh_dir "$exp/bundle"
  python "$RECIPE_DIR/local/bundle.py" --train "$exp/train" --check "$exp/check" --output "$exp/bundle"
  echo "to ship it: rm -rf data/pretrained/multispeaker && cp -r $exp/bundle data/pretrained/multispeaker"
  echo "(and update data/pretrained/multispeaker/MODEL_CARD.md)"
}

stage_vocoder() {
  # No fresh_dir: hours of training resume from the newest checkpoint.
  tts-adapt vocoder train "$exp/prepared" --teacher "$teacher" --output "$exp/vocoder" --steps "$vocoder_steps"
}

stage_vocoder_bundle() {
  fresh_dir "$exp/vocoder_bundle"
  mkdir -p "$exp/vocoder_bundle"
  cp "$exp/vocoder/vocoder.json" "$exp/vocoder/vocoder.weights.npz" "$exp/vocoder/metrics.csv" \
    "$exp/vocoder/training.png" "$exp/vocoder_bundle/"
  echo "to ship it: rm -rf data/pretrained/vocoder && cp -r $exp/vocoder_bundle data/pretrained/vocoder"
  echo "(and update data/pretrained/vocoder/VOCODER_CARD.md)"
}

run_stage 0 "corpus from Debian voices" --in "$corpus_config" --in "$RECIPE_DIR/local" \
  --out "$exp/corpus/metadata.csv" -- stage_corpus
run_stage 1 "symbol table" --in "$exp/corpus/metadata.csv" --out "$exp/symbols.txt" --sig "cleaners=$cleaners" \
  -- stage_symbols
run_stage 2 "prepare features" --in "$exp/corpus/metadata.csv" --in "$exp/symbols.txt" --in "$conf/train.yaml" \
  --out "$exp/prepared/prepared.json" --sig "cleaners=$cleaners" -- stage_prepare
run_stage 3 "train ($steps steps)" --in "$exp/prepared/prepared.json" --in "$conf/train.yaml" \
  --out "$exp/train" --sig "steps=$steps" -- stage_train
run_stage 4 "held-out check" --in "$exp/train" --in "$plain_sentences" --out "$exp/check" \
  --sig "sentences=$check_sentences eval=$eval_items" -- stage_check
run_stage 5 "bundle the model" --in "$exp/train" --in "$exp/check" --out "$exp/bundle/manifest.json" -- stage_bundle
run_stage 6 "vocoder ($vocoder_steps steps)" --in "$exp/prepared/prepared.json" --in "$teacher" \
  --out "$exp/vocoder" --sig "steps=$vocoder_steps teacher=$teacher" -- stage_vocoder
run_stage 7 "bundle the vocoder" --in "$exp/vocoder" --out "$exp/vocoder_bundle/vocoder.json" -- stage_vocoder_bundle
finish_recipe
