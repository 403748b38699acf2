# shellcheck shell=bash
# Stages 1-9 of a new-voice recipe (allison, and every recipe made by `tts-adapt new-voice`):
# prepare, symbol report, speaker ranking, adapt, verify, finetune, vocoder, samples, report.
#
# Sourced after stages.sh and env.sh. The recipe sets, before calling run_voice_stages:
#   exp          exp/<voice>
#   metadata     LJSpeech-form metadata.csv (id|text|normalized_text)
#   wavs         its audio folder
#   symbols      the voice's symbol table
#   pretrained   the multi-speaker checkpoint to adapt
#   steps, samples, fold_speaker, vocoder_steps   the options (see allison/run.sh); eval_items (TEMPLATE/run.sh)
#   about        one line for the report: where the voice comes from, its licence
# and defines sample_texts: prints "id|text" lines, the sentences stage 8 synthesises
# (at most $samples are used). reference_audio, when set, is a folder of <id>.wav recordings
# of those sentences, shown beside the synthesised ones; heldout_metadata, when set, lists them
# (LJSpeech form), and stage 8 then scores every held-out recording (intelligibility included)
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

stage_prepare() {
  need_pretrained
  # No fresh_dir: prepare brings an earlier cache up to date (recomputing all if the audio settings changed).
  # The new voice's features and text must be made exactly as the pretrained model's were.
  python -c 'import json, sys, yaml
yaml.safe_dump({"audio": json.load(open(sys.argv[1]))["audio"]}, open(sys.argv[2], "w"))' \
    "$pretrained/manifest.json" "$exp/audio.yaml"
  tts-adapt prepare --metadata "$metadata" --wavs "$wavs" --output "$exp/prepared" \
    --speaker="$recipe" --symbols "$symbols" --config "$exp/audio.yaml" --cleaners "$(pretrained_cleaners)"
  if [[ -n "$heldout_metadata" ]]; then  # the held-out recordings, features made alike, never trained on
    tts-adapt prepare --metadata "$heldout_metadata" --wavs "$reference_audio" --output "$exp/prepared_heldout" \
      --speaker="$recipe" --symbols "$symbols" --config "$exp/audio.yaml" --cleaners "$(pretrained_cleaners)" \
      --min-seconds 0 --max-seconds 60
  fi
}

# The pretrained model's text front-end (phonemes for the bundled model), comma-separated.
pretrained_cleaners() {
  python -c 'import json, sys; print(",".join(json.load(open(sys.argv[1])).get("cleaners") or ["english"]))' \
    "$pretrained/manifest.json"
}

stage_symbols() {
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

stage_speaker() {
  need_pretrained
  fresh_dir "$exp/suggest"
  mkdir -p "$exp/suggest"
  tts-adapt suggest-speaker "$pretrained" --data "$exp/prepared" --format json > "$exp/suggest/speakers.tmp"
  mv "$exp/suggest/speakers.tmp" "$exp/suggest/speakers.json"
  echo "nearest pretrained speaker: $(python "$REPO_ROOT/recipes/common/best_speaker.py" "$exp/suggest/speakers.json")"
}

stage_adapt() {
  need_pretrained
  fresh_dir "$exp/adapted"
  local speaker
  speaker=$(folded_speaker)
  local args=("$pretrained" --output "$exp/adapted" --symbols "$symbols" --fold-speaker="$speaker")
  tts-adapt adapt "${args[@]}" --dry-run --format json > "$exp/adapt_plan.json"
  tts-adapt adapt "${args[@]}" --dry-run | tee "$exp/adapt_plan.txt"
  tts-adapt adapt "${args[@]}"
}

# verify exits 1 when the outputs differ beyond its tolerance: the stage fails, and its json stays
# for the report (the stamp is not written, so the next run checks again).
stage_verify() {
  need_pretrained
  local status=0
  tts-adapt verify "$pretrained" "$exp/adapted" --speaker="$(folded_speaker)" --format json \
    > "$exp/verify.json" || status=$?
  cat "$exp/verify.json"
  return "$status"
}

# A run on the same adapted model resumes (more --steps continue it); a new adapted model starts over.
stage_finetune() {
  if up_to_date "$exp/finetune/manifest.json" -- "$exp/adapted"; then
    echo "resuming $exp/finetune"
  else
    fresh_dir "$exp/finetune"
  fi
  tts-adapt finetune "$exp/adapted" --data "$exp/prepared" --output "$exp/finetune" --steps "$steps"
}

# The bundled vocoder, fine-tuned on this voice's recordings paired with the fine-tuned model's
# teacher-forced mels: it learns to render exactly the mels this model makes. Without a bundled
# vocoder the stage says so and the samples use Griffin-Lim.
stage_vocoder() {
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

# The renderer of each model's samples: the voice's vocoder after fine-tuning, the bundled one before.
vocoder_of() {
  if [[ $1 == after && -f "$exp/vocoder/vocoder.json" ]]; then echo "$exp/vocoder"
  elif [[ -f "$bundled_vocoder/vocoder.json" ]]; then echo "$bundled_vocoder"
  else echo griffin-lim; fi
}

stage_samples() {
  fresh_dir "$exp/samples"
  mkdir -p "$exp/samples"
  sample_texts | awk -v n="$samples" 'NR <= n' > "$exp/samples/texts.csv"  # reads all: no SIGPIPE
  local id text model checkpoint
  while IFS='|' read -r id text; do
    if [[ -n "$reference_audio" && -f "$reference_audio/$id.wav" ]]; then
      mkdir -p "$exp/samples/reference"
      cp "$reference_audio/$id.wav" "$exp/samples/reference/$id.wav"
    fi
    for model in before after; do
      checkpoint=$exp/adapted
      [[ $model == after ]] && checkpoint=$exp/finetune
      mkdir -p "$exp/samples/$model"
      echo "$model fine-tuning: $id: $text"
      tts-adapt synthesize "$checkpoint" --text="$text" --seed 0 --vocoder "$(vocoder_of "$model")" \
        --output "$exp/samples/$model/$id.wav" \
        --mel-output "$exp/samples/$model/$id.npy" --alignment-output "$exp/samples/$model/$id.png"
    done
  done < "$exp/samples/texts.csv"
  # Objective metrics and intelligibility on recordings no model trained on: the held-out recordings
  # when the recipe has them, else a sample of prepare's val split. The pretrained model as the folded
  # speaker is not scored again: verify (stage 5) proved the adapted model computes the same.
  local scored=(--data "$exp/prepared" --max-items "$eval_items")
  [[ -n "$heldout_metadata" ]] && scored=(--data "$exp/prepared_heldout" --split all)
  for model in before after; do
    local args=("$exp/adapted")
    [[ $model == after ]] && args=("$exp/finetune")
    tts-adapt evaluate "${args[@]}" "${scored[@]}" --vocoder "$(vocoder_of "$model")" --format json \
      > "$exp/samples/evaluate_$model.tmp"
    mv "$exp/samples/evaluate_$model.tmp" "$exp/samples/evaluate_$model.json"
    python -c 'import json, sys
report = json.load(open(sys.argv[1]))
heard = report["intelligibility"]
print(sys.argv[2] + ":", "MCD {mcd:.2f} dB, focus {focus:.2f}".format(**report["summary"]),
      "- " + heard["sentence"] if heard.get("scored") else "")' "$exp/samples/evaluate_$model.json" "$model"
  done
}

stage_report() {
  fresh_dir "$exp/report"
  python "$REPO_ROOT/recipes/common/make_report.py" --exp "$exp" --output "$exp/report" \
    --title="$recipe" --about="$about"
}

run_voice_stages() {
  # The bundled model reads phonemes: espeak-ng turns the transcripts into them (prepare, synthesize).
  ensure_debian_packages espeak-ng
  run_stage 1 "prepare features" --in "$metadata" --in "$symbols" \
    --out "$exp/prepared/prepared.json" \
    --sig "pretrained=$pretrained heldout=$heldout_metadata audio=$(content_signature "$wavs" "$reference_audio")" \
    -- stage_prepare
  run_stage 2 "symbol report" --in "$metadata" --in "$symbols" --out "$exp/symbols/compare.html" \
    --sig "pretrained=$pretrained" -- stage_symbols
  run_stage 3 "suggest the speaker to fold" --in "$exp/prepared/prepared.json" \
    --out "$exp/suggest/speakers.json" -- stage_speaker
  run_stage 4 "adapt (plan, then surgery)" --in "$exp/suggest/speakers.json" --in "$symbols" \
    --out "$exp/adapted" --out "$exp/adapt_plan.json" --sig "fold=$fold_speaker" -- stage_adapt
  run_stage 5 "verify the folded model" --in "$exp/adapted" --out "$exp/verify.json" -- stage_verify
  run_stage 6 "fine-tune ($steps steps)" --in "$exp/adapted" --in "$exp/prepared/prepared.json" \
    --out "$exp/finetune" --sig "steps=$steps" -- stage_finetune
  run_stage 7 "vocoder for this voice ($vocoder_steps steps)" --in "$exp/finetune" --in "$bundled_vocoder" \
    --out "$exp/vocoder" --sig "steps=$vocoder_steps" -- stage_vocoder
  run_stage 8 "samples before and after fine-tuning" --in "$exp/finetune" --in "$exp/vocoder" \
    --out "$exp/samples/texts.csv" --sig "samples=$samples eval=$eval_items heldout=$heldout_metadata" -- stage_samples
  run_stage 9 "report" --in "$exp/samples" --in "$exp/verify.json" --in "$exp/symbols/compare.html" \
    --in "$REPO_ROOT/recipes/common/make_report.py" --out "$exp/report/index.html" -- stage_report

  if ((stop_stage >= 9)) && [[ -e "$exp/report/index.html" ]]; then
    say "produced:"
    local path
    for path in report/index.html samples finetune vocoder adapted verify.json adapt_plan.txt symbols/compare.html \
                suggest/speakers.json prepared; do
      if [[ -e "$exp/$path" ]]; then echo "  $WORK_ROOT/$exp/$path" >&2; fi
    done
  fi
}
