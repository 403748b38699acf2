"""``tts-adapt report``: one page that tells how the adaptation of a voice went, from its run documents."""
