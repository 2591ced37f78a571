"""The digest of an app's desired objects, for its compare signature.

The signature used to serialise the desired objects to sorted-key JSON on every compare
(a live event of any object of the app): about 5x the cost of pickling them. The
pickle here runs in *fast* mode (no memo), so its bytes depend on the values, their
exact types and dict order only, never on which objects are shared: equal bytes mean
equal objects with equal types (``True``, ``1`` and ``1.0`` stay apart, as in JSON),
hence equal JSON, hence (the rest of the signature equal) an equal comparison. Two
equal objects whose dicts are in another order digest differently: one more
comparison, never a wrong one. Anything pickle refuses (a cycle, an odd object) falls
back to the JSON it always was.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
from collections.abc import Sequence

from gitops_tui.engine.model import Manifest


def manifests_digest(desired: Sequence[Manifest]) -> str:
    """A digest of ``desired`` such that equal digests mean equal JSON of them."""
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=5)
    pickler.fast = True  # no memo: the bytes do not depend on shared objects
    try:
        pickler.dump(list(desired))
    except Exception:  # a cycle (refused as before, by JSON), an unpicklable value
        material = b"json:" + json.dumps(list(desired), sort_keys=True, default=str).encode()
    else:
        material = b"pickle:" + buf.getvalue()
    return hashlib.sha1(material, usedforsecurity=False).hexdigest()
