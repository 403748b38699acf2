# shellcheck shell=bash
# Stages 1-10 of a new-voice recipe (allison, and every recipe made by `tts-adapt new-voice`), run in
# order when this file is sourced: prepare, symbol report, speaker ranking, adapt, verify, finetune,
# vocoder, samples and scores before and after fine-tuning, report. With --beside true, stage 8 (the adapted
# model's samples and scores) runs beside stages 6 and 7, on the CPU time the training leaves idle.
#
# Sourced after stages.sh and env.sh, where the recipe's stages continue. The recipe sets first:
#   exp          exp/<voice>
#   metadata     LJSpeech-form metadata.csv (id|text|normalized_text)
#   wavs         its audio folder
#   symbols      the voice's symbol table
#   pretrained   the multi-speaker checkpoint to adapt
#   steps, samples, fold_speaker, vocoder_steps, beside   the options (see allison/run.sh); eval_items (TEMPLATE/run.sh)
#   about        one line for the report: where the voice comes from, its licence
# and defines sample_texts: prints "id|text" lines, the sentences stage 8 synthesises
# (at most $samples are used). reference_audio, when set, is a folder of <id>.wav recordings
# of those sentences, shown beside the synthesised ones; heldout_metadata, when set, lists them
# (LJSpeech form), and stage 9 then scores every held-out recording (intelligibility included)
# instead of a sample of prepare's validation split.

reference_audio=${reference_audio:-}
vocoder_steps=${vocoder_steps:-1500}
bundled_vocoder=$REPO_ROOT/data/pretrained/vocoder
heldout_metadata=${heldout_metadata:-}
eval_items=${eval_items:-16}

need_pretrained() {
  [[ -f "$pretrained/manifest.json" ]] && return 0
  echo "no pretrained model at $pretrained (manifest.json missing): run recipes/pretrain_multispeaker/run.sh"
  echo "and copy its checkpoint there, or pass --pretrained DIR"
  return 1
}

# The speaker to fold: --fold-speaker NAME, or the one stage 3 ranked first.
folded_speaker() {
  if [[ "$fold_speaker" != auto ]]; then echo "$fold_speaker"; return; fi
  python "$REPO_ROOT/recipes/common/best_speaker.py" "$exp/suggest/speakers.json"
}

# The renderer of each model's samples: the voice's vocoder after fine-tuning, the bundled one before.
vocoder_of() {
  if [[ $1 == after && -f "$exp/vocoder/vocoder.json" ]]; then echo "$exp/vocoder"
  elif [[ -f "$bundled_vocoder/vocoder.json" ]]; then echo "$bundled_vocoder"
  else echo griffin-lim; fi
}

# The bundled model reads phonemes: espeak-ng turns the transcripts into them (prepare, synthesize).
ensure_debian_packages espeak-ng

# 1. Features and text made exactly as the pretrained model's were (its audio settings and cleaners),
# encoded with the voice's table. No fresh_dir: prepare brings an earlier cache up to date.
stage_1() {
  need_pretrained
  tts-adapt prepare --metadata "$metadata" --wavs "$wavs" --output "$exp/prepared" --speaker="$recipe" \
    --like "$pretrained" --symbols "$symbols"
  if [[ -n "$heldout_metadata" ]]; then  # the held-out recordings, features made alike, never trained on
    tts-adapt prepare --metadata "$heldout_metadata" --wavs "$reference_audio" --output "$exp/prepared_heldout" \
      --speaker="$recipe" --like "$pretrained" --symbols "$symbols" --min-seconds 0 --max-seconds 60
  fi
}
run_stage 1 "prepare features" --in "$metadata" --in "$symbols" --out "$exp/prepared/prepared.json" \
  --sig "pretrained=$pretrained heldout=$heldout_metadata audio=$(content_signature "$wavs" "$reference_audio")" \
  -- stage_1

# 2. The voice's symbol table against the pretrained one, as html, json and text.
stage_2() {
  need_pretrained
  fresh_dir "$exp/symbols"
  mkdir -p "$exp/symbols"
  local format
  for format in html json text; do
    tts-adapt symbols compare "$pretrained" "$symbols" --transcripts "$metadata" \
      --format "$format" --output "$exp/symbols/compare.$format"
  done
  cat "$exp/symbols/compare.text"
}
run_stage 2 "symbol report" --in "$metadata" --in "$symbols" --out "$exp/symbols/compare.html" \
  --sig "pretrained=$pretrained" -- stage_2

# 3. The pretrained speakers ranked by their loss on the voice's recordings.
stage_3() {
  need_pretrained
  fresh_dir "$exp/suggest"
  mkdir -p "$exp/suggest"
  tts-adapt suggest-speaker "$pretrained" --data "$exp/prepared" --format json > "$exp/suggest/speakers.tmp"
  mv "$exp/suggest/speakers.tmp" "$exp/suggest/speakers.json"
  echo "nearest pretrained speaker: $(python "$REPO_ROOT/recipes/common/best_speaker.py" "$exp/suggest/speakers.json")"
}
run_stage 3 "suggest the speaker to fold" --in "$exp/prepared/prepared.json" --out "$exp/suggest/speakers.json" \
  -- stage_3

# 4. The adapted model: the voice's table, one speaker folded; the surgery's plan kept as json and text.
# (To see the plan before anything is written: tts-adapt adapt ... --dry-run.)
stage_4() {
  need_pretrained
  fresh_dir "$exp/adapted"
  tts-adapt adapt "$pretrained" --output "$exp/adapted" --symbols "$symbols" --fold-speaker="$(folded_speaker)" \
    --plan-output "$exp/adapt_plan.json" | tee "$exp/adapt_plan.txt"
}
run_stage 4 "adapt (the surgery, its plan kept)" --in "$exp/suggest/speakers.json" --in "$symbols" \
  --out "$exp/adapted" --out "$exp/adapt_plan.json" --sig "fold=$fold_speaker" -- stage_4

# 5. The adapted model computes what the pretrained one did for the folded speaker. verify exits 1 when
# they differ beyond its tolerance: the stage fails, its json stays for the report, no stamp is written.
stage_5() {
  need_pretrained
  local status=0
  tts-adapt verify "$pretrained" "$exp/adapted" --format json > "$exp/verify.json" || status=$?
  cat "$exp/verify.json"
  return "$status"
}
run_stage 5 "verify the folded model" --in "$exp/adapted" --out "$exp/verify.json" -- stage_5

# 8-9. The sample sentences spoken (with their mels and alignment plots, beside their recordings when the
# recipe has them), then objective metrics and intelligibility on recordings no model trained on: the
# held-out recordings when the recipe has them, else a sample of prepare's val split. Stage 8 does this for
# the adapted model before fine-tuning, stage 9 for the fine-tuned one. The pretrained model as the folded
# speaker is not scored again: verify (stage 5) proved the adapted model computes the same.
# What the recogniser heard is kept in $exp/cache by content: the recordings are heard once for both
# models, and a rerun hears again only what changed. Hearing (recognition, pitch) runs in one worker
# process per CPU while the next utterances decode.
# Stage 8 needs nothing from fine-tuning: with --beside true it runs beside stages 6 and 7, on the CPU they
# leave idle. Not by default: on 2 cores it slowed the training beside it by up to as much as it saved
# (docs/benchmarks.md, "The whole main job with the scoring beside fine-tuning").
# The samples are written by the scoring itself (evaluate --samples): TensorFlow and the model load once, and
# a sample that is a scored sentence is the very audio the recogniser heard.
samples_and_scores() {  # samples_and_scores before|after CHECKPOINT
  local model=$1 checkpoint=$2 scored=(--data "$exp/prepared" --max-items "$eval_items")
  if [[ -n "$heldout_metadata" ]]; then scored=(--data "$exp/prepared_heldout" --split all); fi
  fresh_dir "$exp/samples/$model"
  tts-adapt evaluate "$checkpoint" "${scored[@]}" --vocoder "$(vocoder_of "$model")" --cache "$exp/cache" \
    --samples "$exp/samples/texts.csv" --samples-dir "$exp/samples/$model" \
    --format json > "$exp/samples/evaluate_$model.tmp"
  mv "$exp/samples/evaluate_$model.tmp" "$exp/samples/evaluate_$model.json"
  echo "$model fine-tuning: scores in $exp/samples/evaluate_$model.json"
}

stage_8() {
  local made
  for made in texts.csv reference; do fresh_dir "$exp/samples/$made"; done
  sample_texts | awk -v n="$samples" 'NR <= n' > "$exp/samples/texts.csv"  # reads all: no SIGPIPE
  if [[ -n "$reference_audio" ]]; then
    mkdir -p "$exp/samples/reference"
    local id
    cut -d'|' -f1 "$exp/samples/texts.csv" | while read -r id; do
      if [[ -f "$reference_audio/$id.wav" ]]; then cp "$reference_audio/$id.wav" "$exp/samples/reference/"; fi
    done
  fi
  samples_and_scores before "$exp/adapted"
}
run_stage_8() {  # run_stage_8 run_stage|run_stage_beside
  "$1" 8 "samples and scores before fine-tuning" --in "$exp/adapted" --in "$exp/prepared/prepared.json" \
    --in "$bundled_vocoder" --out "$exp/samples/texts.csv" --out "$exp/samples/evaluate_before.json" \
    --sig "samples=$samples eval=$eval_items heldout=$heldout_metadata" -- stage_8
}
if [[ "${beside:-false}" == true ]]; then run_stage_8 run_stage_beside; fi

# 6. Fine-tuning on the voice. A run on the same adapted model resumes (more --steps continue it);
# a new adapted model starts over. Then the fine-tuned model's variance post-filter, measured on the
# training recordings: its mels are smoother than the recordings', and every renderer of this
# checkpoint (samples, scores, synthesize) gives each mel band back the recordings' spread first.
stage_6() {
  if up_to_date "$exp/finetune/manifest.json" -- "$exp/adapted"; then
    echo "resuming $exp/finetune"
  else
    fresh_dir "$exp/finetune"
  fi
  tts-adapt finetune "$exp/adapted" --data "$exp/prepared" --output "$exp/finetune" --steps "$steps"
  tts-adapt postfilter "$exp/finetune" --data "$exp/prepared"
}
run_stage 6 "fine-tune ($steps steps)" --in "$exp/adapted" --in "$exp/prepared/prepared.json" \
  --out "$exp/finetune" --sig "steps=$steps" -- stage_6

# 7. The bundled vocoder, fine-tuned on the voice's recordings paired with the fine-tuned model's
# teacher-forced mels: it learns to render exactly the mels this model makes. Without a bundled
# vocoder the stage says so and the samples use Griffin-Lim.
stage_7() {
  if [[ ! -f "$bundled_vocoder/vocoder.json" ]]; then
    echo "no bundled vocoder at $bundled_vocoder: samples use Griffin-Lim"
    fresh_dir "$exp/vocoder"
    mkdir -p "$exp/vocoder"
    return 0
  fi
  if up_to_date "$exp/vocoder/vocoder.json" -- "$exp/finetune"; then
    echo "resuming $exp/vocoder"
  else
    fresh_dir "$exp/vocoder"
  fi
  tts-adapt vocoder train "$exp/prepared" --teacher "$exp/finetune" --init "$bundled_vocoder" \
    --output "$exp/vocoder" --steps "$vocoder_steps" --learning-rate 2e-4 --predicted-share 0.8 \
    --checkpoint-every 500
}
run_stage 7 "vocoder for this voice ($vocoder_steps steps)" --in "$exp/finetune" --in "$bundled_vocoder" \
  --out "$exp/vocoder" --sig "steps=$vocoder_steps" -- stage_7

wait_beside  # stage 9 reads stage 8's sentences and the recordings it heard
if [[ "${beside:-false}" != true ]]; then run_stage_8 run_stage; fi

stage_9() {
  samples_and_scores after "$exp/finetune"
}
run_stage 9 "samples and scores after fine-tuning" --in "$exp/finetune" --in "$exp/vocoder" \
  --in "$exp/samples/texts.csv" --out "$exp/samples/evaluate_after.json" \
  --sig "samples=$samples eval=$eval_items heldout=$heldout_metadata" -- stage_9

# 10. One HTML page with all of the above.
stage_10() {
  fresh_dir "$exp/report"
  tts-adapt report "$exp" --output "$exp/report" --title="$recipe" --about="$about"
}
run_stage 10 "report" --in "$exp/samples" --in "$exp/verify.json" --in "$exp/symbols/compare.json" \
  --in "$REPO_ROOT/tts_adapt/report" --out "$exp/report/index.html" -- stage_10

if ((stop_stage >= 10)) && [[ -e "$exp/report/index.html" ]]; then
  say "produced:"
  for produced in report/index.html samples finetune vocoder adapted verify.json adapt_plan.txt \
                  symbols/compare.html suggest/speakers.json prepared; do
    if [[ -e "$exp/$produced" ]]; then echo "  $WORK_ROOT/$exp/$produced" >&2; fi
  done
fi
