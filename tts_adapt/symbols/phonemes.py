"""English text -> IPA phonemes with espeak-ng (through ``phonemizer``), for the ``phonemes`` cleaner.

Why: a small model trained for an hour on CPU cannot also learn English spelling ("though",
"through", "tough"); fed phonemes it only has to learn how each sound is spoken, and unseen
words cost it nothing. The output keeps word boundaries (one space), stress marks (``ˈ ˌ``) and
the punctuation that shapes prosody (``, . ; : ? !``), so a symbol table of single IPA
characters covers it and the rest of the toolkit (tables, remap, report) works unchanged.

espeak-ng is a Debian package (``espeak-ng``, which brings ``libespeak-ng1``); the backend is
loaded once per process and every result is cached, since a training run encodes each
transcript again at every start.
"""

from __future__ import annotations

import functools
import logging

from tts_adapt.errors import UserError

LANGUAGE = "en-us"
PUNCTUATION = ",.;:?!"  # kept as symbols; other marks (quotes, dashes) carry nothing spoken


@functools.lru_cache(maxsize=1)
def _backend():
    try:
        from phonemizer.backend import EspeakBackend
    except ImportError as error:  # pragma: no cover - a dependency of the package
        raise UserError("the phonemes cleaner needs the 'phonemizer' package (pip install phonemizer)") from error
    if not EspeakBackend.is_available():
        raise UserError("the phonemes cleaner needs espeak-ng: sudo apt-get install espeak-ng")
    quiet = logging.getLogger("tts_adapt.phonemes")
    quiet.setLevel(logging.ERROR)  # phonemizer warns about word-count mismatches on punctuation
    return EspeakBackend(LANGUAGE, preserve_punctuation=True, punctuation_marks=PUNCTUATION,
                         with_stress=True, logger=quiet)


@functools.lru_cache(maxsize=65536)
def to_phonemes(text: str) -> str:
    """``"He was swelled with pride."`` -> ``"hiː wʌz swˈɛld wɪð pɹˈaɪd."`` (en-us, stress marked)."""
    if not text.strip():
        return ""
    (phonemes,) = _backend().phonemize([text], strip=True)
    return " ".join(phonemes.split())
