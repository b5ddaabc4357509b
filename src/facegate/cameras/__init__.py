"""Cameras: governed recognition on live video (docs/cameras.md).

``models`` holds the camera record and its source's redaction (pure data, read by
the policy gate); ``repository`` its SQL and the stream's state in the store;
``source`` reads a stream, device or file through PyAV with reconnection, a
decode-rate cap and newest-frame-wins; ``tracker``, ``shots`` and ``pipeline`` follow
faces across frames and choose one shot per track to decide on. The pipeline never
reaches the engine itself: the deployment hands it a detector and a decider bound to
a stream session's grants (:mod:`facegate.deployment.streams`).
"""
