"""Render the benchmark tables of docs/benchmarks.md from benchmarks/results/*.json.

Figures copied by hand drift from the runs they came from; here every table between
``<!-- tables:begin NAME.json -->`` and ``<!-- tables:end -->`` is the rendering of that
results file, written by the benchmark's own renderer. ``--check`` fails (exit 1) when the
page differs from what the results give, or when a results file has no table.

    .venv/bin/python benchmarks/tables.py [--check]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import beside  # noqa: E402  (the benchmarks are scripts beside this one)
import main_job  # noqa: E402
import pitch  # noqa: E402
import recogniser  # noqa: E402
import scoring_floor  # noqa: E402
import step_learning  # noqa: E402
import step_profile  # noqa: E402
import step_speedup  # noqa: E402
import synthesize_batch  # noqa: E402
import transfer  # noqa: E402
import vocoder  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
PAGE = REPO / "docs" / "benchmarks.md"
BLOCK = re.compile(r"(<!-- tables:begin (?P<name>[\w.-]+\.json) -->\n).*?(<!-- tables:end -->)", re.DOTALL)


SETTINGS = {"one": "one device", "mirrored": "mirrored over {replicas} devices",
            "two_workers": "two workers on 127.0.0.1"}


def throughput_markdown(result: dict) -> str:
    """train_throughput.py's results: each setting beside one device."""
    base = next(r for r in result["results"] if r["mode"] == "one")
    lines = [f"`{result['preset']}` preset, global batch {result['batch_size']}, {result['precision']}, "
             f"{result['steps']} timed steps, {result['cpu_count']} CPUs.", "",
             "| setting | replicas | steps/s | samples/s | vs one device |", "|---|---|---|---|---|"]
    for row in result["results"]:
        lines.append(f"| {SETTINGS[row['mode']].format(**row)} | {row['replicas']} | {row['steps_per_s']:.2f} | "
                     f"{row['samples_per_s']:.0f} | {row['samples_per_s'] / base['samples_per_s']:.2f} |")
    return "\n".join(lines)


RENDERERS = {"transfer": transfer.markdown, "vocoder": vocoder.markdown, "train_throughput": throughput_markdown,
             "synthesize_batch": synthesize_batch.markdown, "step_profile": step_profile.markdown,
             "step_speedup": step_speedup.markdown, "step_learning": step_learning.markdown,
             "step_profile_after": step_profile.markdown, "main_job": main_job.markdown, "beside": beside.markdown,
             "pitch": pitch.markdown, "recogniser": recogniser.markdown,
             "scoring_floor": scoring_floor.markdown}


def table(name: str) -> str:
    """One results file as markdown, by its benchmark's renderer: another run of a benchmark is named
    after it with a suffix (transfer_seed1, step_learning_600, main_job_whole)."""
    benchmark = Path(name).stem
    while benchmark not in RENDERERS and "_" in benchmark:
        benchmark = benchmark.rsplit("_", 1)[0]
    return RENDERERS[benchmark](json.loads((RESULTS / name).read_text(encoding="utf-8")))


def render(page: str) -> str:
    return BLOCK.sub(lambda m: f"{m.group(1)}{table(m.group('name'))}\n{m.group(3)}", page)


def untabled(page: str) -> list[str]:
    """Results files the page shows no table of."""
    shown = {m.group("name") for m in BLOCK.finditer(page)}
    return sorted(path.name for path in RESULTS.glob("*.json") if path.name not in shown)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if the page is out of date")
    args = parser.parse_args(argv)
    page = PAGE.read_text(encoding="utf-8")
    missing = untabled(page)
    if missing:
        print(f"{PAGE.relative_to(REPO)} has no table of {', '.join(missing)}", file=sys.stderr)
        return 1
    rendered = render(page)
    if rendered == page:
        return 0
    if args.check:
        print(f"{PAGE.relative_to(REPO)} is out of date: run benchmarks/tables.py", file=sys.stderr)
        return 1
    PAGE.write_text(rendered, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
