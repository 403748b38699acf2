"""tts-adapt: turn a multi-speaker Tacotron checkpoint into a single-speaker starting point."""

__version__ = "0.1.0"
