"""The checker itself: a page broken on purpose fails, with a message naming the page and the element."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from tests.browser.page_checks import check_page

from tts_adapt.htmlpage import figure_image, page

SENTENCE = "please hold the line"


def good_body() -> str:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(3, 2))
    figure.subplots().plot([0, 1, 2], [1, 0, 1])
    return (f'<h2>Pictures</h2>{figure_image(figure, "A line that falls and rises again")}'
            f'<h2>Held-out sentences</h2><figure><figcaption>after fine-tuning</figcaption><audio controls '
            f'preload="metadata" src="line.wav" aria-label="after fine-tuning: {SENTENCE}"></audio></figure>'
            '<p><a href="line.wav">the audio</a></p>')


BREAKAGES = {  # what is done to the good page -> (the element named, the rule broken)
    "alt": (lambda body: body.replace('alt="A line that falls and rises again"', 'alt="chart"'),
            '<img> "chart" in "Pictures"', "no words for what it shows"),
    "missing audio": (lambda body: body.replace('src="line.wav"', 'src="gone.wav"'),
                      f'<audio> "after fine-tuning: {SENTENCE}" in "Held-out sentences"', "does not load"),
    "label": (lambda body: body.replace(f'aria-label="after fine-tuning: {SENTENCE}"', 'aria-label="audio"'),
              '<audio> "audio" in "Held-out sentences"', "not labelled with its sentence"),
    "link out": (lambda body: body.replace('href="line.wav"', 'href="../elsewhere/line.wav"'),
                 '<a> "../elsewhere/line.wav" in "Held-out sentences"', "points outside the copied folder"),
    "absolute path": (lambda body: body + "<p>written to /home/someone/exp/report</p>",
                      "text '/home/someone/exp/report'", "an absolute path"),
    "digits": (lambda body: body + "<p>loss 0.4123456789</p>", "text '0.4123456789'", "more than 4 decimals"),
    "key": (lambda body: body + "<p>heldout_minutes 3</p>", "text 'heldout_minutes'", "snake_case"),
    "wide": (lambda body: body + '<h2>Wide</h2><div style="width: 900px">a table too wide</div>',
             '<div> in "Wide"', "scrolls sideways"),
}


@pytest.fixture
def folder(tmp_path):
    t = np.arange(8000) / 16000
    sf.write(tmp_path / "line.wav", (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000)
    return tmp_path


def write(folder, body: str, verdict: str = "<p>It can be understood.</p>") -> object:
    path = folder / "page.html"
    path.write_text(page("A page", body, verdict=verdict), encoding="utf-8")
    return path


def test_a_good_page_passes(browser, folder):
    assert check_page(browser, write(folder, good_body()), folder, {"line.wav": SENTENCE}) == []
    assert (folder / "screenshots" / "page.png").stat().st_size > 1000


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_a_broken_page_names_the_page_and_the_element(browser, folder, breakage):
    change, element, rule = BREAKAGES[breakage]
    problems = check_page(browser, write(folder, change(good_body())), folder, {"line.wav": SENTENCE})
    expected = f"{folder.name}/page.html: {element}: "
    assert any(p.startswith(expected) and rule in p for p in problems), "\n".join(problems)


def test_a_verdict_below_the_first_screen_fails(browser, folder):
    problems = check_page(browser, write(folder, good_body(), verdict='<div style="height: 900px"></div>'), folder)
    assert any(p.startswith(f"{folder.name}/page.html: the verdict: ends ") for p in problems), problems
