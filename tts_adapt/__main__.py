import sys

from tts_adapt.cli.main import main

sys.exit(main())
