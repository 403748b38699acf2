"""The report page: the verdict first, then every stage in the order the recipe ran them."""

from __future__ import annotations

from pathlib import Path

from tts_adapt.fsutil import atomic_output_dir
from tts_adapt.htmlpage import esc, page
from tts_adapt.report import samples
from tts_adapt.report.curves import curves_section
from tts_adapt.report.pipeline import data_section, plan_section, speaker_section, symbols_section, verify_section
from tts_adapt.report.screenshot import take_screenshot
from tts_adapt.report.verdict import metrics_section, verdict_section

PAGE_NAME = "index.html"
SCREENSHOT = Path("screenshots") / "index.png"


def write_report(exp: Path, output: Path, title: str, about: str = "") -> tuple[Path, Path | None]:
    """The page (and, where Chromium is installed, a picture of its first screen) in the new folder ``output``.

    Everything the page shows is inside the folder, addressed relatively: it can be moved or zipped."""
    with atomic_output_dir(output, "--output") as out:
        sections = [
            ("Data", data_section(exp)),
            ("Symbol table: the voice's against the pretrained model's", symbols_section(exp, out)),
            ("Pretrained speakers ranked on this voice", speaker_section(exp)),
            ("Surgery plan", plan_section(exp)),
            ("Verify: the adapted model before fine-tuning", verify_section(exp)),
            ("Fine-tuning", curves_section(exp)),
            ("Before and after fine-tuning: objective metrics", metrics_section(exp)),
            ("Held-out sentences", samples.samples_section(exp, out)),
        ]
        body = (f"<p>{esc(about)}</p>" if about else "") + "".join(
            f"<h2>{esc(heading)}</h2>{content}" for heading, content in sections)
        (out / PAGE_NAME).write_text(page(f"Adapting the pretrained model to {title}", body,
                                          extra_style=samples.STYLE, verdict=verdict_section(exp)), encoding="utf-8")
        shot = take_screenshot(out / PAGE_NAME, out / SCREENSHOT)
    return output / PAGE_NAME, None if shot is None else output / SCREENSHOT
