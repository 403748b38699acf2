#!/usr/bin/env bash
# The example new voice: adapt the bundled multi-speaker model to Allison Smith's Asterisk prompts.
#
# Usage: recipes/allison/run.sh [--stage N] [--stop-stage M] [--steps S] [--samples K] [--force true]
#
#   0 data      install + decode the Debian prompts, normalise transcripts -> exp/allison/data
#   1 prepare   mel features with the pretrained model's audio settings     -> exp/allison/prepared
#   2 symbols   symbol report: the voice's table vs the pretrained one      -> exp/allison/symbols
#   3 speaker   rank the pretrained speakers by loss on this voice          -> exp/allison/suggest
#   4 adapt     the surgery plan (dry run, saved), then the adapted model   -> exp/allison/adapted
#   5 verify    adapted model == pretrained model for the folded speaker    -> exp/allison/verify.json
#   6 finetune  fine-tune the adapted model on this voice (--steps)         -> exp/allison/finetune
#   7 samples   held-out sentences before and after fine-tuning             -> exp/allison/samples
#   8 report    one HTML page with all of the above                         -> exp/allison/report
#
# About 20 minutes on 2 CPU cores with the defaults; more --steps give a closer voice.
# Run again to continue: finished stages are skipped while their inputs are unchanged.

recipe=allison
steps=600                 # fine-tuning steps (stage 6)
samples=5                 # held-out sentences synthesised before and after (stage 7)
fold_speaker=auto         # pretrained speaker to fold; auto = the one stage 3 ranks first
pretrained=""             # pretrained checkpoint (default: the bundled data/pretrained/multispeaker)
. "$(dirname "$0")/../common/stages.sh"
. "$REPO_ROOT/recipes/common/env.sh"
parse_options "$@"

conf=$RECIPE_DIR/conf
local_dir=$RECIPE_DIR/local
exp=exp/$recipe
pretrained=${pretrained:-$REPO_ROOT/data/pretrained/multispeaker}
symbols=$conf/symbols.txt

((stage > 0)) || ensure_debian_packages asterisk-core-sounds-en asterisk-core-sounds-en-g722
ensure_venv

need_pretrained() {
  [[ -f "$pretrained/manifest.json" ]] || {
    echo "no pretrained model at $pretrained (manifest.json missing): run recipes/pretrain_multispeaker/run.sh"
    echo "and copy its checkpoint there, or pass --pretrained DIR"
    return 1
  }
}

# The speaker to fold: --fold-speaker NAME, or the one stage 3 ranked first.
folded_speaker() {
  if [[ "$fold_speaker" != auto ]]; then echo "$fold_speaker"; return; fi
  python "$local_dir/best_speaker.py" "$exp/suggest/speakers.json"
}

stage_data() {
  fresh_dir "$exp/data"
  python "$local_dir/make_data.py" --config "$conf/data.yaml" --output "$exp/data"
}

stage_prepare() {
  need_pretrained
  fresh_dir "$exp/prepared"
  # The new voice's features must be computed exactly as the pretrained model's were.
  python -c 'import json, sys, yaml; yaml.safe_dump({"audio": json.load(open(sys.argv[1]))["audio"]}, open(sys.argv[2], "w"))' \
    "$pretrained/manifest.json" "$exp/audio.yaml"
  tts-adapt prepare --metadata "$exp/data/metadata.csv" --wavs "$exp/data/wavs" --output "$exp/prepared" \
    --speaker allison --symbols "$symbols" --config "$exp/audio.yaml"
}

stage_symbols() {
  need_pretrained
  fresh_dir "$exp/symbols"
  mkdir -p "$exp/symbols"
  local format
  for format in html json text; do
    tts-adapt symbols compare "$pretrained" "$symbols" --transcripts "$exp/data/metadata.csv" \
      --format "$format" --output "$exp/symbols/compare.$format"
  done
  cat "$exp/symbols/compare.text"
}

stage_speaker() {
  need_pretrained
  fresh_dir "$exp/suggest"
  mkdir -p "$exp/suggest"
  tts-adapt suggest-speaker "$pretrained" --data "$exp/prepared" --format json > "$exp/suggest/speakers.json"
  echo "nearest pretrained speaker: $(python "$local_dir/best_speaker.py" "$exp/suggest/speakers.json")"
}

stage_adapt() {
  need_pretrained
  fresh_dir "$exp/adapted"
  local speaker
  speaker=$(folded_speaker)
  local args=("$pretrained" --output "$exp/adapted" --symbols "$symbols" --fold-speaker "$speaker")
  tts-adapt adapt "${args[@]}" --dry-run --format json > "$exp/adapt_plan.json"
  tts-adapt adapt "${args[@]}" --dry-run | tee "$exp/adapt_plan.txt"
  tts-adapt adapt "${args[@]}"
}

stage_verify() {
  need_pretrained
  tts-adapt verify "$pretrained" "$exp/adapted" --speaker "$(folded_speaker)" --format json > "$exp/verify.json.tmp"
  mv "$exp/verify.json.tmp" "$exp/verify.json"
  cat "$exp/verify.json"
}

stage_finetune() {
  fresh_dir "$exp/finetune"
  tts-adapt finetune "$exp/adapted" --data "$exp/prepared" --output "$exp/finetune" --steps "$steps"
}

stage_samples() {
  fresh_dir "$exp/samples"
  mkdir -p "$exp/samples/reference"
  local id raw text model i=0
  while IFS='|' read -r id raw text && ((i < samples)); do
    i=$((i + 1))
    cp "$exp/data/heldout/$id.wav" "$exp/samples/reference/$id.wav"
    for model in before after; do
      mkdir -p "$exp/samples/$model"
      echo "$model fine-tuning: $id: $text"
      tts-adapt synthesize "$( [[ $model == before ]] && echo "$exp/adapted" || echo "$exp/finetune")" \
        --text "$text" --seed 0 --output "$exp/samples/$model/$id.wav" \
        --mel-output "$exp/samples/$model/$id.npy" --alignment-output "$exp/samples/$model/$id.png"
    done
  done < "$exp/data/heldout.csv"
}

stage_report() {
  fresh_dir "$exp/report"
  python "$local_dir/make_report.py" --exp "$exp" --output "$exp/report"
}

run_stage 0 "data: decode the Debian prompts" --in "$conf/data.yaml" --in "$local_dir/transcripts.py" \
  --in "$local_dir/make_data.py" --out "$exp/data/metadata.csv" -- stage_data
run_stage 1 "prepare features" --in "$exp/data/metadata.csv" --in "$symbols" \
  --out "$exp/prepared/prepared.json" -- stage_prepare
run_stage 2 "symbol report" --in "$exp/data/metadata.csv" --in "$symbols" --out "$exp/symbols/compare.html" \
  --sig "pretrained=$pretrained" -- stage_symbols
run_stage 3 "suggest the speaker to fold" --in "$exp/prepared/prepared.json" --out "$exp/suggest/speakers.json" \
  --sig "pretrained=$pretrained" -- stage_speaker
run_stage 4 "adapt (plan, then surgery)" --in "$exp/suggest/speakers.json" --in "$symbols" \
  --out "$exp/adapted" --out "$exp/adapt_plan.json" --sig "pretrained=$pretrained fold=$fold_speaker" -- stage_adapt
run_stage 5 "verify the folded model" --in "$exp/adapted" --out "$exp/verify.json" -- stage_verify
run_stage 6 "fine-tune ($steps steps)" --in "$exp/adapted" --in "$exp/prepared/prepared.json" \
  --out "$exp/finetune" --sig "steps=$steps" -- stage_finetune
run_stage 7 "samples before and after fine-tuning" --in "$exp/finetune" --in "$exp/data/heldout.csv" \
  --out "$exp/samples" --sig "samples=$samples" -- stage_samples
run_stage 8 "report" --in "$exp/samples" --in "$exp/verify.json" --in "$exp/symbols/compare.html" \
  --in "$local_dir/make_report.py" --out "$exp/report/index.html" -- stage_report

if ((stop_stage >= 8)); then
  say "produced:"
  for path in report/index.html samples finetune adapted verify.json adapt_plan.txt symbols/compare.html suggest/speakers.json prepared data; do
    [[ -e "$exp/$path" ]] && echo "  $WORK_ROOT/$exp/$path" >&2
  done
fi
finish_recipe
