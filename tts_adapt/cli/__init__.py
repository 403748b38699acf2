"""The ``tts-adapt`` command: one thin module per subcommand (parse, call, render)."""
