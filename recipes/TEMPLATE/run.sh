#!/usr/bin/env bash
# Adapt the bundled multi-speaker model to a new voice (made by `tts-adapt new-voice`).
#
# Usage: run.sh [--stage N] [--stop-stage M] [--steps S] [--vocoder-steps V] [--samples K] [--eval-items N]
#               [--fold-speaker NAME] [--pretrained DIR] [--force true]
#
#   0 symbols   the voice's symbol table, suggested from its transcripts   -> conf/symbols.txt (kept once there)
#   1 prepare   mel features with the pretrained model's audio settings     -> exp/<voice>/prepared
#   2 symbols   symbol report: the voice's table vs the pretrained one      -> exp/<voice>/symbols
#   3 speaker   rank the pretrained speakers by loss on this voice          -> exp/<voice>/suggest
#   4 adapt     the surgery plan (dry run, saved), then the adapted model   -> exp/<voice>/adapted
#   5 verify    adapted model == pretrained model for the folded speaker    -> exp/<voice>/verify.json
#   6 finetune  fine-tune the adapted model on this voice (--steps)         -> exp/<voice>/finetune
#   7 vocoder   fine-tune the bundled vocoder on this voice, paired with the
#               fine-tuned model's teacher-forced mels (--vocoder-steps)      -> exp/<voice>/vocoder
#   8 samples   conf/sentences.txt before and after fine-tuning             -> exp/<voice>/samples
#   9 report    one HTML page with all of the above                         -> exp/<voice>/report
#
# Run again to continue: finished stages are skipped while their inputs are unchanged.

recipe="@NAME@"           # the voice's name: exp/<name>/, and its speaker name
metadata="@METADATA@"     # LJSpeech-form metadata: id|text|normalized_text
wavs="@WAVS@"             # the folder holding <id>.wav
steps=600                 # fine-tuning steps (stage 6)
vocoder_steps=1500        # vocoder fine-tuning steps (stage 7)
samples=5                 # sentences of conf/sentences.txt synthesised (stage 8)
eval_items=16             # held-out recordings scored before and after (stage 8, tts-adapt evaluate)
fold_speaker=auto         # pretrained speaker to fold; auto = the one stage 3 ranks first; or mean, or a name
pretrained=""             # pretrained checkpoint (default: the bundled data/pretrained/multispeaker)
about="Voice: @NAME@ (describe the recordings and their licence here)."
common="$(dirname "$0")/../common"   # the toolkit's recipes/common
. "$common/stages.sh"
. "$REPO_ROOT/recipes/common/env.sh"
parse_options "$@"
. "$REPO_ROOT/recipes/common/voice_stages.sh"

conf=$RECIPE_DIR/conf
exp=exp/$recipe
pretrained=$(abs_path "${pretrained:-$REPO_ROOT/data/pretrained/multispeaker}")
symbols=$conf/symbols.txt

ensure_venv

stage_table() {
  if [[ -f "$symbols" ]]; then
    echo "keeping $symbols (delete it to have it suggested again)"
    return
  fi
  need_pretrained
  # The pretrained table's order is kept (its rows stay in place); symbols it lacks are appended. The
  # transcripts are read with the pretrained model's front-end (phonemes for the bundled model).
  tts-adapt symbols suggest --transcripts "$metadata" --base "$pretrained" --output "$symbols"
  echo "wrote $symbols: review it, then run the recipe again"
}

sample_texts() {
  local i=0 line
  while IFS= read -r line; do
    [[ -z "$line" || "$line" == \#* ]] && continue
    i=$((i + 1))
    printf 'sentence%02d|%s\n' "$i" "$line"
  done < "$conf/sentences.txt"
}

run_stage 0 "symbol table" --in "$metadata" --out "$symbols" -- stage_table
run_voice_stages
finish_recipe
