"""What a person watching a log or a recipe's console sees while training runs."""

from __future__ import annotations

import io

from tts_adapt.training.reporting import Reporter

PARTS = {"loss": 1.0, "post_loss": 0.5, "attention_loss": 0.1}


def test_plain_lines_say_the_step_the_target_and_the_time_left():
    stream = io.StringIO()
    reporter = Reporter(stream=stream)  # a StringIO is no terminal: plain lines, as in a recipe log
    reporter.start(100, 700)
    reporter.update(101, PARTS, float("nan"))  # the first step is still tracing: no speed, no estimate yet
    reporter.update(110, PARTS, 2.0)
    reporter.update(640, PARTS, 2.0)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "training from step 100 to 700"
    assert lines[1] == "step 101/700: loss 1.000 (mel 0.500, att 0.100)"
    assert lines[2].endswith("2.00 steps/s, 4 min 55 s left") and lines[3].endswith(", 30 s left")
