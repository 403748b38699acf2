#!/usr/bin/env bash
# The example new voice: adapt the bundled multi-speaker model to Allison Smith's Asterisk prompts.
#
# Usage: recipes/allison/run.sh [--stage N] [--stop-stage M] [--steps S] [--vocoder-steps V] [--samples K]
#                              [--fold-speaker NAME] [--pretrained DIR] [--beside true] [--force true]
#
#   0 data      install + decode the Debian prompts, normalise transcripts -> exp/allison/data
#   1 prepare   mel features with the pretrained model's audio settings     -> exp/allison/prepared
#   2 symbols   symbol report: the voice's table vs the pretrained one      -> exp/allison/symbols
#   3 speaker   rank the pretrained speakers by loss on this voice          -> exp/allison/suggest
#   4 adapt     the surgery plan (dry run, saved), then the adapted model   -> exp/allison/adapted
#   5 verify    adapted model == pretrained model for the folded speaker    -> exp/allison/verify.json
#   6 finetune  fine-tune the adapted model on this voice (--steps)         -> exp/allison/finetune
#               and measure its variance post-filter (sharper mels)         -> exp/allison/finetune/postfilter.json
#   7 vocoder   fine-tune the bundled vocoder on this voice, paired with the
#               fine-tuned model's teacher-forced mels (--vocoder-steps)      -> exp/allison/vocoder
#   8 before    the adapted model speaks held-out sentences, and is scored
#               (metrics, intelligibility) on the held-out recordings (with
#               --beside true: beside stages 6-7, at the lowest priority)    -> exp/allison/samples, evaluate_before.json
#   9 after     the same for the fine-tuned model                           -> exp/allison/samples, evaluate_after.json
#  10 report    one HTML page with all of the above                         -> exp/allison/report
#
# 9-21 minutes on 2 CPU cores with the defaults (8 min 33 s - 9 min 52 s measured on a machine that
# fine-tuned at 1.8-2.3 steps/s, 20 min 51 s on one at 0.95-1.0 steps/s); more --steps give a closer voice.
# Run again to continue: finished stages are skipped while their inputs are unchanged.

recipe=allison
steps=600                 # fine-tuning steps (stage 6)
vocoder_steps=1500        # vocoder fine-tuning steps (stage 7)
samples=5                 # held-out sentences synthesised before and after (stages 8-9)
fold_speaker=auto         # pretrained speaker to fold; auto = the one stage 3 ranks first; or mean, or a name
beside=false              # true: stage 8 beside stages 6-7, on the CPU they leave idle (a win only where
                          # they leave cores idle: on 2 cores it slowed fine-tuning as much as it saved)
pretrained=""             # pretrained checkpoint (default: the bundled data/pretrained/multispeaker)
. "$(dirname "$0")/../common/stages.sh"
. "$REPO_ROOT/recipes/common/env.sh"
parse_options "$@"

conf=$RECIPE_DIR/conf
exp=exp/$recipe
pretrained=$(abs_path "${pretrained:-$REPO_ROOT/data/pretrained/multispeaker}")
symbols=$conf/symbols.txt
metadata=$exp/data/metadata.csv
wavs=$exp/data/wavs
reference_audio=$exp/data/heldout
heldout_metadata=$exp/data/heldout.csv
about="Voice: Allison Smith, Asterisk core sound prompts (Debian asterisk-core-sounds-en-g722), CC-BY-SA-3.0. \
Produced by recipes/allison/run.sh."

((stage > 0)) || ensure_debian_packages asterisk-core-sounds-en asterisk-core-sounds-en-g722
ensure_venv

# 0. The Debian prompts decoded and their transcripts normalised; the held-out prompts set apart.
stage_0() {
  fresh_dir "$exp/data"
  python "$RECIPE_DIR/local/make_data.py" --config "$conf/data.yaml" --output "$exp/data"
}
run_stage 0 "data: decode the Debian prompts" --in "$conf/data.yaml" --in "$RECIPE_DIR/local" \
  --out "$metadata" -- stage_0

# Stages 8 and 9 synthesise the held-out prompts: their recordings are never trained on.
sample_texts() {
  cut -d'|' -f1,3 "$exp/data/heldout.csv"
}

. "$REPO_ROOT/recipes/common/voice_stages.sh"  # stages 1-10, shared with every voice recipe
finish_recipe
