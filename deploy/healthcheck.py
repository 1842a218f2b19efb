"""Docker's HEALTHCHECK: exit 0 when gunicorn answers /healthz with 200 (database and Redis up).

The standard library only: the runtime image has no curl.
"""

import os
import sys
import urllib.request

port = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").rsplit(":", 1)[-1]
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=4) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception as error:  # refused, timed out, or a 503 (raised by urlopen)
    print(f"unhealthy: {error}", file=sys.stderr)
    sys.exit(1)
