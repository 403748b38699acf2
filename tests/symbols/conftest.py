"""Small tables and transcript files shared by the report tests."""

import pytest
from tests.symbols.symbols_testdata import NEW, OLD, write_lines


@pytest.fixture
def tables(tmp_path):
    return write_lines(tmp_path / "old.txt", OLD), write_lines(tmp_path / "new.txt", NEW)


@pytest.fixture
def ljspeech(tmp_path):
    """id|text|normalized_text: the last column is used (the raw one only where it is empty)."""
    return write_lines(tmp_path / "lj.csv", [
        "u1|IGNORED 1|Abc cab",
        "u2|Bee sea|",
        "u3|ignored|Shabby cab q",
        "u4|x|a q",
        "u5|x|qq",
        "u6|x|q",
        "u7|x|q",
        "u8|x|q x",
    ])


@pytest.fixture
def multispeaker(tmp_path):
    return write_lines(tmp_path / "ms.csv", [
        "wavs/s1_001.wav|alice|Abc cab",
        "wavs/s2_001.wav|bob|Bee sea",
        "wavs/s1_002.wav|alice|Shabby cab q",
    ])
