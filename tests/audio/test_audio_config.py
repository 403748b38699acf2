"""AudioConfig: round trips, validation, and which changes invalidate a feature cache."""

from __future__ import annotations

import pytest

from tts_adapt.audio.config import AudioConfig, load_audio_config
from tts_adapt.errors import UserError


def test_dict_round_trip():
    cfg = AudioConfig(sample_rate=22050, fmax=8000.0, n_mels=64)
    assert AudioConfig.from_dict(cfg.to_dict()) == cfg


def test_unknown_keys_are_named():
    with pytest.raises(UserError, match="hop_lenght"):
        AudioConfig.from_dict({"hop_lenght": 256})


@pytest.mark.parametrize("bad", [{"fmax": 9000.0}, {"win_length": 2048}, {"hop_length": 0},
                                 {"target_dbfs": 0.0}, {"sample_rate": 16000.5}, {"n_mels": "80"}])
def test_invalid_values_are_refused(bad):
    with pytest.raises(UserError, match="audio config"):
        AudioConfig.from_dict(bad)


def test_only_feature_settings_change_the_fingerprint():
    base = AudioConfig()
    assert AudioConfig(griffin_lim_iters=10, power=1.2).feature_fingerprint() == base.feature_fingerprint()
    assert AudioConfig(fmin=40.0).feature_fingerprint() != base.feature_fingerprint()
    assert AudioConfig(target_dbfs=-20.0).feature_fingerprint() != base.feature_fingerprint()


def test_yaml_audio_section_flat_keys_and_other_sections(tmp_path):
    section = tmp_path / "a.yaml"
    section.write_text("model: {dim: 8}\naudio:\n  n_mels: 40\n  hop_length: 160\n")
    assert load_audio_config(section) == AudioConfig(n_mels=40, hop_length=160)
    flat = tmp_path / "b.yaml"
    flat.write_text("sample_rate: 22050\nfmax: 8000\n")
    assert load_audio_config(flat) == AudioConfig(sample_rate=22050, fmax=8000.0)
    other = tmp_path / "c.yaml"
    other.write_text("training: {steps: 10}\n")
    assert load_audio_config(other) == AudioConfig()
    assert load_audio_config(None) == AudioConfig()


def test_yaml_errors_name_the_file(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("audio: [unclosed\n")
    with pytest.raises(UserError, match="broken.yaml"):
        load_audio_config(broken)
    typo = tmp_path / "typo.yaml"
    typo.write_text("audio:\n  nmels: 40\n")
    with pytest.raises(UserError, match="typo.yaml.*nmels"):
        load_audio_config(typo)
    with pytest.raises(UserError, match="no such"):
        load_audio_config(tmp_path / "absent.yaml")
