"""Where the main job's minutes go: each stage's time and share of a recipe run, read from the run itself.

``run_stage`` (recipes/common/stages.sh) adds a line to ``exp/<recipe>/stages.tsv`` as each stage
finishes (wall and CPU seconds, and the machine's load average then); a stage without one (a run from
before that file, or one copied from it) is timed from its log's ``# started`` line to its stamp, wall
time only. On a busy machine the CPU seconds compare two runs better than the wall time. Goal (issue 24):
samples and scoring (stages 8 and 9 of a voice recipe, recipes/common/voice_stages.sh) take at most
15 % of the fine-tuning stage's time (stage 6).

Several runs side by side (``--run LABEL=EXP``, e.g. today's code and a change, each rerun from a copy
of one exp/ folder with ``--stage 8``) give each stage's ratio to the first run's: machines differ by up
to 2x, so only a ratio measured on one machine at one time compares two versions.

    .venv/bin/python benchmarks/main_job.py --run today=/tmp/today/exp/allison --run cached=/tmp/new/exp/allison \\
        [--note "how the runs were made"] [--json benchmarks/results/main_job.json]

With ``--whole-job`` (each run made every stage from an empty exp/) it also compares the whole jobs:
issue 24's goals are the job without the vocoder stage at <= 0.5x the first run's without it, and
with it at <= 0.8x.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
from datetime import datetime, timezone
from pathlib import Path

FINE_TUNING = 6
VOCODER = 7  # issue 16's stage, added after the job issue 24 measured
GOALS = {"without": 0.5, "with": 0.8}  # the whole job against the first run's without the vocoder (issue 24)
SAMPLES_AND_SCORES = (8, 9)  # before fine-tuning (beside stages 6-7 since issue 24), after it
REPORT = 10  # stage 9 before issue 24, when samples and scores were one stage (8)
GOAL_SHARE = 0.15
TABLE = "stages.tsv"


def stage_times(exp: Path) -> list[dict]:
    """Each finished stage of the run in ``exp``: its number, title, seconds, when it finished (epoch seconds),
    whether it ran beside the others, its load average and where that came from."""
    times = {row["stage"]: row for row in _from_logs(exp)}
    times.update({row["stage"]: row for row in _from_table(exp / TABLE)})  # a later line of a stage wins
    return [times[stage] | {"stage": _today_number(times[stage])} for stage in sorted(times)]


def _today_number(row: dict) -> int:
    """The stage's number in today's recipe: the report is known by its title (it was stage 9)."""
    return REPORT if row["title"].startswith("report") else row["stage"]


def _epoch(stamp: str) -> float:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def _from_table(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    header, *lines = path.read_text(encoding="utf-8").splitlines()
    rows = []
    for line in lines:
        row = dict(zip(header.split("\t"), line.split("\t")))
        rows.append({"stage": int(row["stage"]), "title": row["title"], "seconds": float(row["seconds"]),
                     "cpu_seconds": float(row["cpu_seconds"]), "load": float(row["load"]), "source": TABLE,
                     "finished": _epoch(row["finished"]), "beside": row.get("beside") == "yes"})
    return rows


def _from_logs(exp: Path) -> list[dict]:
    rows = []
    for log in sorted((exp / "logs").glob("stage*.log")):
        stamp = exp / "stamps" / f"{log.stem}.done"
        head = log.read_text(encoding="utf-8", errors="replace").splitlines()[:2]
        title = re.match(r"# stage (\d+): (.*)", head[0]) if head else None
        started = re.match(r"# started (\S+)", head[1]) if len(head) > 1 else None
        if not (title and started and stamp.is_file()):
            continue  # a stage that failed, or a log in another form
        finished = stamp.stat().st_mtime
        rows.append({"stage": int(title.group(1)), "title": title.group(2), "cpu_seconds": None, "load": None,
                     "source": "log", "seconds": max(0.0, finished - _epoch(started.group(1))),
                     "finished": finished, "beside": False})
    return rows


def versions(runs: list[dict]) -> list[dict]:
    """Runs grouped by label (the rounds of one version): each stage's median over the rounds, and the median
    of each round's :func:`summary`."""
    labels = list(dict.fromkeys(run["label"] for run in runs))
    grouped = []
    for label in labels:
        rounds = [run for run in runs if run["label"] == label]
        numbers = sorted({row["stage"] for run in rounds for row in run["stages"]})
        stages = {number: _median_stage([row for run in rounds for row in run["stages"] if row["stage"] == number])
                  for number in numbers}
        if all("finished" in row for run in rounds for row in run["stages"]):
            summaries = [summary({row["stage"]: row for row in run["stages"]}) for run in rounds]
            totals = {key: _median([one[key] for one in summaries]) for key in summaries[0]}
        else:  # results kept before the runs' times of day were: one stage after another, medians summed
            totals = summary(stages)
        grouped.append({"label": label, "rounds": len(rounds), "stages": stages, **totals})
    return grouped


def _median(values: list) -> float | None:
    return None if None in values else statistics.median(values)


def _median_stage(rows: list[dict]) -> dict:
    walls = [row["seconds"] for row in rows]
    cpus = [row["cpu_seconds"] for row in rows if row["cpu_seconds"] is not None]
    return {"title": rows[0]["title"], "seconds": statistics.median(walls), "low": min(walls), "high": max(walls),
            "cpu_seconds": statistics.median(cpus) if len(cpus) == len(rows) else None,
            "from_log": any(row["source"] == "log" for row in rows),
            "beside": any(row.get("beside", False) for row in rows)}


def summary(stages: dict[int, dict]) -> dict:
    """One run's total seconds, and samples + scoring against fine-tuning (None where the run lacks either).

    A stage beside the others overlaps their time, so the total is the run's span: from the first stage's
    start to the last one's end. Samples and scoring count what they added to it: the span less every
    other stage's time (for a stage beside, the time the recipe waited for it); their CPU time is shown
    against fine-tuning's as well, as the work they did wherever it ran.
    """
    rows = list(stages.values())
    if all("finished" in row for row in rows):
        total = max(row["finished"] for row in rows) - min(row["finished"] - row["seconds"] for row in rows)
    else:  # results recorded before the runs' times of day were kept: one stage after another
        total = sum(row["seconds"] for row in rows)
    without_vocoder = total - stages[VOCODER]["seconds"] if VOCODER in stages else total
    tuning = stages.get(FINE_TUNING)
    scored = [stages[number] for number in SAMPLES_AND_SCORES if number in stages]
    others = sum(row["seconds"] for number, row in stages.items() if number not in SAMPLES_AND_SCORES
                 and not row.get("beside"))
    samples_and_scores = max(0.0, total - others) if scored else None
    cpus = [row["cpu_seconds"] for row in scored]
    cpu = sum(cpus) if scored and None not in cpus else None
    return {"total_s": total, "without_vocoder_s": without_vocoder,
            "fine_tuning_s": tuning["seconds"] if tuning else None, "samples_and_scores_s": samples_and_scores,
            "samples_and_scores_per_fine_tuning": (samples_and_scores / tuning["seconds"]
                                                   if samples_and_scores is not None and tuning else None),
            "samples_and_scores_cpu_per_fine_tuning": (cpu / tuning["cpu_seconds"]
                                                       if cpu is not None and tuning and tuning["cpu_seconds"]
                                                       else None)}


def markdown(result: dict) -> str:
    """The runs as markdown (docs/benchmarks.md renders the committed JSON with this)."""
    grouped = versions(result["runs"])
    first = grouped[0]
    numbers = sorted({number for version in grouped for number in version["stages"]})
    header = ["stage", "what", *(f"{v['label']} ({v['rounds']} {'run' if v['rounds'] == 1 else 'runs'})"
                                 for v in grouped),
              *(f"{v['label']} / {first['label']}" for v in grouped[1:])]
    lines = [f"{result['cpu_count']} CPUs. {result['note']}".strip(), "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for number in numbers:
        cells = [version["stages"].get(number) for version in grouped]
        title = next(cell["title"] for cell in cells if cell)
        shown = [_seconds(cell, version["total_s"]) if cell else "-" for cell, version in zip(cells, grouped)]
        ratios = [_ratio(cell, cells[0]) for cell in cells[1:]]
        lines.append(f"| {number} | {title} | " + " | ".join(shown + ratios) + " |")
    lines.append("")
    for version in grouped:
        if version["samples_and_scores_per_fine_tuning"] is None:
            continue
        cpu = version["samples_and_scores_cpu_per_fine_tuning"] if result.get("cpu_counts_workers") else None
        lines.append(f"- {version['label']}: samples and scoring (stages {'+'.join(map(str, SAMPLES_AND_SCORES))}) "
                     f"added {version['samples_and_scores_s']:.0f} s to the job, "
                     f"**{version['samples_and_scores_per_fine_tuning']:.0%}** of fine-tuning's time "
                     f"(stage {FINE_TUNING}: {version['fine_tuning_s']:.0f} s); goal <= {GOAL_SHARE:.0%}"
                     + _against_first(version, first)
                     + (f"; their CPU time {cpu:.0%} of fine-tuning's" if cpu is not None else "") + ".")
    for version in grouped if result.get("whole_job") else ():
        line = (f"- {version['label']}: the whole job {_minutes(version['total_s'])}, "
                f"{_minutes(version['without_vocoder_s'])} without the vocoder (stage {VOCODER})")
        if version is not first:
            base = first["without_vocoder_s"]
            line += (f": **{version['without_vocoder_s'] / base:.2f}x** {first['label']}'s without it "
                     f"(goal <= {GOALS['without']}), **{version['total_s'] / base:.2f}x** with it "
                     f"(goal <= {GOALS['with']})")
        lines.append(line + ".")
    lines.append("")
    lines.append("Each cell: the median wall time over the runs [their range], CPU seconds (user + system of every "
                 "process of the stage) where stages.tsv recorded them, and the share of the run's time. Seconds "
                 "marked * come from a stage's log and stamp (a run before stages.tsv: wall time only); marked "
                 "'beside', a stage that ran beside the others (its time overlaps theirs). The whole job is a "
                 "run's span, first stage's start to last stage's end.")
    return "\n".join(lines)


def _against_first(version: dict, first: dict) -> str:
    """Samples and scoring against the first version's, whatever their stages were then."""
    if version is first or not first["samples_and_scores_s"]:
        return ""
    return f"; {version['samples_and_scores_s'] / first['samples_and_scores_s']:.2f}x {first['label']}'s"


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {seconds % 60:02.0f} s"


def _seconds(stage: dict, total: float) -> str:
    spread = f" [{stage['low']:.0f}-{stage['high']:.0f}]" if stage["high"] > stage["low"] else ""
    cpu = f", CPU {stage['cpu_seconds']:.0f} s" if stage["cpu_seconds"] is not None else ""
    share = "beside" if stage["beside"] else f"{stage['seconds'] / total:.0%}"
    return f"{stage['seconds']:.0f} s{'*' if stage['from_log'] else ''}{spread}{cpu} ({share})"


def _ratio(stage: dict | None, first: dict | None) -> str:
    """Median wall time over the first version's, and CPU time where both measured it."""
    if not (stage and first and first["seconds"]):
        return "-"
    cpu = (f" (CPU {stage['cpu_seconds'] / first['cpu_seconds']:.2f})"
           if stage["cpu_seconds"] and first["cpu_seconds"] else "")
    return f"{stage['seconds'] / first['seconds']:.2f}{cpu}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", action="append", required=True, metavar="LABEL=EXP",
                        help="a recipe's exp folder (exp/allison) under a label; runs under one label are rounds of "
                             "one version (their median counts); the first label is the one compared with")
    parser.add_argument("--note", default="", help="how the runs were made, for the page")
    parser.add_argument("--whole-job", action="store_true",
                        help="every run made every stage from an empty exp/: compare the whole jobs' times too")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()

    runs = []
    for text in args.run:
        label, _, folder = text.partition("=")
        if not label or not Path(folder).is_dir():
            raise SystemExit(f"--run {text!r}: expected LABEL=EXP with EXP a recipe's exp folder")
        runs.append({"label": label, "exp": folder, "stages": stage_times(Path(folder))})
    # cpu_counts_workers: stages.tsv's CPU seconds include the hearing workers' (a pool now reaps its
    # forkserver); results from before counted only the evaluate processes.
    result = {"cpu_count": os.cpu_count(), "note": args.note, "goal_share": GOAL_SHARE, "whole_job": args.whole_job,
              "cpu_counts_workers": True, "runs": runs}
    print(markdown(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
