"""Read a page the way a person does, in a real browser, and list what would stop them.

The page is opened from a copy of its folder (people share a report as a folder or a zip) in the
system's Chromium, driven by Playwright. Every problem is one line naming the page and the element:
``report/index.html: <img> in "Fine-tuning": no words for what it shows``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping
from urllib.parse import unquote, urlparse

import soundfile as sf

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
DURATION_TOLERANCE = 0.05  # seconds between a player's duration and its WAV's
ABSOLUTE_PATH = re.compile(r"(?:^|[\s(\"'=:,\[])(/(?:[\w.@+-]+/)+[\w.@+-]*|[A-Za-z]:\\[\w\\. -]+|file://\S+)")
LONG_DECIMAL = re.compile(r"\d+\.\d{5,}")
SNAKE_CASE = re.compile(r"\b[a-z]+(?:_[a-z][a-z0-9]*)+\b")
GENERIC_ALT = {"", "image", "picture", "chart", "plot", "figure", "graph", "png"}

# Where an element sits, in words: its tag, what names it, and the section heading above it.
DESCRIBE = """
e => {
  let heading = null;
  for (let node = e; node && !heading; node = node.parentElement) {
    for (let before = node.previousElementSibling; before && !heading; before = before.previousElementSibling) {
      if (/^H[1-3]$/.test(before.tagName)) heading = before;
    }
  }
  const name = e.getAttribute('aria-label') || e.getAttribute('alt') || e.getAttribute('href')
    || (e.getAttribute('src') || '').replace(/^data:([^;,]*).*/, 'data:$1') || e.id || e.className || '';
  const where = heading ? ` in "${heading.textContent.trim().slice(0, 60)}"` : '';
  return `<${e.tagName.toLowerCase()}>` + (name ? ` "${String(name).slice(0, 60)}"` : '') + where;
}
"""
IMAGES = f"els => els.map(e => ({{element: ({DESCRIBE})(e), alt: e.getAttribute('alt'), "\
         "loaded: e.complete && e.naturalWidth > 0}))"
LINKS = f"""els => els.map(e => ({{element: ({DESCRIBE})(e), url: e.href || e.src || '',
  raw: e.getAttribute('href') || e.getAttribute('src') || ''}}))"""
PLAYERS = f"""async els => Promise.all(els.map(async e => {{
  const element = ({DESCRIBE})(e);
  const label = e.getAttribute('aria-label') || (e.closest('figure') && e.closest('figure').innerText) || '';
  if (e.readyState < 1) {{
    e.preload = 'metadata';
    e.load();
    await new Promise(done => {{
      e.addEventListener('loadedmetadata', done, {{once: true}});
      e.addEventListener('error', done, {{once: true}});
      setTimeout(done, 5000);
    }});
  }}
  if (e.readyState < 1) return {{element, label, url: e.currentSrc, loaded: false}};
  const duration = e.duration;
  e.muted = true;
  let played = false;
  try {{
    await e.play();
    // the clock must move; on a loaded machine it can take longer than a fixed 150 ms to start
    const until = Date.now() + 3000;
    do {{ await new Promise(done => setTimeout(done, 50)); }} while (!(e.currentTime > 0 || e.ended) && Date.now() < until);
    played = e.currentTime > 0 || e.ended;
    e.pause();
  }} catch (error) {{ played = false; }}
  return {{element, label, url: e.currentSrc, loaded: true, duration, played}};
}}))"""
VISIBLE_TEXT = """() => {
  const style = document.createElement('style');
  style.textContent = 'code, pre, kbd, samp { display: none !important; }';  // identifiers are not labels
  document.head.appendChild(style);
  const text = document.body.innerText;
  style.remove();
  return text;
}"""
VERDICT = "() => { const v = document.querySelector('.verdict'); return v && v.getBoundingClientRect().bottom; }"
SIDEWAYS = f"""() => {{
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width + 1) return [];
  return [...document.body.querySelectorAll('*')]
    .filter(e => e.getBoundingClientRect().right > width + 1 && ![...e.children].some(
      c => c.getBoundingClientRect().right > width + 1))
    .slice(0, 3).map(e => ({DESCRIBE})(e));
}}"""


def check_page(browser, page_path: Path, root: Path, sentences: Mapping[str, str] | None = None,
               verdict: bool = True) -> list[str]:
    """Every problem of ``page_path`` (inside the copied folder ``root``), one line each; a screenshot of the
    first screen goes to ``root/screenshots/<page>.png``. ``sentences``: the sentence each audio file (by
    name) speaks, which its player's label must hold."""
    name = page_path.relative_to(root.parent).as_posix()
    problems: list[str] = []

    def problem(element: str, rule: str) -> None:
        problems.append(f"{name}: {element}: {rule}")

    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        page.on("console", lambda message: message.type == "error" and problem("console", message.text))
        page.on("pageerror", lambda error: problem("script", str(error)))
        page.on("requestfailed", lambda request: problem(f"request {request.url}", f"failed ({request.failure})"))
        page.goto(page_path.resolve().as_uri(), wait_until="load")
        for image in page.eval_on_selector_all("img", IMAGES):
            if not image["loaded"]:
                problem(image["element"], "not shown (it did not load)")
            if _generic(image["alt"]):
                problem(image["element"], "no words for what it shows (alt text)")
        for link in page.eval_on_selector_all("a[href], iframe[src], audio[src], source[src], img[src]", LINKS):
            where = _outside(link["url"], link["raw"], root, page)
            if where:
                problem(link["element"], where)
        for player in page.eval_on_selector_all("audio", PLAYERS):
            _check_player(player, sentences, problem)
        text = page.evaluate(VISIBLE_TEXT)
        for pattern, rule in ((ABSOLUTE_PATH, "an absolute path"), (LONG_DECIMAL, "a number with more than 4 "
                              "decimals"), (SNAKE_CASE, "a snake_case key where a label should be words")):
            for found in dict.fromkeys(m.group(m.lastindex or 0) for m in pattern.finditer(text)):
                problem(f"text {found!r}", f"shows {rule}")
        if verdict:
            bottom = page.evaluate(VERDICT)
            if bottom is None:
                problem("the verdict", "missing (no element of class 'verdict')")
            elif bottom > DESKTOP["height"]:
                problem("the verdict", f"ends {bottom:.0f} px down, below the first screen "
                                       f"({DESKTOP['width']} x {DESKTOP['height']})")
        shots = root / "screenshots"
        shots.mkdir(exist_ok=True)
        page.screenshot(path=str(shots / f"{page_path.stem}.png"))
        page.set_viewport_size(PHONE)
        for element in page.evaluate(SIDEWAYS):
            problem(element, f"wider than a phone's screen ({PHONE['width']} px): the page scrolls sideways")
    finally:
        context.close()
    return problems


def _generic(alt: str | None) -> bool:
    words = (alt or "").strip().lower()
    return words in GENERIC_ALT or len(words.split()) < 3 or bool(re.fullmatch(r"[\w.-]+\.(png|jpe?g|svg)", words))


def _outside(url: str, raw: str, root: Path, page) -> str:
    """Why a link or embedded file does not resolve inside the copied folder ("" when it does)."""
    if raw.startswith("data:"):
        return ""
    if raw.startswith("#"):
        return "" if page.query_selector(f"[id='{raw[1:]}']") else f"points to {raw}, which the page lacks"
    parsed = urlparse(url)
    if parsed.scheme != "file":
        return f"points outside the folder ({url})"
    target = Path(unquote(parsed.path))
    if not target.resolve().is_relative_to(root.resolve()):
        return f"points outside the copied folder ({raw})"
    return "" if target.exists() else f"points to {raw}, which is not in the folder"


def _check_player(player: dict, sentences: Mapping[str, str] | None, problem) -> None:
    element = player["element"]
    if not player["loaded"]:
        problem(element, "its audio does not load")
        return
    wav = Path(unquote(urlparse(player["url"]).path))
    expected = sf.info(wav).duration
    if abs(player["duration"] - expected) > DURATION_TOLERANCE:
        problem(element, f"lasts {player['duration']:.3f} s in the browser, its WAV {expected:.3f} s")
    if not player["played"]:
        problem(element, "does not play")
    label = " ".join(player["label"].split())
    sentence = (sentences or {}).get(wav.name)
    if sentence is not None and sentence not in label:
        problem(element, f"not labelled with its sentence {sentence!r}")
    elif len(label.split()) < 2:
        problem(element, "not labelled (no aria-label or caption that says what it speaks)")
