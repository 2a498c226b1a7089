"""Every Ray these tests start or join runs without token authentication.

A process keeps the authentication mode of its first ``ray.init``: a local Ray started
with tokens, then a cluster started without them (``test_cluster.py``), would leave the
cluster's workers unable to report to this driver.
"""

import os

os.environ["RAY_AUTH_MODE"] = "disabled"
