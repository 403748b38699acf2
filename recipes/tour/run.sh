#!/usr/bin/env bash
# A one-minute tour of the surgery on a checkpoint from "another codebase" (TF1, no manifest).
#
# Usage: recipes/tour/run.sh [--stage N] [--stop-stage M] [--force true]
#
#   0 data      a small TF1 multi-speaker checkpoint (Saver + Adam) and two symbol tables -> exp/tour/data
#   1 inspect   its variables and slots; --diff against a single-speaker one proposes a layout
#   2 report    the symbol-table report (old table vs the new voice's)               -> exp/tour/symbols.html
#   3 adapt     the plan (dry run, saved), then the adapted checkpoint with speaker 2 folded
#   4 check     the adapted model computes exactly what the source did for speaker 2

recipe=tour
. "$(dirname "$0")/../common/stages.sh"
. "$REPO_ROOT/recipes/common/env.sh"
parse_options "$@"
ensure_venv

exp=exp/$recipe
data=$exp/data

stage_0() { python "$RECIPE_DIR/local/make_checkpoints.py" "$data"; }
run_stage 0 "Build a TF1 multi-speaker checkpoint" --in "$RECIPE_DIR/local/make_checkpoints.py" \
  --out "$data/multi/checkpoint" -- stage_0

stage_1() {
  tts-adapt inspect "$data/multi"
  tts-adapt inspect "$data/multi" --diff "$data/single" > "$exp/layout.proposed.yaml"
  # The memory layer has no bias: its speaker constant folds into the attention bias (the next one it reaches).
  sed 's|    # fold_into: NAME .*|    fold_into: Tacotron_model/inference/decoder/attention_bias|' \
    "$exp/layout.proposed.yaml" > "$exp/layout.yaml"
  cat "$exp/layout.yaml"
}
run_stage 1 "Inspect, and propose a layout" --in "$data/multi/checkpoint" --out "$exp/layout.yaml" -- stage_1

stage_2() {
  tts-adapt symbols compare "$data/old_symbols.txt" "$data/new_symbols.txt"
  tts-adapt symbols compare "$data/old_symbols.txt" "$data/new_symbols.txt" --format html --output "$exp/symbols.html"
}
run_stage 2 "Symbol report" --in "$data/new_symbols.txt" --out "$exp/symbols.html" -- stage_2

stage_3() {
  local args=("$data/multi" --source-symbols "$data/old_symbols.txt" --layout "$exp/layout.yaml"
              --symbols "$data/new_symbols.txt" --fold-speaker 2)
  fresh_dir "$exp/adapted"
  rmdir "$exp/adapted" 2>/dev/null || true
  tts-adapt adapt "${args[@]}" --output "$exp/adapted" --dry-run --format json > "$exp/plan.json"
  tts-adapt adapt "${args[@]}" --output "$exp/adapted"
}
run_stage 3 "Adapt (plan, then apply)" --in "$exp/layout.yaml" --out "$exp/adapted/manifest.json" -- stage_3

stage_4() { python "$RECIPE_DIR/local/check_fold.py" "$exp" | tee "$exp/check.json"; }
run_stage 4 "Check the fold numerically" --in "$exp/adapted/manifest.json" --out "$exp/check.json" -- stage_4

finish_recipe
echo "produced: $exp/check.json (fold check), $exp/plan.json (the plan), $exp/symbols.html (symbol report),"
echo "          $exp/adapted (the adapted TF1 checkpoint + manifest.json)"
