"""Import TensorFlow without its start-up chatter on stderr.

TensorFlow 2.21 logs through absl before logging is configured, so
``TF_CPP_MIN_LOG_LEVEL`` cannot silence lines like "Could not find cuda drivers";
they would bury the one line a user needs. We point file descriptor 2 at a
temporary file during the import and the device probe, and replay it only if
the import fails.
"""

from __future__ import annotations

import os
import sys
import tempfile


def import_tensorflow_quietly() -> None:
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            import tensorflow

            tensorflow.config.list_physical_devices()  # device probing ("failed call to cuInit") happens here
        except BaseException:
            os.dup2(saved, 2)
            sink.seek(0)
            sys.stderr.write(sink.read().decode("utf-8", "replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
