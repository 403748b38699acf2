#!/usr/bin/env bash
# Adapt the bundled multi-speaker model to a new voice (made by `tts-adapt new-voice`).
#
# Usage: run.sh [--stage N] [--stop-stage M] [--steps S] [--vocoder-steps V] [--samples K] [--eval-items N]
#               [--fold-speaker NAME] [--pretrained DIR] [--beside true] [--force true]
#
#   0 symbols   the voice's symbol table, suggested from its transcripts   -> conf/symbols.txt (kept once there)
#   1 prepare   mel features with the pretrained model's audio settings     -> exp/<voice>/prepared
#   2 symbols   symbol report: the voice's table vs the pretrained one      -> exp/<voice>/symbols
#   3 speaker   rank the pretrained speakers by loss on this voice          -> exp/<voice>/suggest
#   4 adapt     the surgery plan (dry run, saved), then the adapted model   -> exp/<voice>/adapted
#   5 verify    adapted model == pretrained model for the folded speaker    -> exp/<voice>/verify.json
#   6 finetune  fine-tune the adapted model on this voice (--steps)         -> exp/<voice>/finetune
#               and measure its variance post-filter (sharper mels)         -> exp/<voice>/finetune/postfilter.json
#   7 vocoder   fine-tune the bundled vocoder on this voice, paired with the
#               fine-tuned model's teacher-forced mels (--vocoder-steps)      -> exp/<voice>/vocoder
#   8 before    the adapted model speaks conf/sentences.txt, and is scored
#               (metrics, intelligibility) on held-out recordings (with
#               --beside true: beside stages 6-7, at the lowest priority)    -> exp/<voice>/samples, evaluate_before.json
#   9 after     the same for the fine-tuned model                           -> exp/<voice>/samples, evaluate_after.json
#  10 report    one HTML page with all of the above                         -> exp/<voice>/report
#
# The voice's name, data and credits are in conf/voice.sh. Run again to continue: finished stages
# are skipped while their inputs are unchanged.

# recipe, metadata, wavs, about and common: written by tts-adapt new-voice
. "$(dirname "$0")/conf/voice.sh" || exit 1
steps=600                 # fine-tuning steps (stage 6)
vocoder_steps=1500        # vocoder fine-tuning steps (stage 7)
samples=5                 # sentences of conf/sentences.txt synthesised (stages 8-9)
eval_items=16             # held-out recordings scored before and after (stages 8-9, tts-adapt evaluate)
fold_speaker=auto         # pretrained speaker to fold; auto = the one stage 3 ranks first; or mean, or a name
beside=false              # true: stage 8 beside stages 6-7, on the CPU they leave idle (a win only where
                          # they leave cores idle: on 2 cores it slowed fine-tuning as much as it saved)
pretrained=""             # pretrained checkpoint (default: the bundled data/pretrained/multispeaker)
. "${common:-$(dirname "$0")/../common}/stages.sh"
. "$REPO_ROOT/recipes/common/env.sh"
parse_options "$@"

conf=$RECIPE_DIR/conf
exp=exp/$recipe
pretrained=$(abs_path "${pretrained:-$REPO_ROOT/data/pretrained/multispeaker}")
symbols=$conf/symbols.txt

# The bundled model reads phonemes: espeak-ng turns the transcripts into them (stage 0 on).
ensure_debian_packages espeak-ng
ensure_venv

# 0. The voice's table: the pretrained table's order kept (its rows stay in place), the symbols it lacks
# appended, the transcripts read with the pretrained model's front-end (phonemes for the bundled model).
stage_0() {
  if [[ -f "$symbols" ]]; then
    echo "keeping $symbols (delete it to have it suggested again)"
    return
  fi
  tts-adapt symbols suggest --transcripts "$metadata" --base "$pretrained" --output "$symbols"
  echo "wrote $symbols: review it, then run the recipe again"
}
run_stage 0 "symbol table" --in "$metadata" --out "$symbols" -- stage_0

# Stages 8 and 9 synthesise conf/sentences.txt (blank lines and '#' comments skipped) as sentence01, sentence02, ...
sample_texts() {
  awk '!/^[[:space:]]*(#|$)/ { printf "sentence%02d|%s\n", ++n, $0 }' "$conf/sentences.txt"
}

. "$REPO_ROOT/recipes/common/voice_stages.sh"  # stages 1-10, shared with every voice recipe
finish_recipe
