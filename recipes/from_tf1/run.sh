#!/usr/bin/env bash
# A TF1 Tacotron-2 checkpoint (Real-Time-Voice-Cloning's synthesizer) becomes a toolkit model, then a new voice.
#
# Usage: recipes/from_tf1/run.sh [--stage N] [--stop-stage M] [--source CKPT] [--speaker-vector NPY]
#                                [--voice DIR] [--steps S] [--force true]
#
#   0 checkpoint  a small TF1 checkpoint with RTVC's variable names and a speaker vector -> exp/from_tf1/tf1
#                 (skipped with --source: your own RTVC checkpoint, and --speaker-vector its voice's embedding)
#   1 import      the plan (dry run, saved), then the toolkit model, the same network     -> exp/from_tf1/imported
#   2 adapt       fold the speaker vector: a single-speaker model of that voice            -> exp/from_tf1/adapted
#   3 verify      the folded model computes what the imported one did for the vector      -> exp/from_tf1/verify.json
#   4 prepare     the voice's recordings with the checkpoint's audio settings and symbols -> exp/from_tf1/prepared
#   5 finetune    a few steps on that voice (--steps)                                      -> exp/from_tf1/finetune
#   6 synthesize  one sentence with the fine-tuned model (Griffin-Lim)                     -> exp/from_tf1/sample.wav
#
# Stages 4-6 need a voice in LJSpeech form (metadata.csv and wavs/); the default is the Allison prompts that
# recipes/allison/run.sh --stop-stage 0 decodes. About 4 minutes on 2 CPU cores with the defaults
# (3 min 50 s measured; stages 0-3 take 1 min 40 s).

recipe=from_tf1
source=""                 # a real TF1 checkpoint (directory or prefix); default: the one stage 0 builds
speaker_vector=""         # its voice's speaker embedding (.npy); default: the one stage 0 writes
voice=""                  # metadata.csv + wavs/ of the voice to fine-tune on; default: exp/allison/data
steps=20                  # fine-tuning steps (stage 5)
. "$(dirname "$0")/../common/stages.sh"
. "$REPO_ROOT/recipes/common/env.sh"
parse_options "$@"
ensure_venv

exp=exp/$recipe
tf1=${source:+$(abs_path "$source")}
tf1=${tf1:-$exp/tf1}
vector=${speaker_vector:+$(abs_path "$speaker_vector")}
vector=${vector:-$exp/tf1/speaker.npy}
voice=${voice:+$(abs_path "$voice")}
voice=${voice:-$WORK_ROOT/exp/allison/data}

stage_checkpoint() {
  if [[ -n "$source" ]]; then say "using $tf1"; return; fi
  fresh_dir "$exp/tf1"
  python "$RECIPE_DIR/local/make_checkpoint.py" "$exp/tf1"
}
run_stage 0 "A TF1 checkpoint with RTVC's names" --in "$RECIPE_DIR/local/make_checkpoint.py" \
  --out "$vector" --sig "source=$source" -- stage_checkpoint

stage_import() {
  fresh_dir "$exp/imported"
  tts-adapt import "$tf1" --architecture rtvc --output "$exp/imported" --dry-run --format json > "$exp/plan.json"
  tts-adapt import "$tf1" --architecture rtvc --output "$exp/imported"
}
run_stage 1 "Import (plan, then apply)" --in "$vector" --out "$exp/imported/manifest.json" --sig "source=$source" \
  -- stage_import

stage_adapt() {
  fresh_dir "$exp/adapted"
  tts-adapt adapt "$exp/imported" --speaker-vector "$vector" --output "$exp/adapted"
}
run_stage 2 "Fold the speaker vector" --in "$exp/imported/manifest.json" --in "$vector" \
  --out "$exp/adapted/manifest.json" -- stage_adapt

stage_verify() {
  tts-adapt verify "$exp/imported" "$exp/adapted" --speaker-vector "$vector" --format json > "$exp/verify.json"
  tts-adapt verify "$exp/imported" "$exp/adapted" --speaker-vector "$vector"
}
run_stage 3 "Verify the fold" --in "$exp/adapted/manifest.json" --out "$exp/verify.json" -- stage_verify

stage_prepare() {
  if [[ ! -f "$voice/metadata.csv" ]]; then
    say "no $voice/metadata.csv: run recipes/allison/run.sh --stop-stage 0 first, or give --voice DIR"
    return 1
  fi
  tts-adapt prepare --metadata "$voice/metadata.csv" --wavs "$voice/wavs" --output "$exp/prepared" \
    --speaker=voice --like "$exp/adapted"
}
run_stage 4 "Prepare the voice like the checkpoint" --in "$exp/adapted/manifest.json" \
  --out "$exp/prepared/prepared.json" --sig "voice=$voice audio=$(content_signature "$voice")" -- stage_prepare

stage_finetune() {
  fresh_dir "$exp/finetune"
  tts-adapt finetune "$exp/adapted" --data "$exp/prepared" --output "$exp/finetune" --steps "$steps" \
    --batch-size 8 --val-every "$steps"
}
run_stage 5 "Fine-tune" --in "$exp/prepared/prepared.json" --out "$exp/finetune/manifest.json" --sig "steps=$steps" \
  -- stage_finetune

stage_synthesize() {
  # --max-seconds: a model fine-tuned this briefly may not stop by itself yet
  tts-adapt synthesize "$exp/finetune" --text "Please leave a message after the tone." --vocoder griffin-lim \
    --max-seconds 8 --output "$exp/sample.wav" --alignment-output "$exp/sample.png"
}
run_stage 6 "Synthesize" --in "$exp/finetune/manifest.json" --out "$exp/sample.wav" -- stage_synthesize

finish_recipe
echo "produced: $exp/plan.json (the import plan), $exp/verify.json (the fold check),"
echo "          $exp/imported, $exp/adapted, $exp/finetune (toolkit checkpoints), $exp/sample.wav"
