"""The Tacotron-2-style model (multi- or single-speaker) and the speaker layout it declares."""
